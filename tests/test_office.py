"""Office documents: read through a LibreOffice rendition, pages as they print."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docx
import pptx
import pytest
from openpyxl import Workbook

from foiarchive import Archive
from foiarchive.ingest import IngestOptions, ingest_production, office
from foiarchive.ingest.identify import identify
from foiarchive.schemas import Production

from .conftest import run_json


def _convert(source: Path, fmt: str) -> Path:
    """Make a legacy format the way an agency would: saved from LibreOffice."""
    profile = source.parent / "lo-profile"
    subprocess.run(
        [office.libreoffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", fmt, "--outdir", str(source.parent / "legacy"), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return source.parent / "legacy" / f"{source.stem}.{fmt.split(':')[0]}"


@pytest.fixture(scope="module")
def office_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("office-work")
    source = tmp_path_factory.mktemp("office")
    document = docx.Document()
    document.core_properties.title = "Detainer memo"
    document.core_properties.author = "J. Smith"
    document.add_paragraph("The wombat detention program continues under exemption (b)(6).")
    document.add_page_break()
    document.add_paragraph("Second page about judicial warrants.")
    document.save(source / "memo.docx")
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly briefing"
    slide.placeholders[1].text = "Removals of the numbat cohort rose."
    deck.save(source / "briefing.pptx")
    (source / "letter.rtf").write_text(
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard The platypus letter.\par}"
    )
    shutil.copy(source / "memo.docx", work / "old-memo.docx")
    shutil.copy(_convert(work / "old-memo.docx", "doc:MS Word 97"), source / "old-memo.doc")
    book = Workbook()
    book.active.append(["case", "officer"])
    book.active.append(["K-1", "(b)(6)"])
    book.save(work / "cases.xlsx")
    shutil.copy(_convert(work / "cases.xlsx", "xls:MS Excel 97"), source / "cases.xls")
    archive = tmp_path_factory.mktemp("office-archive")
    report = ingest_production(Archive(archive), source, Production(id="o1"), IngestOptions(jobs=2))
    assert report.ok, report.failures
    return archive


def _documents(archive: Path) -> dict:
    with Archive(archive).catalog() as catalog:
        return {d.path: (d, catalog.pages(d.id)) for d in catalog.documents()}


def test_office_files_are_identified_by_content(office_archive: Path) -> None:
    kinds = {path: d.media_type for path, (d, _) in _documents(office_archive).items()}
    assert kinds == {
        "memo.docx": office.DOCX,
        "briefing.pptx": office.PPTX,
        "letter.rtf": office.RTF,
        "old-memo.doc": office.DOC,
        "cases.xls": office.XLS,
    }


def test_pages_and_metadata_come_from_the_rendition(office_archive: Path) -> None:
    documents = _documents(office_archive)
    memo, pages = documents["memo.docx"]
    assert memo.page_count == 2 and [p.number for p in pages] == [1, 2]
    assert "wombat" in pages[0].text and "warrants" in pages[1].text
    assert pages[0].exemptions == ["b6"] and pages[0].text_source == "pdf"
    assert (memo.title, memo.author) == ("Detainer memo", "J. Smith")
    assert "numbat" in documents["briefing.pptx"][1][0].text
    assert "platypus" in documents["letter.rtf"][1][0].text
    assert "wombat" in documents["old-memo.doc"][1][0].text
    table, rows = documents["cases.xls"]
    assert table.columns == ["case", "officer"] and "officer: (b)(6)" in rows[0].text
    derivatives = office_archive / "derivatives"
    assert (derivatives / f"{memo.sha256}.pdf").exists()
    assert (derivatives / f"{table.sha256}.xlsx").exists()


def test_the_bag_keeps_the_originals(office_archive: Path) -> None:
    payload = office_archive / "bags" / "o1" / "data"
    assert sorted(p.name for p in payload.iterdir()) == [
        "briefing.pptx",
        "cases.xls",
        "letter.rtf",
        "memo.docx",
        "old-memo.doc",
    ]
    hits = run_json("search", "wombat", archive=office_archive)["hits"]
    assert {h["path"] for h in hits} == {"memo.docx", "old-memo.doc"}


def test_rtf_is_not_mistaken_for_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(r"{\rtf1 hello}")
    found = identify(path)
    assert found.media_type == office.RTF and "named .txt" in found.warning


def test_conversions_run_without_network(tmp_path: Path) -> None:
    """LibreOffice runs in a private network namespace: a listening local port is unreachable."""
    import socket
    import sys

    prefix = office._offline()
    if not prefix:
        pytest.skip("this system allows no private network namespace (unshare -rn)")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"
        inside = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True)
        outside = subprocess.run([sys.executable, "-c", probe], capture_output=True)
    assert outside.returncode == 0
    assert inside.returncode != 0
    assert any(word in inside.stderr.lower() for word in (b"unreachable", b"refused"))
