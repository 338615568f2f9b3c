"""Redaction boxes found in real scanned pages, counted against labels taken by eye; no OCR.

    python -m bench.boxes_real [--corpus ../shared/corpus] [--labels bench/real_labels]
        [--dpi 300] [--baseline REV] [--details] [--dump DIR] [--only TEXT]

Every labelled page of a scanned PDF (bench/real_labels/*.jsonl, kind `scanned`; a file whose
sha256 no longer matches its label is skipped with a warning) is rendered the way ingest renders
it for OCR (ingest.pdf.render_page, grayscale, --dpi) and handed to
ingest.redactions.find_in_image. Figures per page kind (a page counts in each of its kinds):
  pages      labelled pages of that kind
  in range   share of pages whose number of boxes found lies in the labelled [min, max]
  MAE        mean distance from the count found to the nearest bound of the range
  over       pages where more boxes were found than labelled (form cells, bands, frames ...)
  under      pages where fewer were found (missed or merged boxes)
  ms/page    find_in_image's mean wall time per page (rendering not included)
With --baseline REV the ingest/redactions.py of git revision REV (e.g. main) is run on the same
images too and its figures are printed beside: before and after in one run. --details lists
each page (file, page, expected, found, and the baseline's count); --dump DIR writes each page
as a PNG with the boxes found drawn on it (filled red, outlined blue), named after file and
page; --only keeps the labels whose file name contains TEXT.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bench.common import ROOT, print_table
from bench.marks_real import DEFAULT_CORPUS, DEFAULT_LABELS, Label, check_files, read_labels
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.pdf import render_page
from foiarchive.ingest.redactions import find_in_image

Finder = Callable[[Image.Image, int | None], list[dict[str, Any]]]
TARGET = 0.90


@dataclass
class Count:
    """Boxes one finder found on one page, and how long it took."""

    found: int
    seconds: float
    boxes: list[dict[str, Any]] = field(default_factory=list)

    def bias(self, label: Label) -> int:
        low, high = label.boxes
        return max(0, self.found - high) - max(0, low - self.found)


def baseline_finder(revision: str) -> Finder:
    """find_in_image as it is in ingest/redactions.py at a git revision."""
    source = subprocess.run(
        ["git", "show", f"{revision}:ingest/redactions.py"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="foiarchive-boxes-baseline-"))
    path = folder / "redactions_baseline.py"
    path.write_text(source, "utf-8")
    spec = importlib.util.spec_from_file_location("redactions_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    finder: Finder = module.find_in_image
    return finder


def run(finder: Finder, image: Image.Image, dpi: int) -> Count:
    started = time.perf_counter()
    boxes = finder(image, dpi)
    return Count(len(boxes), time.perf_counter() - started, boxes)


def groups(labels: list[Label]) -> dict[str, list[int]]:
    """all, then every kind but `scanned`, most pages first: indexes into labels."""
    grouped = {"all": list(range(len(labels)))}
    kinds = Counter(k for label in labels for k in label.kinds if k != "scanned")
    for kind, _ in sorted(kinds.items(), key=lambda item: (-item[1], item[0])):
        grouped[kind] = [n for n, label in enumerate(labels) if kind in label.kinds]
    return grouped


def figures(labels: list[Label], counts: list[Count], indexes: list[int]) -> list[object]:
    biases = [counts[n].bias(labels[n]) for n in indexes]
    seconds = sum(counts[n].seconds for n in indexes)
    return [
        f"{100 * sum(b == 0 for b in biases) / len(biases):.1f}%",
        f"{sum(abs(b) for b in biases) / len(biases):.2f}",
        sum(b > 0 for b in biases),
        sum(b < 0 for b in biases),
        f"{1000 * seconds / len(indexes):.0f}",
    ]


def dump(folder: Path, label: Label, image: Image.Image, boxes: list[dict[str, Any]]) -> None:
    """The page with the boxes found drawn on it, at half size."""
    canvas = image.convert("RGB")
    width, height = canvas.size
    draw = ImageDraw.Draw(canvas)
    for found in boxes:
        x0, y0, x1, y1 = found["box"]
        colour = (220, 0, 0) if found["kind"] == "filled" else (0, 90, 255)
        draw.rectangle((x0 * width, y0 * height, x1 * width, y1 * height), outline=colour, width=6)
    low, high = label.boxes
    draw.text((20, 20), f"expected {low}-{high} found {len(boxes)}", fill=(255, 0, 160))
    canvas = canvas.reduce(2)
    name = Path(label.file).stem
    canvas.save(folder / f"{name}_p{label.page:03d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="Folder of *.jsonl.")
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--baseline", metavar="REV", help="Also run the finder of this revision.")
    parser.add_argument("--details", action="store_true", help="List every page's counts.")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="Write pages with boxes drawn.")
    parser.add_argument("--only", metavar="TEXT", help="Only files whose name contains TEXT.")
    args = parser.parse_args()

    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: pass --corpus")
    labels, _ = read_labels(args.labels)
    labels = [
        label
        for label in labels
        if "scanned" in label.kinds
        and label.file.lower().endswith(".pdf")
        and (args.only is None or args.only in label.file)
    ]
    labels, _ = check_files(labels, args.corpus.resolve())
    if not labels:
        raise SystemExit("no labelled scanned page is in the corpus unchanged")
    labels.sort(key=lambda label: (label.file, label.page))
    baseline = baseline_finder(args.baseline) if args.baseline else None
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)

    limits = Limits()
    counts: list[Count] = []
    before: list[Count] = []
    render_seconds = 0.0
    for label in labels:
        started = time.perf_counter()
        image, dpi = render_page(args.corpus / label.file, label.page, args.dpi, limits)
        render_seconds += time.perf_counter() - started
        counts.append(run(find_in_image, image, dpi))
        if baseline is not None:
            before.append(run(baseline, image, dpi))
        if args.dump:
            dump(args.dump, label, image, counts[-1].boxes)

    files = len({label.file for label in labels})
    print(
        f"\nRedaction boxes on {len(labels)} labelled scanned pages of {files} files, "
        f"rendered at {args.dpi} dpi ({1000 * render_seconds / len(labels):.0f} ms a page)\n"
    )
    headers = ["kind", "pages", "in range", "MAE", "over", "under", "ms/page"]
    if baseline is not None:
        headers += [f"{args.baseline}: in range", "MAE", "over", "under", "ms/page"]
    target: list[object] = ["target", "", f">= {TARGET:.0%}", "", "", "", "<= 50"]
    rows: list[list[object]] = [target + ([""] * 5 if baseline is not None else [])]
    for name, indexes in groups(labels).items():
        row = [name, len(indexes), *figures(labels, counts, indexes)]
        if baseline is not None:
            row += figures(labels, before, indexes)
        rows.append(row)
    print_table(headers, rows)
    if args.details:
        print()
        detail_headers = ["file", "page", "kinds", "expected", "found"]
        if baseline is not None:
            detail_headers.append(args.baseline)
        detail_rows: list[list[object]] = []
        for n, label in enumerate(labels):
            low, high = label.boxes
            mark = "" if counts[n].bias(label) == 0 else " *"
            row: list[object] = [
                Path(label.file).stem,
                label.page,
                ",".join(k for k in label.kinds if k != "scanned"),
                f"{low}-{high}" if low != high else str(low),
                f"{counts[n].found}{mark}",
            ]
            if baseline is not None:
                row.append(before[n].found)
            detail_rows.append(row)
        print_table(detail_headers, detail_rows)


if __name__ == "__main__":
    sys.exit(main())
