"""How a scanned page is prepared for Tesseract: the resolution it is read at, and when its
orientation is asked. Real Tesseract, real PDFs made by the tests."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from foiarchive.ingest import ocr, pdf, tasks
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.programs import tesseract
from foiarchive.ingest.sample import render_scan, save_scanned_pdf

LINES = ["The detainer was lodged with the county jail on", "the morning of March 3, 2017."]


@pytest.mark.parametrize(("scan_dpi", "read_at"), [(200, 200), (240, 240), (150, 300), (300, 300)])
def test_a_scan_is_read_at_its_own_resolution_from_200_dpi(
    tmp_path: Path, scan_dpi: int, read_at: int
) -> None:
    page = render_scan(LINES, dpi=scan_dpi)
    path = tmp_path / f"scan-{scan_dpi}.pdf"
    save_scanned_pdf(path, [page], dpi=scan_dpi)
    image, dpi = pdf.render_page(
        path, 1, ocr.TARGET_DPI, Limits(), native_from=ocr.UPSCALE_BELOW_DPI
    )
    assert dpi == read_at
    if read_at == scan_dpi:
        assert abs(image.width - page.width) <= 1 and abs(image.height - page.height) <= 1
    # Without native_from every page is rendered at the dpi asked for.
    assert pdf.render_page(path, 1, ocr.TARGET_DPI, Limits())[1] == ocr.TARGET_DPI


def test_a_page_read_at_its_own_resolution_reads_the_same_words(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    save_scanned_pdf(path, [render_scan(LINES, dpi=200, seed=1)], dpi=200)
    result = tasks.ocr_pdf_page(path, 1, ocr.OcrSettings(), Limits())
    assert "detainer was lodged with the county jail" in result.text
    assert result.width < 2000  # the scan's 200 dpi, not a 300 dpi render (2550 wide)


def test_a_page_of_one_letter_lines_is_not_asked_its_orientation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An e-mail body printed a letter a line reads as a few garbled words with low confidence,
    like a turned page, but its letters stand upright: asking Tesseract's orientation costs as
    much as reading it and never turns it."""
    letters = [c for c in "This e-mail and any attachments are confidential" if c != " "]
    asked: list[Any] = []
    real = ocr._orientation

    def orientation(*args: Any, **kwargs: Any) -> int:
        asked.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ocr, "_orientation", orientation)
    result = ocr.ocr_image(render_scan(letters, dpi=200, seed=3), ocr.OcrSettings(), dpi=200,
                           limits=Limits())  # fmt: skip
    assert (result.confidence or 0) < ocr.WEAK_CONFIDENCE  # weak, as a turned page would be
    assert asked == []
    assert result.rotation == 0


def test_word_boxes_of_a_straightened_page_lie_on_the_page_as_scanned() -> None:
    """A page tilted 2.5 degrees is straightened for Tesseract; the boxes it reads there are
    turned back, so each covers its word on the scan (where raw Tesseract, reading the tilted
    scan as it is, puts it): a hit's highlight and a box's label use these boxes."""
    lines = [
        "Deportation officers should prioritize cases involving",
        "individuals convicted of serious offenses in the district",
        "and coordinate with the field office before any transfer.",
    ] * 8
    scan = render_scan(lines, dpi=300, skew=2.5, seed=4)
    result = ocr.ocr_image(scan, ocr.OcrSettings(), dpi=300, limits=Limits())
    assert abs(result.skew) >= 1.0
    raw = tesseract.image_to_data(_saved(scan), languages="eng", psm=3, dpi=300, timeout=60)
    width, height = scan.size
    truth: dict[str, list[tuple[float, float]]] = {}
    for i, text in enumerate(raw["text"]):
        if len(text) >= 8 and float(raw["conf"][i]) > 80:
            middle = (raw["left"][i] + raw["width"][i] / 2, raw["top"][i] + raw["height"][i] / 2)
            truth.setdefault(text, []).append((middle[0] / width, middle[1] / height))
    compared = 0
    for word in result.words:
        if word.text not in truth:
            continue
        x, y = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
        # within a third of a line (12 px at 300 dpi) of the nearest same word on the scan
        assert min(abs(x - tx) * width + abs(y - ty) * height for tx, ty in truth[word.text]) < 12
        compared += 1
    assert compared >= 20


def _saved(image: Any) -> Path:
    path = Path(tempfile.mkdtemp(prefix="foiarchive-test-")) / "scan.png"
    image.save(path)
    return path


def test_a_scan_of_two_layers_is_read_at_its_finer_resolution(tmp_path: Path) -> None:
    """A compressed scan (a coarse background under a fine text mask) is rendered at the
    mask's resolution, not the first image's."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    page = document.new_page(612, 792)
    for dpi in (150, 240):
        picture = render_scan(LINES, dpi=dpi).convert("RGB")
        image = pdfium.PdfImage.new(document)
        bitmap = pdfium.PdfBitmap.from_pil(picture)
        image.set_bitmap(bitmap)
        image.set_matrix(pdfium.PdfMatrix().scale(612, 792))
        page.insert_obj(image)
    page.gen_content()
    path = tmp_path / "layers.pdf"
    document.save(path)
    with pdf.open_pdf(path) as opened:
        assert round(pdf.scan_resolution(opened[0]) or 0) == 240
