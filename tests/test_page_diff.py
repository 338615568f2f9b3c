"""Comparing two releases' scanned pages by their images (disclosure.pixels, page_images)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from foiarchive import Archive
from foiarchive.disclosure import pixels
from foiarchive.disclosure.diff import Diff, diff_productions, summarize
from foiarchive.disclosure.page_images import MAX_ASPECT, compare_images, compare_pages
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.crops import crop_reader, page_comparison
from foiarchive.ingest.sample import (
    MEMO_PARAGRAPHS,
    cover,
    memo_lines,
    render_scan,
    rescan,
    save_scanned_pdf,
)
from foiarchive.schemas import Production
from foiarchive.web import AccessPolicy, Served, create_app

from .conftest import CREDENTIAL

LINES = memo_lines(MEMO_PARAGRAPHS[:3])
LIFTED = 4  # the line under the box the new release lifts


def _line_box(
    line: int, start: float = 0.0, end: float = 0.75
) -> tuple[float, float, float, float]:
    """A line of render_scan's memo as fractions of the page (72 pt margin, 18.6 pt leading)."""
    top = (80 + 18.6 * line - 4) / 792
    return (72 / 612 + start * 0.7, top, 72 / 612 + end * 0.7, top + 21 / 792)


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_scan(LINES, bates="FBI-000417", dpi=200, seed=5)


def _noisy(image: Image.Image, seed: int, skew: float) -> Image.Image:
    return rescan(
        image, seed=seed, skew=skew, scale=1 + skew / 100, shift=(seed * 3, -seed * 2),
        blur=0.7, jpeg=35, specks=2500,
    )  # fmt: skip


def test_two_rescans_of_the_same_page_do_not_differ(page: Image.Image) -> None:
    aligned = pixels.align(_noisy(page, 1, 0.6), _noisy(page, 2, -0.5))
    assert aligned.score > 0.5
    assert pixels.changed_regions(aligned) == []


def test_a_lifted_outlined_box_is_text_newly_released(page: Image.Image) -> None:
    old = _noisy(cover(page, _line_box(LIFTED), outlined=True), 3, 0.4)
    result = compare_images(old, _noisy(page, 4, -0.7), crop_reader())
    (region,) = result.regions
    assert (region.kind, region.direction, region.old_side) == ("box_lifted", "released", "box")
    assert set(LINES[LIFTED].lower().split()[:3]) <= set(region.text.lower().split())
    assert region.old_crop.startswith("data:image/png;base64,")


def test_a_solid_box_added_is_text_newly_withheld(page: Image.Image) -> None:
    new = _noisy(cover(page, _line_box(2, 0.2, 0.6), outlined=False), 6, -0.3)
    (region,) = pixels.changed_regions(pixels.align(_noisy(page, 5, 0.5), new))
    assert (region.kind, region.old, region.new) == ("box_added", "text", "box")


def test_a_new_banner_is_a_marking_not_text(page: Image.Image) -> None:
    stamped = page.copy()
    ImageDraw.Draw(stamped).text((700, 30), "DECLASSIFIED BY 60324 UC", fill=0, font_size=34)
    (region,) = pixels.changed_regions(pixels.align(_noisy(page, 7, 0.2), _noisy(stamped, 8, 0)))
    assert region.kind == "marking" and region.box[3] < 0.1


def _releases(tmp_path: Path, old: Image.Image, new: Image.Image) -> Archive:
    """An archive holding releases r2023 and r2025 of memo.pdf, one scanned page each."""
    archive = Archive(tmp_path / "archive")
    for release, image in (("r2023", old), ("r2025", new)):
        source = tmp_path / release
        source.mkdir()
        save_scanned_pdf(source / "memo.pdf", [image], dpi=200)
        options = IngestOptions(jobs=1)
        assert ingest_production(archive, source, Production(id=release), options).ok
    return archive


def _pixel_diff(archive: Archive) -> Diff:
    with archive.catalog() as catalog:
        return diff_productions(catalog, "r2023", "r2025", page_comparison(archive.layout, catalog))


def test_a_page_far_taller_than_wide_is_compared_by_text(tmp_path: Path, page: Image.Image) -> None:
    """A strip more than MAX_ASPECT times as tall as wide is not compared by image: renditions
    allow 120 Mpx, and its arrays at the comparison width would take gigabytes."""
    tall = Image.new("L", (page.width, round(page.width * 3.5)), 255)
    tall.paste(page, (0, 0))
    lifted = tall.copy()
    lifted.paste(cover(page, _line_box(LIFTED), outlined=True), (0, 0))
    assert tall.height > tall.width * MAX_ASPECT
    (change,) = _pixel_diff(_releases(tmp_path, lifted, tall)).matched
    assert [p.compared_by for p in change.pages] == ["text"]


def test_a_page_that_does_not_fit_on_the_other_is_not_compared_by_image(
    page: Image.Image,
) -> None:
    """Turned 180 degrees the page keeps its shape but fits at 0.58 (MIN_FIT 0.65): its
    text diff is kept, not replaced by one 'marking'."""
    assert compare_pages(_noisy(page, 1, 0.6), _noisy(page, 2, -0.5), None) is not None
    assert compare_pages(_noisy(page, 1, 0.6), _noisy(page.rotate(180), 2, -0.5), None) is None


def test_a_page_turned_against_itself_keeps_its_text_diff(
    tmp_path: Path, page: Image.Image
) -> None:
    """The new release turned the page 90 degrees and lifted a box: the pages are of another
    shape, so the page is compared by text and the lifted line is still a passage added."""
    old = _noisy(cover(page, _line_box(LIFTED), outlined=True), 9, 0.5)
    turned = _noisy(page, 10, -0.4).rotate(90, expand=True, fillcolor=255)
    (change,) = _pixel_diff(_releases(tmp_path, old, turned)).matched
    (page_change,) = change.pages
    assert page_change.compared_by == "text" and page_change.regions == []


