"""Leak detectors (ingest.leaks) on planted files and clean controls, the audit and leaks
commands, and leaks found at ingest, in the catalog and in searches on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from foiarchive.archive import Archive
from foiarchive.index.query import QueryError, parse
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.leaks import gate, planted
from foiarchive.ingest.leaks.audit import document_leaks, original_leaks, pdf_leaks, pdf_texts
from foiarchive.ingest.leaks.office import word_leaks
from foiarchive.ingest.pdf import read_text_layer
from foiarchive.schemas import Production
from foiarchive.schemas.findings import KINDS, Finding
from tests.conftest import run_cli


def _audit(path: Path) -> list[Finding]:
    if path.suffix == ".pdf":
        return pdf_leaks(path)
    if path.suffix == ".docx":
        return word_leaks(path)
    media = {
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[path.suffix]
    return original_leaks(path, media)


@pytest.mark.parametrize("name", sorted(planted.PLANTS))
def test_each_planted_leak_is_found_with_its_text(name: str, tmp_path: Path) -> None:
    kind, secret = planted.PLANTS[name](tmp_path / name)
    found = [f for f in _audit(tmp_path / name) if f.kind == kind]
    assert found, name
    assert any(secret in f.text for f in found), found
    assert all(f.how for f in found)


@pytest.mark.parametrize("name", sorted(planted.CONTROLS))
def test_controls_that_only_look_like_leaks_have_no_findings(name: str, tmp_path: Path) -> None:
    planted.CONTROLS[name](tmp_path / name)
    assert _audit(tmp_path / name) == []


def test_a_page_finding_says_where_on_the_page(tmp_path: Path) -> None:
    planted.under_shape(tmp_path / "a.pdf")
    (finding,) = pdf_leaks(tmp_path / "a.pdf")
    assert finding.page == 1 and finding.box is not None
    x0, y0, x1, y1 = finding.box
    assert 0.1 < x0 < x1 < 0.3 and 0.15 < y0 < y1 < 0.2  # 72 pt in, 130 pt down a letter page


def test_every_kind_is_planted_somewhere() -> None:
    assert {name.split(".")[0] for name in planted.PLANTS} == set(KINDS)


def test_audit_exit_codes_and_formats(tmp_path: Path) -> None:
    planted.under_shape(tmp_path / "leaky.pdf")
    planted.control_plain(tmp_path / "clean.pdf")
    assert run_cli("audit", tmp_path / "clean.pdf").exit_code == 0
    leaky = run_cli("audit", tmp_path / "clean.pdf", tmp_path / "leaky.pdf", "--format", "json")
    assert leaky.exit_code == 1
    (row,) = json.loads(leaky.stdout)
    assert row["kind"] == "under_shape" and row["text"] == planted.SECRET
    assert row["file"].endswith("leaky.pdf") and row["page"] == 1
    missing = run_cli("audit", tmp_path / "nothing.pdf")
    assert missing.exit_code == 1 and "nothing.pdf: no such file" in missing.stderr
    assert run_cli("audit").exit_code == 2


def test_leak_queries_parse_and_refuse_unknown_kinds() -> None:
    assert parse("leak:true") == parse("leak:yes")
    assert parse("leak:under_shape").value == "under_shape"  # type: ignore[union-attr]
    with pytest.raises(QueryError, match="kind of leak"):
        parse("leak:sideways")


@pytest.fixture(scope="module")
def leaky_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("release")
    planted.under_shape(source / "memo.pdf")
    planted.earlier_revision(source / "letter.pdf")
    planted.hidden_sheet(source / "cases.xlsx")
    planted.control_plain(source / "clean.pdf")
    archive = tmp_path_factory.mktemp("archive")
    report = ingest_production(
        Archive(archive), source, Production(id="r1", agency="DHS"), IngestOptions(jobs=1)
    )
    assert report.ok, report.failures
    return archive


def test_ingest_records_findings_per_page_and_leaks_lists_them(leaky_archive: Path) -> None:
    result = run_cli("leaks", "r1", "--format", "json", archive=leaky_archive)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    kinds = {(Path(r["path"]).name, r["kind"]) for r in rows}
    assert kinds == {
        ("memo.pdf", "under_shape"),
        ("letter.pdf", "earlier_revision"),
        ("cases.xlsx", "hidden_sheet"),
    }
    assert all(planted.SECRET in r["text"] for r in rows)
    report = json.loads(run_cli("report", "r1", "--format", "json", archive=leaky_archive).stdout)
    assert report["leaks_by_kind"] == {"under_shape": 1, "earlier_revision": 1, "hidden_sheet": 1}
    text = run_cli("report", "r1", archive=leaky_archive).stdout
    assert "memo.pdf p. 1: under_shape: 'Harriet Quimby'" in text


def test_leak_searches_find_the_pages(leaky_archive: Path) -> None:
    def paths(query: str) -> set[str]:
        result = run_cli("search", query, "--format", "json", archive=leaky_archive)
        assert result.exit_code == 0, result.output
        return {Path(h["path"]).name for h in json.loads(result.stdout)["hits"]}

    assert paths("leak:true") == {"memo.pdf", "letter.pdf", "cases.xlsx"}
    assert paths("leak:under_shape") == {"memo.pdf"}
    assert paths("committee AND leak:false") == {"clean.pdf"}


@pytest.mark.parametrize("name", sorted(planted.PDF_PLANTS))
def test_the_object_gate_sends_every_planted_page_on(name: str, tmp_path: Path) -> None:
    """The gate (page objects, no pixels) lets no planted page by: each is either sent to the
    pixel test or, white text on nothing, found from its objects."""
    import pypdfium2 as pdfium

    planted.PDF_PLANTS[name](tmp_path / name)
    with pdfium.PdfDocument(str(tmp_path / name)) as pdf:
        page = pdf[0]
        verdict = gate.suspect(page, tuple(page.get_cropbox()))  # type: ignore[arg-type]
        assert verdict, name
        if name == "background_text.pdf":
            assert not verdict.pixels and len(verdict.white) == 1


@pytest.mark.parametrize(
    "name",
    [
        "control_plain.pdf",
        "control_box_under_text.pdf",
        "control_white_label.pdf",
        "control_redacted_properly.pdf",
    ],
)
def test_the_object_gate_renders_no_plain_page(name: str, tmp_path: Path) -> None:
    """Pages like most born-digital pages (text, boxes beneath it, labels on boxes, boxes
    over nothing) are decided from their objects: no render, no character walk."""
    import pypdfium2 as pdfium

    planted.CONTROLS[name](tmp_path / name)
    with pdfium.PdfDocument(str(tmp_path / name)) as pdf:
        page = pdf[0]
        assert not gate.suspect(page, tuple(page.get_cropbox()))  # type: ignore[arg-type]


def test_a_scans_layer_is_checked_against_the_boxes_ocr_found(tmp_path: Path) -> None:
    """At ingest a scan's invisible layer is not rendered by the text layer reader: its words
    go to the OCR of the page, which finds the image's boxes; a layer over plain ink, and a
    layer that reads the white label printed on a box, are clean."""
    source = tmp_path / "release"
    source.mkdir()
    planted.ocr_under_box(source / "boxed.pdf")
    planted.control_ocr_layer(source / "plain.pdf")
    planted.control_labelled_box_scan(source / "labelled.pdf")  # OCR'd after boxing
    (layer,) = read_text_layer(source / "boxed.pdf", 1, 1, ocr_follows=True)
    assert layer.scanned and not layer.leaks and layer.layer_words
    archive = Archive(tmp_path / "archive")
    report = ingest_production(
        archive, source, Production(id="s1", agency="DHS"), IngestOptions(jobs=1)
    )
    assert report.ok, report.failures
    rows = json.loads(run_cli("leaks", "s1", "--format", "json", archive=archive.path).stdout)
    assert [(Path(r["path"]).name, r["kind"]) for r in rows] == [("boxed.pdf", "ocr_under_box")]
    assert planted.SECRET in rows[0]["text"]


def test_the_whole_file_pass_reads_the_pages_text_only_when_something_needs_it(
    tmp_path: Path,
) -> None:
    """Reading every page's text again for the whole-file checks doubled the cost of a
    born-digital file's text layer: it is read only for an earlier revision or a bookmark."""
    asked: list[Path] = []

    def texts_of(path: Path) -> Callable[[], list[str]]:
        def read() -> list[str]:
            asked.append(path)
            return pdf_texts(path)

        return read

    planted.control_plain(tmp_path / "plain.pdf")
    assert document_leaks(tmp_path / "plain.pdf", [], texts_of(tmp_path / "plain.pdf")) == []
    assert asked == []
    for name in ("earlier_revision.pdf", "bookmark.pdf"):
        kind, secret = planted.PLANTS[name](tmp_path / name)
        found = document_leaks(tmp_path / name, [], texts_of(tmp_path / name))
        assert any(f.kind == kind and secret in f.text for f in found), found
    assert asked == [tmp_path / "earlier_revision.pdf", tmp_path / "bookmark.pdf"]


def test_the_production_page_lists_the_leaks_and_the_viewer_outlines_them(
    leaky_archive: Path, tmp_path: Path
) -> None:
    """The web shows each finding where it is: the production page lists them with what the
    machine reads beside what a person sees; the page viewer outlines the spot."""
    from fastapi.testclient import TestClient

    from foiarchive.web import AccessPolicy, Served, create_app

    client = TestClient(
        create_app(Served(Archive(leaky_archive), image_cache=tmp_path / "i"), AccessPolicy())
    )
    production = client.get("/productions/r1")
    assert production.status_code == 200
    listing = production.text.split('id="leaks"')[1].split("</table>")[0]
    assert listing.count("<tr><td>") == 3 and planted.SECRET in listing
    assert "text under an opaque shape drawn over it" in listing and "a filled shape" in listing
    with Archive(leaky_archive).catalog() as catalog:
        memo = next(d.id for d in catalog.documents("r1") if d.path == "memo.pdf")
    page = client.get(f"/documents/{memo}?page=1").text
    assert page.count('<g class="leak">') == 1
    side = page.split("<h2>Still in the file</h2>")[1].split("<h2>")[0]
    assert "The machine reads" in side and planted.SECRET in side
    assert "A person sees" in side and "a filled shape" in side
