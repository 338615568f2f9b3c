"""Ingest end to end: real PDFs, real Tesseract, a real catalog and index."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image

from foiarchive import Archive
from foiarchive.ingest import IngestOptions, Interrupted, ingest_production
from foiarchive.ingest.sample import (
    MEMO_PARAGRAPHS,
    memo_lines,
    render_scan,
    save_scanned_pdf,
    write_text_pdf,
)
from foiarchive.schemas import Production
from foiarchive.schemas.exemptions import FEDERAL

from .conftest import run_cli, run_json


def _documents(archive: Path) -> dict[str, object]:
    with Archive(archive).catalog() as catalog:
        return {d.path: d for d in catalog.documents()}


def _page_texts(archive: Path, path: str) -> list[str]:
    with Archive(archive).catalog() as catalog:
        doc = next(d for d in catalog.documents() if d.path == path)
        return [p.text for p in catalog.pages(doc.id)]


# -- the sample production --------------------------------------------------------------
def test_every_kind_of_file_in_the_sample_is_cataloged(sample_archive: Path) -> None:
    docs = _documents(sample_archive)
    assert set(docs) == {
        "scans/ERO memos 2017 (scanned).pdf",
        "final-response-letter.pdf",
        "detainer-form.jpg",
        "removals-by-county.csv",
        "README-from-agency.txt",
    }
    scanned = docs["scans/ERO memos 2017 (scanned).pdf"]
    assert (scanned.page_count, scanned.text_source) == (3, "ocr")
    assert scanned.ocr_confidence > 70
    letter = docs["final-response-letter.pdf"]
    assert (letter.text_source, letter.title, letter.author) == (
        "pdf",
        "Final response, 2017-ICFO-12345",
        "ICE FOIA Office",
    )
    assert letter.created.startswith("2017-06-08")
    assert docs["detainer-form.jpg"].media_type == "image/jpeg"
    assert docs["removals-by-county.csv"].page_count == 3  # 120 rows, 50 rows a page
    assert docs["removals-by-county.csv"].columns == [
        "case_id",
        "county",
        "arrest_date",
        "charge",
        "officer",
        "removed",
    ]


def test_scanned_pages_are_read_by_ocr(sample_archive: Path) -> None:
    pages = _page_texts(sample_archive, "scans/ERO memos 2017 (scanned).pdf")
    assert "Secure Communities" in pages[0]
    assert "detainers" in pages[0]
    assert "ICE-2017-000003" in pages[2]  # the Bates stamp in the corner


def test_search_finds_pages_across_file_kinds(sample_archive: Path) -> None:
    found = run_json("search", 'deportation AND "secure communities"', archive=sample_archive)
    paths = {hit["path"] for hit in found["hits"]}
    assert {"final-response-letter.pdf", "scans/ERO memos 2017 (scanned).pdf"} <= paths
    assert found["total"] == len(found["hits"])
    hit = found["hits"][0]
    assert set(hit) >= {"production", "document", "path", "page", "bates", "score", "snippet"}
    assert "<mark>" in hit["snippet"]
    travis = run_json("search", "type:csv travis", archive=sample_archive)
    assert travis["total"] >= 1 and all(h["path"].endswith(".csv") for h in travis["hits"])


def test_repeat_ingest_skips_unchanged_files(sample_source: Path, sample_archive: Path) -> None:
    manifest = sample_source / "production.json"
    result = run_json("ingest", sample_source, "--manifest", manifest, archive=sample_archive)
    assert result["ingested"] == 0
    assert result["skipped"] == 5
    assert result["pages_ocr"] == 0


def test_a_changed_file_is_read_again_and_ocr_comes_from_the_cache(
    sample_source: Path, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    scan = render_scan(memo_lines(MEMO_PARAGRAPHS[:2]), bates="DHS 000045")
    save_scanned_pdf(source / "memo.pdf", [scan])
    archive = tmp_path / "archive"
    first = ingest_production(Archive(archive), source, Production(id="p"), IngestOptions(jobs=1))
    assert first.pages_ocr == 1 and first.pages_ocr_cached == 0
    (source / "notes.txt").write_text("a new file")
    os.utime(source / "memo.pdf")
    # Same memo under a new name: same content hash, so its OCR comes from the cache.
    (source / "memo.pdf").rename(source / "memo-renamed.pdf")
    second = ingest_production(Archive(archive), source, Production(id="p"), IngestOptions(jobs=1))
    assert (second.ingested, second.pages_ocr_cached) == (2, 1)


# -- more formats -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def formats_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("formats")
    lines = memo_lines(MEMO_PARAGRAPHS[2:4])
    upright = render_scan(lines, bates="EOUSA-0001234", seed=3)
    upright.rotate(180).save(source / "upside-down.png")
    frames = [render_scan(memo_lines([MEMO_PARAGRAPHS[i]]), seed=i) for i in (0, 5)]
    frames[0].save(
        source / "fax.tiff",
        save_all=True,
        append_images=frames[1:],
        compression="tiff_lzw",
        dpi=(200, 200),
    )
    # A mixed PDF: a born-digital cover page followed by a scanned page.
    write_text_pdf(source / "cover.pdf", [["Cover sheet for the interoperability records"] * 5])
    save_scanned_pdf(source / "scan.pdf", [render_scan(memo_lines([MEMO_PARAGRAPHS[3]]))])
    from pypdf import PdfWriter

    merged = PdfWriter()
    for part in ("cover.pdf", "scan.pdf"):
        merged.append(str(source / part))
    merged.write(source / "mixed.pdf")
    for part in ("cover.pdf", "scan.pdf"):
        (source / part).unlink()
    book = Workbook()
    sheet = book.active
    sheet.title = "Admissions"
    sheet.append(["booking", "facility", "reason"])
    sheet.append(["B-1", "Northwest Detention Center", "(b)(6),(b)(7)(c )"])
    book.save(source / "admissions.xlsx")
    archive = tmp_path_factory.mktemp("formats-archive")
    report = ingest_production(
        Archive(archive), source, Production(id="formats", agency="EOUSA"), IngestOptions(jobs=2)
    )
    assert report.ok, report.failures
    return archive


def test_an_upside_down_scan_is_turned_and_read(formats_archive: Path) -> None:
    text = _page_texts(formats_archive, "upside-down.png")[0]
    assert "Deportation officers should prioritize" in text


def test_each_tiff_frame_is_a_page(formats_archive: Path) -> None:
    pages = _page_texts(formats_archive, "fax.tiff")
    assert len(pages) == 2
    assert "biometric" in pages[0] and "Office of Public Affairs" in pages[1]


def test_mixed_pdf_uses_the_text_layer_and_ocr_per_page(formats_archive: Path) -> None:
    with Archive(formats_archive).catalog() as catalog:
        doc = next(d for d in catalog.documents() if d.path == "mixed.pdf")
        pages = catalog.pages(doc.id)
    assert doc.text_source == "mixed"
    assert [p.text_source for p in pages] == ["pdf", "ocr"]
    assert "judicial" in pages[1].text and "Amendment" in pages[1].text


def test_xlsx_rows_are_searchable_by_column(formats_archive: Path) -> None:
    text = _page_texts(formats_archive, "admissions.xlsx")[0]
    assert "facility: Northwest Detention Center" in text
    assert text.startswith("Admissions, rows 2-2")
    with Archive(formats_archive).catalog() as catalog:
        (book,) = [d for d in catalog.documents() if d.path == "admissions.xlsx"]
    assert book.columns == ["booking", "facility", "reason"]


# -- bad input ----------------------------------------------------------------------------
@pytest.fixture
def hostile_source(tmp_path: Path) -> Path:
    source = tmp_path / "hostile"
    source.mkdir()
    write_text_pdf(source / "good.pdf", [["A good letter about detainers and warrants."] * 4])
    good = (source / "good.pdf").read_bytes()
    (source / "truncated.pdf").write_bytes(good[: len(good) // 3])
    (source / "repairable.pdf").write_bytes(good[: len(good) * 4 // 5])
    (source / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    (source / "empty.pdf").write_bytes(b"")
    (source / "random.pdf").write_bytes(bytes(range(256)) * 10)
    from pypdf import PdfReader, PdfWriter

    locked = PdfWriter(clone_from=PdfReader(source / "good.pdf"))
    locked.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    locked.write(source / "encrypted.pdf")
    Image.new("1", (12000, 12000), 1).save(source / "bomb.png")
    Image.new("L", (50, 50), 255).save(source / "picture-named.pdf", format="PNG")
    (tmp_path / "outside-secret.txt").write_text("never ingest me")
    (source / "escape.txt").symlink_to(tmp_path / "outside-secret.txt")
    (source / "odd\nname\u202e.txt").write_text("a file with an odd name about warrants")
    (source / os.fsdecode(b"latin1-\xe9t\xe9.txt")).write_text("bytes that are not UTF-8")
    return source


def test_bad_files_are_reported_quarantined_and_the_batch_goes_on(
    hostile_source: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    result = run_cli(
        "ingest", hostile_source, "--id", "hostile", "--format", "json", archive=archive
    )
    assert result.exit_code == 3
    import json

    report = json.loads(result.stdout)
    reasons = {f["path"]: f["reason"] for f in report["failures"]}
    assert "damaged or truncated PDF" in reasons["truncated.pdf"]
    assert "qpdf and Ghostscript could not repair it" in reasons["truncated.pdf"]
    assert "PDF" in reasons["corrupt.pdf"]
    assert "empty.pdf" not in reasons  # an empty original is kept, with a warning
    assert "unrecognised binary content" in reasons["random.pdf"]
    assert "encrypted PDF" in reasons["encrypted.pdf"]
    assert "pixel limit" in reasons["bomb.png"]
    assert "outside the source folder" in reasons["escape.txt"]
    assert all("\n" not in reason for reason in reasons.values())
    # good.pdf, the repaired copy of a cut-short PDF, the mislabelled PNG, both odd names, empty
    assert report["ingested"] == 6
    warnings = {w["path"]: w["reason"] for w in report["warnings"]}
    assert "empty file (0 bytes)" in warnings["empty.pdf"]
    assert "content is image/png" in warnings["picture-named.pdf"]
    assert "damaged PDF repaired with qpdf" in warnings["repairable.pdf"]
    quarantine = archive / "quarantine" / "hostile"
    assert (quarantine / "truncated.pdf").read_bytes() == (
        hostile_source / "truncated.pdf"
    ).read_bytes()
    assert "damaged" in (quarantine / "truncated.pdf.reason.txt").read_text()
    assert not (quarantine / "escape.txt").exists()
    docs = _documents(archive)
    assert docs["good.pdf"].status == "ok"
    assert docs["empty.pdf"].status == "ok" and docs["empty.pdf"].page_count == 0
    assert docs["empty.pdf"].media_type == "application/x-empty"
    assert docs["encrypted.pdf"].status == "error"
    repaired = docs["repairable.pdf"]
    assert repaired.status == "ok" and repaired.page_count == 1
    assert (archive / "derivatives" / f"{repaired.sha256}.pdf").exists()
    bag_copy = archive / "bags" / "hostile" / "data" / "repairable.pdf"
    assert bag_copy.read_bytes() == (hostile_source / "repairable.pdf").read_bytes()
    assert "latin1-\\xe9t\\xe9.txt" in docs
    assert "never ingest me" not in str(run_json("search", "never", archive=archive))
    assert run_json("search", "warrants", archive=archive)["total"] == 3  # one in the repaired


def test_an_earlier_good_version_survives_a_later_corrupt_one(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    write_text_pdf(source / "letter.pdf", [["The original letter about detainers."] * 3])
    archive = tmp_path / "archive"
    ingest_production(Archive(archive), source, Production(id="p"), IngestOptions(jobs=1))
    (source / "letter.pdf").write_bytes(b"%PDF-1.4 garbage")
    report = ingest_production(Archive(archive), source, Production(id="p"), IngestOptions(jobs=1))
    assert [f.path for f in report.failures] == ["letter.pdf"]
    assert _documents(archive)["letter.pdf"].status == "ok"
    assert "original letter" in _page_texts(archive, "letter.pdf")[0]


def test_an_interrupted_run_leaves_whole_documents_and_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for n in range(6):
        write_text_pdf(
            source / f"doc{n}.pdf", [[f"Document {n} page {p} detainer"] * 3 for p in range(4)]
        )

    class StopAfterTwo:
        done = 0

        def planned(self, files: int, pages: int) -> None: ...
        def advance(self, pages: int) -> None: ...
        def workers(self, count: int) -> None: ...

        def file_done(self, path: str, error: str | None) -> None:
            self.done += 1
            if self.done == 2:
                raise KeyboardInterrupt

    archive = tmp_path / "archive"
    with pytest.raises(Interrupted) as stop:
        ingest_production(
            Archive(archive),
            source,
            Production(id="p"),
            IngestOptions(jobs=2),
            progress=StopAfterTwo(),
        )
    saved = stop.value.report.ingested
    assert 1 <= saved < 6
    with Archive(archive).catalog() as catalog:
        for doc in catalog.documents():
            assert len(catalog.pages(doc.id)) == 4  # never half a document
    report = ingest_production(Archive(archive), source, Production(id="p"), IngestOptions(jobs=2))
    assert report.skipped == saved and report.ingested == 6 - saved
    assert run_json("search", "detainer", archive=archive)["total"] == 24


def test_missing_tesseract_is_a_clear_message(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("hello")
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from foiarchive.search_cli.main import main; main()",
            "--archive",
            str(tmp_path / "a"),
            "ingest",
            str(source),
            "--id",
            "p",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert "Tesseract is not installed" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_title_block_above_the_header(tmp_path: Path) -> None:
    """Agency spreadsheets often open with a title block and group headings."""
    from openpyxl import Workbook

    from foiarchive.ingest.limits import Limits
    from foiarchive.ingest.textual import xlsx_pages

    book = Workbook()
    sheet = book.active
    sheet.title = "Facilities"
    sheet.append(["ERO Custody Management Division"])
    sheet.append(["2019-ICFO-31121: Authorized Detention Facilities"])
    sheet.append([])
    sheet.append(["Facility Information", None, None, "FY2019 ADP"])
    sheet.append(["DETLOC", "Name", "State", "Level A", "Level B"])
    sheet.append(["STWRTGA", "STEWART DETENTION CENTER", "GA", 12, 3])
    sheet.append(["STCDFTX", "SOUTH TEXAS ICE PROCESSING CENTER", "TX", 40, 8])
    book.save(tmp_path / "facilities.xlsx")
    table = xlsx_pages(tmp_path / "facilities.xlsx", Limits())
    assert table.columns == ["DETLOC", "Name", "State", "Level A", "Level B"]
    heading, *rows = table.pages[0].text.split("\n")
    assert heading.startswith("Facilities, rows 6-7 (ERO Custody Management Division / ")
    assert "FY2019 ADP" in heading  # the group headings stay searchable
    assert rows[0].startswith("DETLOC: STWRTGA | Name: STEWART DETENTION CENTER")


def test_a_one_column_table_keeps_its_header(tmp_path: Path) -> None:
    from foiarchive.ingest.limits import Limits
    from foiarchive.ingest.textual import csv_pages

    (tmp_path / "names.csv").write_text("case\nA-1\nA-2\n")
    table = csv_pages(tmp_path / "names.csv", "utf-8", Limits())
    assert table.columns == ["case"] and table.pages[0].text == "Rows 2-3\ncase: A-1\ncase: A-2"


def test_reread_brings_an_older_archive_up_to_date_from_the_ocr_cache(
    sample_archive: Path, sample_source: Path, tmp_path: Path
) -> None:
    """An archive ingested before word boxes were kept (simulated by clearing them) gets them
    back with --reread, without running Tesseract again."""
    archive = tmp_path / "archive"
    shutil.copytree(sample_archive, archive)
    connection = sqlite3.connect(archive / "catalog.sqlite")
    with connection:
        cleared = connection.execute("UPDATE pages SET word_boxes = '' WHERE word_boxes != ''")
        assert cleared.rowcount >= 4
    connection.close()
    manifest = sample_source / "production.json"
    again = run_json("ingest", sample_source, "--manifest", manifest, archive=archive)
    assert again["ingested"] == 0 and again["skipped"] >= 5  # unchanged files are skipped
    report = run_json("ingest", sample_source, "--manifest", manifest, "--reread", archive=archive)
    assert report["skipped"] == 0 and report["ingested"] >= 5
    assert report["pages_ocr_cached"] == report["pages_ocr"] >= 4  # no Tesseract run
    with Archive(archive).catalog() as catalog:
        ocr_pages = [
            page
            for document in catalog.documents()
            for page in catalog.pages(document.id)
            if page.text_source == "ocr"
        ]
    assert ocr_pages and all(len(p.boxes()) == len(p.text.split()) for p in ocr_pages)
    assert run_cli("verify", "ice-2017-r1", archive=archive).exit_code == 0


def test_a_scan_with_someone_elses_ocr_layer_is_read_from_its_pixels(tmp_path: Path) -> None:
    """A scanned page that carries a poor invisible OCR layer (as agencies' and requesters'
    tools add): its boxes, the code beside them and its stamp are read from the image, and our
    OCR replaces the layer, which is recorded. A code only the layer read still counts, marked
    as the layer's."""
    import pikepdf

    from foiarchive.ingest.sample import Redaction

    source = tmp_path / "release"
    source.mkdir()
    page = render_scan(
        memo_lines(MEMO_PARAGRAPHS[:2]),
        bates="ICE-2019-000417",
        redactions=[Redaction(line=1, start=0.2, end=0.6, code="(b)(6)")],
        dpi=300,
    )
    scan = source / "layered.pdf"
    save_scanned_pdf(scan, [page], dpi=300)
    with pikepdf.open(scan, allow_overwriting_input=True) as pdf:
        first = pdf.pages[0]
        font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
        first.obj.Resources.Font = pikepdf.Dictionary(F9=pdf.make_indirect(font))
        garbage = " ".join(["Secw-ity Cowitry FXCHANGF wlth tbe ageney"] * 12)
        layer = f"BT 3 Tr /F9 10 Tf 72 700 Td ({garbage}) Tj 0 -40 Td (b7E) Tj ET".encode()
        first.contents_add(pdf.make_stream(layer), prepend=False)
        pdf.save(scan)
    archive = Archive(tmp_path / "archive")
    report = ingest_production(archive, source, Production(id="p"), IngestOptions(jobs=1))
    assert report.ok and report.text_layers_replaced == 1
    with archive.catalog() as catalog:
        (document,) = catalog.documents("p")
        (read,) = catalog.pages(document.id)
        events = [e.detail for e in catalog.events("p") if "text layer replaced" in e.detail]
    assert read.text_source == "ocr" and "FXCHANGF" not in read.text
    assert "memorandum" in read.text.lower() or "detainer" in read.text.lower()
    assert read.bates == ["ICE-2019-000417"]
    assert "b6" in read.exemptions and read.redactions
    assert "b7e" in read.exemptions and "b7E" not in read.text
    assert {"code": "b7e", "statute": FEDERAL, "text": "b7E", "source": "text layer"} in (
        read.citations
    )
    assert len(events) == 1 and "pages 1 (" in events[0]