def test_the_diff_reads_a_lifted_redaction_as_newly_released(
    tmp_path: Path, page: Image.Image
) -> None:
    """Two releases of one scanned memo: the later lifts a box. OCR reads the two scans
    differently, but only the lifted line is a change, and the summary says it was released."""
    archive = _releases(
        tmp_path,
        _noisy(cover(page, _line_box(LIFTED), outlined=True), 9, 0.5),
        _noisy(page, 10, -0.4),
    )
    with archive.catalog() as catalog:
        by_text = diff_productions(catalog, "r2023", "r2025")
        by_pixels = diff_productions(
            catalog, "r2023", "r2025", page_comparison(archive.layout, catalog)
        )
    (change,) = by_pixels.matched
    (page_change,) = change.pages
    assert page_change.compared_by == "pixels" and page_change.boxes_lifted == 1
    assert page_change.removed == [] and len(page_change.added) == 1
    summary = "\n".join(summarize(by_pixels))
    assert "1 passage" in summary and "newly released in r2025" in summary
    assert "withheld or missing in r2025" not in summary
    assert "Newly released: memo.pdf p. 1 (FBI-000417)" in summary
    assert by_pixels.to_dict()["matched"][0]["pages"][0]["regions"][0].get("old_crop") is None
    # From the catalog alone, the text passages come from the two OCR reads.
    assert all(p.compared_by == "text" for c in by_text.matched for p in c.pages)


def _lifted_web(tmp_path: Path, page: Image.Image) -> tuple[Archive, TestClient]:
    archive = _releases(
        tmp_path,
        _noisy(cover(page, _line_box(LIFTED), outlined=True), 9, 0.5),
        _noisy(page, 10, -0.4),
    )
    served = Served(archive, backend="tantivy", image_cache=tmp_path / "images")
    return archive, TestClient(create_app(served, AccessPolicy(CREDENTIAL)))


def test_a_failing_tesseract_leaves_the_web_diff_regions_unread_not_a_500(
    tmp_path: Path, page: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tesseract without its language data fails on every crop (ProgramFailed): the region is
    still shown, saying its text could not be read."""
    _, client = _lifted_web(tmp_path, page)
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "no-tessdata"))
    params = {"old": "r2023", "new": "r2025"}
    api = client.get("/api/diff", params=params)
    assert api.status_code == 200
    (region,) = api.json()["matched"][0]["pages"][0]["regions"]
    assert region["direction"] == "released" and region["text"] == ""
    assert region["unread"].startswith("its text could not be read: Tesseract failed")
    html = client.get("/diff", params=params)
    assert html.status_code == 200 and "its text could not be read" in html.text
    assert "no-tessdata" not in api.text + html.text  # Tesseract's stderr names paths


def test_the_web_diff_serves_a_pairs_page_comparisons_from_the_cache(
    tmp_path: Path, page: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request compares the scanned pages and reads the lifted line; the second is
    answered from ARCHIVE/cache/diff: with Tesseract broken since, the line still reads."""
    archive, client = _lifted_web(tmp_path, page)
    params = {"old": "r2023", "new": "r2025"}
    first = client.get("/api/diff", params=params).json()
    (region,) = first["matched"][0]["pages"][0]["regions"]
    assert region["text"] and not region["unread"]
    assert len(list(archive.layout.diff_cache_dir.glob("*.json"))) == 1
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "no-tessdata"))
    assert client.get("/api/diff", params=params).json() == first
    html = client.get("/diff", params=params)
    assert region["text"] in html.text and "could not be read" not in html.text


def test_counts_trust_only_boxes_something_backs() -> None:
    """An image box with no exemption code beside it or on its page (a form's table border, a
    bold word) is counted apart, not in the redacted share; vector boxes and boxes on pages
    citing a code count."""
    from foiarchive.disclosure.tally import Tally
    from foiarchive.schemas import Page

    border = {"box": [0.1, 0.1, 0.9, 0.2], "kind": "outlined", "source": "image"}
    vector = {"box": [0.1, 0.5, 0.5, 0.6], "kind": "filled", "source": "pdf"}
    tally = Tally()
    tally.add(Page(number=1, text="Invoice", redactions=[border]))
    tally.add(Page(number=2, text="Memo", redactions=[border], exemptions=["b6"]))
    tally.add(Page(number=3, text="Letter", redactions=[vector]))
    labelled = {**border, "label": "b7C"}
    tally.add(Page(number=4, text="Form", redactions=[labelled, border]))
    assert (tally.redaction_boxes, tally.pages_with_redactions) == (3, 3)
    assert (tally.uncertain_boxes, tally.pages_with_uncertain_boxes) == (2, 2)
    assert tally.redacted_area == pytest.approx(0.08 + 0.04 + 0.08)


def test_codes_two_ocr_reads_disagree_on_are_no_change_on_an_unchanged_image() -> None:
    """Compared by pixels with no region changed, a code one OCR read and the other missed is
    not a code gained."""
    from foiarchive.disclosure.diff import _compare_pages
    from foiarchive.disclosure.page_images import PixelResult
    from foiarchive.schemas import Page

    old = Page(number=1, text="Memo b6", text_source="ocr", exemptions=["b6"])
    new = Page(number=1, text="Memo b6 b7C", text_source="ocr", exemptions=["b6", "b7c"])
    assert _compare_pages(old, new, None) is not None  # by text: b7C gained
    assert _compare_pages(old, new, PixelResult([], 0.5, 0.9)) is None
