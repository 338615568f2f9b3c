"""Reading order of sheets printed several pages to a side (ingest.reading_order), on a
generated condensed transcript read by the real Tesseract, and on word layouts alone."""

from __future__ import annotations

import difflib
import random

from foiarchive.ingest import ocr
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.reading_order import Word, reading_order
from foiarchive.ingest.sample import condensed_transcript


def test_a_condensed_transcript_reads_page_by_page() -> None:
    """Tesseract joins lines at the same height across the panels (page 1's line 1, then page
    3's); the text must follow the pages: 1, 2, 3, 4, each line after the one before."""
    sheet, truth = condensed_transcript(
        random.Random(4), caption="IN RE DETENTION RECORDS", lines=12
    )
    result = ocr.ocr_image(
        sheet, ocr.OcrSettings(tesseract_version=ocr.tesseract_version()), dpi=300, limits=Limits()
    )
    lines = [line for line in result.text.splitlines() if line.strip()]
    headers = [n for n, line in enumerate(lines) if line.startswith("Page ")]
    assert [lines[n] for n in headers] == ["Page 1", "Page 2", "Page 3", "Page 4"]
    assert lines[0] == "IN RE DETENTION RECORDS"
    for start, end in zip(headers, [*headers[1:], len(lines)], strict=True):
        numbers = [
            int(n) for n, *_ in (line.split() for line in lines[start + 1 : end]) if n.isdigit()
        ]
        assert len(numbers) >= 10 and numbers == sorted(set(numbers)), numbers
    # and reads like the sheet: the text as a whole, in order, is close to what is printed
    similarity = difflib.SequenceMatcher(None, "\n".join(lines), "\n".join(truth)).ratio()
    assert similarity > 0.9, similarity
    # the words' boxes follow the text's order: the viewer outlines the right word
    assert [t for w in result.words for t in w.text.split()] == " ".join(lines).split()


def _grid(columns: int, rows: int, *, numbered: bool) -> list[Word]:
    """Words laid out in a grid of panels of 20 lines each."""
    words = []
    for column in range(columns):
        for row in range(rows):
            for line in range(20):
                y = 0.05 + row * 0.47 + line * 0.02
                x = 0.05 + column * 0.47
                key = (row * 100 + line,)  # Tesseract's lines run across the panels
                if numbered:
                    words.append(Word(str(line + 1), (x, y, x + 0.02, y + 0.01), key))
                words.append(Word("testimony", (x + 0.04, y, x + 0.3, y + 0.01), key))
    return words


def test_numbered_panels_are_read_down_each_column() -> None:
    groups = reading_order(_grid(2, 2, numbered=True))
    assert groups is not None and len(groups) == 4
    assert [round(g[0].box[0], 2) for g in groups] == [0.05, 0.05, 0.52, 0.52]
    assert [round(g[0].box[1], 2) for g in groups] == [0.05, 0.52, 0.05, 0.52]


def test_column_groups_without_line_numbers_keep_tesseract_order() -> None:
    """A form or a table with two column groups is read across, as Tesseract does."""
    assert reading_order(_grid(2, 2, numbered=False)) is None
    assert reading_order(_grid(1, 1, numbered=True)) is None  # one page: nothing to order