def _pdf_over_image(path: Path, text: str, *, invisible: bool, shade: int) -> None:
    """One page: a full-page grey image (a letterhead background, or a scan) with a line of
    text drawn on it, visible or invisible (render mode 3, as OCR layers are)."""
    import zlib

    import pikepdf

    pdf = pikepdf.new()
    width, height = 850, 1100
    image = pdf.make_stream(
        zlib.compress(bytes([shade]) * (width * height)),
        Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width, Height=height,
        ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Filter=pikepdf.Name.FlateDecode,
    )  # fmt: skip
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                           BaseFont=pikepdf.Name.Helvetica)
    )  # fmt: skip
    mode = 3 if invisible else 0
    content = f"q 612 0 0 792 0 0 cm /Im1 Do Q BT {mode} Tr /F1 12 Tf 72 700 Td ({text}) Tj ET"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=pikepdf.Dictionary(
            Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary(Im1=image)
        ),
        Contents=pdf.make_stream(content.encode()),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)


def test_text_over_a_background_image_is_kept_as_delivered(tmp_path: Path) -> None:
    """Born-digital text drawn over a full-page picture (a letterhead, a watermark) is text, not
    a scan to OCR; and an OCR layer over an image our OCR reads nothing in is all there is."""
    source = tmp_path / "release"
    source.mkdir()
    words = "Reference hash 8f3e1c0b9a7d5e4f2a1b for the transfer of the detainee records"
    _pdf_over_image(source / "letterhead.pdf", words, invisible=False, shade=235)
    _pdf_over_image(source / "layered-blank.pdf", words, invisible=True, shade=255)
    archive = Archive(tmp_path / "archive")
    report = ingest_production(archive, source, Production(id="p"), IngestOptions(jobs=1))
    assert report.ok and report.text_layers_replaced == 0
    for path in ("letterhead.pdf", "layered-blank.pdf"):
        (text,) = _page_texts(archive.path, path)
        assert "8f3e1c0b9a7d5e4f2a1b" in text, path


