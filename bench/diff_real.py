"""Release diff on real scanned pages: does it tell a journalist what happened on the page?

    python -m bench.diff_real                       # the pairs in bench/diff_labels/pairs.json
    python -m bench.diff_real --images OUT          # also write each pair's diff picture there

Each labelled pair is a real page of /work/shared/corpus rendered at 200 dpi, edited on one side
(an outlined box over a line the other side shows, a solid box added, a banner stamped) and then
rescanned on both sides with different skew, scale, shift, blur, JPEG quality and specks, so the
two OCR reads of it disagree as real re-releases do. Measured:

* region changes, page by page (disclosure.page_images.compare_images): precision and recall of
  text newly released, newly withheld, boxes added and lifted and markings changed;
* the whole diff (ingest both sides as releases, diff_productions with and without images):
  text-change passages on the pairs whose pages did not change (goal 0), and whether the
  summary says the right direction on every pair;
* a real pair (CONTROL): a 35-page FBI file read from its OCRmyPDF layer against the same
  pages as an image-only PDF read by our OCR: pages, passages and regions reported changed;
* time per matched page pair (align, regions, crops read) beside the OCR time of that page.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bench.common import print_table
from foiarchive import Archive
from foiarchive.disclosure.diff import Diff, diff_productions, summarize
from foiarchive.disclosure.page_images import RegionChange, compare_images
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.crops import crop_reader, page_comparison
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.ocr import OcrSettings, ocr_image
from foiarchive.ingest.pdf import page_count, render_page
from foiarchive.ingest.sample import cover, rescan, save_scanned_pdf
from foiarchive.schemas import Production

CORPUS = Path("/work/shared/corpus")
LABELS = Path(__file__).parent / "diff_labels" / "pairs.json"
DPI = 200
#: Each side's rescan: (seed, skew degrees, scale, shift in pixels, blur, JPEG quality, specks).
OLD_SCAN = {"seed": 11, "skew": 0.6, "scale": 0.99, "shift": (9, -7), "blur": 0.6, "jpeg": 40}
NEW_SCAN = {"seed": 12, "skew": -0.45, "scale": 1.01, "shift": (-8, 11), "blur": 0.8, "jpeg": 32}
SPECKS = 3000


@dataclass
class Score:
    true: int = 0
    false: int = 0
    missed: int = 0
    wrong: list[str] = field(default_factory=list)

    def ratio(self, hits: int, other: int) -> str:
        return f"{hits / (hits + other):.3f}" if hits + other else "-"


def _side(base: Image.Image, edits: dict[str, Any], scan: dict[str, Any]) -> Image.Image:
    page = base
    for box in edits.get("outlined", []):
        page = cover(page, tuple(box), outlined=True)
    for box in edits.get("solid", []):
        page = cover(page, tuple(box), outlined=False)
    for box in edits.get("erased", []):  # whited out, no outline: blank before
        page = page.copy()
        x0, y0, x1, y1 = (v * s for v, s in zip(box, page.size * 2, strict=True))
        ImageDraw.Draw(page).rectangle((x0, y0, x1, y1), fill=255)
    for x, y, text in edits.get("stamp", []):
        page = page.copy()
        font = ImageFont.load_default(size=round(page.width * 0.018))
        ImageDraw.Draw(page).text((x * page.width, y * page.height), text, fill=0, font=font)
    return rescan(page, specks=SPECKS, **scan)


def _pairs(labels: dict[str, Any]) -> list[tuple[dict[str, Any], Image.Image, Image.Image]]:
    made = []
    for pair in labels["pairs"]:
        base, _ = render_page(CORPUS / pair["source"], pair["page"], DPI, Limits())
        made.append((pair, _side(base, pair["old"], OLD_SCAN), _side(base, pair["new"], NEW_SCAN)))
    return made


def _overlap(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _score_regions(
    expected: list[dict[str, Any]],
    found: list[RegionChange],
    name: str,
    scores: dict[tuple[str, str], Score],
    group: str,
) -> None:
    """Each expected change (kind, and direction if any) against the regions found."""

    def facets(kind: str, direction: str) -> list[str]:
        return [kind] + ([direction] if direction and direction != kind else [])

    left = list(found)
    for want in expected:
        match = next(
            (r for r in left if _overlap(r.box, want["box"]) and r.kind == want["kind"]), None
        )
        for facet in facets(want["kind"], want["direction"]):
            score = scores.setdefault((group, facet), Score())
            if match is not None and (facet == match.kind or facet == match.direction):
                score.true += 1
            else:
                score.missed += 1
                score.wrong.append(f"{name}: missed {facet} at {want['box']}")
        if match is not None:
            left.remove(match)
    for region in left:
        for facet in facets(region.kind, region.direction):
            score = scores.setdefault((group, facet), Score())
            score.false += 1
            score.wrong.append(f"{name}: false {facet} at {region.box}")


def _region_bench(
    pairs: list[tuple[dict[str, Any], Image.Image, Image.Image]], images: Path | None
) -> tuple[dict[tuple[str, str], Score], list[list[Any]]]:
    scores: dict[tuple[str, str], Score] = {}
    rows = []
    read = crop_reader()
    for pair, old, new in pairs:
        result = compare_images(old, new, read, crops=False)
        group = "held-out" if pair.get("held_out") else "tuned on"
        _score_regions(pair["expect"], result.regions, pair["name"], scores, group)
        started = time.perf_counter()
        ocr_image(new, OcrSettings(), dpi=DPI, limits=Limits())
        ocr_seconds = time.perf_counter() - started
        found = ", ".join(f"{r.kind}/{r.direction or '-'}" for r in result.regions) or "none"
        rows.append(
            [pair["name"], found, f"{result.score:.3f}", f"{result.seconds:.2f}",
             f"{ocr_seconds:.2f}"]
        )  # fmt: skip
        if images is not None:
            _picture(old, new, result.regions, images / f"{pair['name']}.png")
    return scores, rows


def _picture(old: Image.Image, new: Image.Image, regions: list[RegionChange], path: Path) -> None:
    """The two sides side by side at 100 dpi with the regions found outlined, for looking."""
    width = 850
    sides = [
        s.convert("RGB").resize((width, round(s.height * width / s.width))) for s in (old, new)
    ]
    canvas = Image.new("RGB", (width * 2 + 10, max(s.height for s in sides)), "white")
    for i, side in enumerate(sides):
        draw = ImageDraw.Draw(side)
        for region in regions:
            x0, y0, x1, y1 = region.box
            draw.rectangle(
                (x0 * side.width, y0 * side.height, x1 * side.width, y1 * side.height),
                outline=(220, 30, 30), width=2,
            )  # fmt: skip
        canvas.paste(side, (i * (width + 10), 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def _expected_direction(pair: dict[str, Any]) -> str:
    directions = {want["direction"] for want in pair["expect"]} - {""}
    return "/".join(sorted(directions)) or "none"


def _said_direction(diff: Diff) -> str:
    """The direction the summary's sentences give: which of the two passage totals it states."""
    text = "\n".join(summarize(diff))
    said = []
    if "newly released in" in text:
        said.append("released")
    if "withheld or missing in" in text:
        said.append("withheld")
    return "/".join(said) or "none"


