"""Files are identified by content, not by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from foiarchive.ingest.errors import UnsupportedFile
from foiarchive.ingest.identify import XLSX, identify
from foiarchive.ingest.sample import write_text_pdf


def test_pdf_png_jpeg_tiff_by_magic(tmp_path: Path) -> None:
    write_text_pdf(tmp_path / "x.bin", [["hello"]])
    assert identify(tmp_path / "x.bin").media_type == "application/pdf"
    assert identify(tmp_path / "x.bin").pronom == "fmt/18"
    image = Image.new("L", (10, 10), 255)
    for name, kind in (("a.png", "image/png"), ("a.jpg", "image/jpeg"), ("a.tif", "image/tiff")):
        image.save(tmp_path / name)
        assert identify(tmp_path / name).media_type == kind


def test_csv_and_text_are_told_apart_by_structure(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("case_id,county,charge\nC-1,Travis,DUI\nC-2,Harris,DUI\n")
    (tmp_path / "p.txt").write_text("A memo, with commas, and prose.\nAnother line here.\n")
    assert identify(tmp_path / "t.txt").media_type == "text/csv"
    assert identify(tmp_path / "p.txt").media_type == "text/plain"


def test_xlsx_is_recognised_inside_its_zip(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["a", "b"])
    book.save(tmp_path / "sheet.xlsx")
    assert identify(tmp_path / "sheet.xlsx").media_type == XLSX


def test_a_mislabelled_file_is_identified_and_flagged(tmp_path: Path) -> None:
    Image.new("L", (10, 10), 255).save(tmp_path / "memo.pdf", format="PNG")
    found = identify(tmp_path / "memo.pdf")
    assert found.media_type == "image/png"
    assert "named .pdf but the content is image/png" in found.warning


def test_an_empty_file_is_identified_as_empty_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "f.pdf").write_bytes(b"")
    found = identify(tmp_path / "f.pdf")
    assert found.media_type == "application/x-empty" and "empty file (0 bytes)" in found.warning


@pytest.mark.parametrize(
    ("content", "reason"),
    [(bytes(range(256)) * 20, "unrecognised binary content")],
)
def test_unreadable_content_is_refused_with_a_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    (tmp_path / "f.pdf").write_bytes(content)
    with pytest.raises(UnsupportedFile, match=reason):
        identify(tmp_path / "f.pdf")