def test_ocr_always_replaces_the_text_layer_and_keeps_it_out_of_the_page(tmp_path: Path) -> None:
    """Asked to OCR every page, our OCR replaces the text layer: its words OCR did not read (an
    invisible layer's misreads) were appended, doubling a page's text."""
    import pikepdf

    source = tmp_path / "release"
    source.mkdir()
    path = source / "layered.pdf"
    words = "Reference hash 8f3e1c0b9a7d5e4f2a1b for the transfer of the detainee records"
    _pdf_over_image(path, words, invisible=False, shade=235)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        misread = b"BT 3 Tr /F1 12 Tf 72 600 Td (Secw-ity Cowitry FXCHANGF wlth tbe ageney) Tj ET"
        pdf.pages[0].contents_add(pdf.make_stream(misread), prepend=False)
        pdf.save(path)
    for mode, misreads in (("auto", True), ("always", False)):
        archive = Archive(tmp_path / mode)
        options = IngestOptions(jobs=1, ocr=mode)  # type: ignore[arg-type]
        assert ingest_production(archive, source, Production(id="p"), options).ok
        (text,) = _page_texts(archive.path, "layered.pdf")
        assert "transfer" in text and ("FXCHANGF" in text) is misreads, mode


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the thread or the process ended meanwhile
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> set[int]:
    seen: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""  # gone


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead; only its reaping is pending