def _diff_bench(
    pairs: list[tuple[dict[str, Any], Image.Image, Image.Image]], work: Path
) -> list[list[Any]]:
    archive = Archive(work / "archive")
    rows = []
    for pair, old, new in pairs:
        ids = []
        for side, image in (("old", old), ("new", new)):
            source = work / f"{pair['name']}-{side}"
            source.mkdir()
            save_scanned_pdf(source / f"{pair['name']}.pdf", [image], dpi=DPI)
            ids.append(f"{pair['name']}-{side}")
            options = IngestOptions(jobs=1)
            ingest_production(archive, source, Production(id=ids[-1]), options)
        with archive.catalog() as catalog:
            by_text = diff_productions(catalog, ids[0], ids[1])
            pixels = page_comparison(archive.layout, catalog)
            by_pixels = diff_productions(catalog, ids[0], ids[1], pixels)
        passages = [
            sum(len(p.added) + len(p.removed) for c in diff.matched for p in c.pages)
            for diff in (by_text, by_pixels)
        ]
        want = _expected_direction(pair)
        rows.append(
            [
                pair["name"],
                want,
                _said_direction(by_text),
                _said_direction(by_pixels),
                passages[0],
                passages[1],
            ]
        )
    return rows


#: A real release pair: this file as delivered, read from its OCRmyPDF text layer (--ocr never),
#: against its own page images saved as an image-only PDF and OCR'd by us. No page changed; the
#: two reads of every page differ as two releases' OCR do.
CONTROL = "scanned/fbi_burge_D2310328_ocrmypdf.pdf"


