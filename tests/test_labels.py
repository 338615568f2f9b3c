"""The exemption label of a redaction box (ingest.labels), read with the real Tesseract.

The page's OCR is given as words (what Tesseract's page pass returned); the second look is
made only where that pass left ink unread or read a doubtful scrap.
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw, ImageFont

from foiarchive.ingest import labels
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.ocr import OcrWord

WIDTH, HEIGHT = 2550, 3300  # a letter page at 300 dpi
BOX = (400, 1000, 1400, 1060)
CODE_AT = (2250, 1005)  # the right margin, beside the box, as FBI releases print codes


def _page(code: str) -> Image.Image:
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle(BOX, outline=0, width=5)
    font = ImageFont.truetype("DejaVuSansMono-Bold.ttf", 40)
    draw.text(CODE_AT, code, font=font, fill=0)
    return image


def _redaction() -> dict[str, Any]:
    x0, y0, x1, y1 = BOX
    return {"box": [x0 / WIDTH, y0 / HEIGHT, x1 / WIDTH, y1 / HEIGHT], "kind": "outlined"}


def _word(text: str, confidence: float, x0: int, y0: int, x1: int, y1: int) -> OcrWord:
    return OcrWord(text, confidence, (x0 / WIDTH, y0 / HEIGHT, x1 / WIDTH, y1 / HEIGHT))


def _label(image: Image.Image, words: list[OcrWord]) -> str | None:
    redaction = _redaction()
    labels.label_boxes(image, [redaction], words, languages="eng", dpi=300, limits=Limits())
    return redaction.get("label")


def test_a_margin_code_the_page_ocr_dropped_is_read_again() -> None:
    assert _label(_page("b7C -1"), []) == "b7C"


def test_a_code_the_page_ocr_garbled_is_read_again() -> None:
    garbled = _word("P70", 24.0, CODE_AT[0], CODE_AT[1], CODE_AT[0] + 80, CODE_AT[1] + 45)
    assert _label(_page("b7D"), [garbled]) == "b7D"


def test_a_code_the_page_ocr_read_is_taken_from_its_words() -> None:
    read = _word("(b)(6)", 91.0, CODE_AT[0], CODE_AT[1], CODE_AT[0] + 200, CODE_AT[1] + 45)
    # The image says b7C: had the margin been read again, the label would say so.
    assert _label(_page("b7C"), [read]) == "(b)(6)"


def test_words_read_with_confidence_get_no_second_look() -> None:
    """Text the page's OCR read well is not read again: no label is invented from it."""
    read = _word("received", 95.0, CODE_AT[0], CODE_AT[1], CODE_AT[0] + 220, CODE_AT[1] + 45)
    assert _label(_page("b7C"), [read]) is None