def test_sigkill_of_ingest_leaves_no_process_behind(sample_source: Path, tmp_path: Path) -> None:
    """An ingest killed mid-OCR (SIGKILL, the OOM killer) takes its workers, their Tesseract,
    the forkserver and the resource tracker with it (before: 4 processes, ~240 MB, forever)."""
    command = "from foiarchive.search_cli.main import main; main()"
    ingest = subprocess.Popen(
        [sys.executable, "-c", command, "--archive", str(tmp_path / "a"), "ingest",
         str(sample_source), "--id", "killed", "--jobs", "2", "--ocr", "always", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # Each process's command line as last seen alive: read after the kill, a process that has
    # already ended (the resource tracker goes as soon as its pipe closes) has none.
    commands: dict[int, str] = {}

    def look() -> None:
        for pid in _descendants(ingest.pid):
            commands[pid] = _command(pid) or commands.get(pid, "")

    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # until a worker's Tesseract reads a page
            look()
            ocr = [p for p, c in commands.items() if "tesseract" in c and "--list" not in c]
            if (
                ocr
                and len(commands) >= 4
                and any("resource_tracker" in c for c in commands.values())
            ):
                break
            time.sleep(0.02)
        assert ocr, "the ingest never reached OCR"
        look()
    finally:
        ingest.send_signal(signal.SIGKILL)
        ingest.wait()
    seen = set(commands)
    assert any("forkserver" in c for c in commands.values())
    assert any("resource_tracker" in c for c in commands.values())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in seen):
        time.sleep(0.1)
    left = {pid: commands[pid][:80] for pid in seen if _running(pid)}
    for pid in left:  # don't leave them to the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert left == {}


def test_an_ocr_result_is_cached_as_the_same_json_and_read_back_whole() -> None:
    from dataclasses import asdict

    from foiarchive.ingest.ocr import OcrResult, OcrWord

    result = OcrResult(
        "Memo (b)(6)",
        88.5,
        [
            OcrWord("Memo", 91.0, (0.1, 0.1, 0.2, 0.15)),
            OcrWord("(b)(6)", 80.0, (0.3, 0.1, 0.4, 0.15)),
        ],
        rotation=90,
        skew=0.4,
        width=2550,
        height=3300,
        redactions=[{"box": [0.2, 0.3, 0.5, 0.33], "exemptions": ["(b)(6)"]}],
    )
    assert result.to_json() == json.dumps(asdict(result), separators=(",", ":"))
    assert OcrResult.from_json(result.to_json()) == result


def test_a_page_read_by_ocr_comes_ready_for_the_ingest_and_its_cache_entry_reads_back_so(
    tmp_path: Path,
) -> None:
    """The reader serializes and packs (a cluster's coordinator has only to write and store):
    what it hands over equals what the ingest made of the whole result before."""
    from foiarchive.ingest.ocr import OcrCache, OcrResult, OcrSettings, OcrWord, ReadPage
    from foiarchive.schemas import word_boxes_for_text

    words = [OcrWord("Memo", 91.0, (0.1, 0.1, 0.2, 0.15)), OcrWord("b 6", 80.0, (0.3, 0, 1, 1))]
    result = OcrResult("Memo b 6", 85.5, words, width=2550, height=3300)
    read = ReadPage.of(result)
    assert read.result == OcrResult("Memo b 6", 85.5, [], width=2550, height=3300)
    assert read.cached == result.to_json()
    assert read.boxes == word_boxes_for_text([(w.text, w.box) for w in words])
    cache, settings = OcrCache(tmp_path), OcrSettings(tesseract_version="5.3.0")
    cache.put("ab" * 32, 3, settings, read.cached)
    assert cache.get("ab" * 32, 3, settings) == read
    assert cache.get("ab" * 32, 4, settings) is None