def _control_bench(work: Path) -> list[list[Any]]:
    """Text-change passages and summary sentences on the real, unchanged pair, both ways."""
    archive = Archive(work / "control")
    layered, image_only = work / "layered", work / "image-only"
    layered.mkdir()
    image_only.mkdir()
    shutil.copy(CORPUS / CONTROL, layered / "records.pdf")
    count = page_count(CORPUS / CONTROL, Limits())
    pages = [render_page(CORPUS / CONTROL, n, DPI, Limits())[0] for n in range(1, count + 1)]
    save_scanned_pdf(image_only / "records.pdf", pages, dpi=DPI)
    started = time.perf_counter()
    ingest_production(archive, layered, Production(id="2023"), IngestOptions(jobs=1, ocr="never"))
    ingest_production(archive, image_only, Production(id="2025"), IngestOptions(jobs=1))
    ocr_seconds = time.perf_counter() - started
    rows = []
    with archive.catalog() as catalog:
        for label, pixels in (("text", None), ("images", page_comparison(archive.layout, catalog))):
            started = time.perf_counter()
            diff = diff_productions(catalog, "2023", "2025", pixels)
            seconds = time.perf_counter() - started
            changes = [p for c in diff.matched for p in c.pages]
            passages = sum(len(p.added) + len(p.removed) for p in changes)
            regions = sum(len(p.regions) for p in changes)
            rows.append([label, count, len(changes), passages, regions, _said_direction(diff),
                         f"{seconds / count:.2f}", f"{ocr_seconds / count:.2f}"])  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, help="write each pair's diff picture here")
    parser.add_argument("--no-diff", action="store_true", help="regions only (no ingest)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS}: the real corpus is not here")
    labels = json.loads(LABELS.read_text())
    pairs = _pairs(labels)
    scores, rows = _region_bench(pairs, args.images)
    print_table(["pair", "regions found", "fit", "compare s", "page OCR s"], rows)
    print(f"lowest fit score: {min(float(row[2]) for row in rows):.3f}")
    print()
    table = [
        [group, facet, s.true, s.false, s.missed, s.ratio(s.true, s.false),
         s.ratio(s.true, s.missed)]
        for (group, facet), s in sorted(scores.items())
    ]  # fmt: skip
    for group in ("tuned on", "held-out"):
        totals = [s for (g, _), s in scores.items() if g == group]
        true, false = sum(s.true for s in totals), sum(s.false for s in totals)
        missed = sum(s.missed for s in totals)
        table.append([group, "all", true, false, missed, Score().ratio(true, false),
                      Score().ratio(true, missed)])  # fmt: skip
    print_table(["pairs", "change", "right", "false", "missed", "precision", "recall"], table)
    wrong = sorted({line for score in scores.values() for line in score.wrong})
    print("\n".join(f"   {line}" for line in wrong[:40]))
    if args.no_diff:
        return
    work = Path(tempfile.mkdtemp(prefix="bench-diff-real-"))
    try:
        print()
        print_table(
            ["pair", "direction", "said (text)", "said (images)", "passages (text)",
             "passages (images)"],
            _diff_bench(pairs, work),
        )  # fmt: skip
        print()
        print_table(
            ["compared by", "pages", "pages changed", "passages", "regions", "said",
             "diff s/page", "ingest s/page"],
            _control_bench(work),
        )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
