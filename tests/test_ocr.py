"""How a scanned page is prepared for Tesseract: the resolution it is read at, and when its
orientation is asked. Real Tesseract, real PDFs made by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from foiarchive.ingest import ocr, pdf, tasks
from foiarchive.ingest.limits import Limits
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
