"""Where OCR time goes on real scans: foiarchive's page read against raw Tesseract, page by page.

    python -m bench.ocr_time [--corpus ../shared/corpus] [--every 4]

Every `--every`-th page of corpus/scanned/*.pdf is read twice, one after the other: by
foiarchive's OCR path (render at 300 dpi, prepare, one Tesseract pass, orientation when weak,
redaction boxes, the labels' second look) in this process, and by a plain `tesseract PAGE.pgm
OUT --dpi 300` over the same page rendered by pdftoppm (rendering not counted, as in
bench.ingest). Taking the two turn about on each page keeps the ratio fair on a machine whose
load changes during the run, which a whole-production comparison (bench.ingest) is not. The
time of each of foiarchive's stages is printed beside it, and the pages that cost most.
OMP_THREAD_LIMIT=1 for both, one page at a time. Times are CPU seconds (this process's and its
finished children's): wall time on this shared machine moved by a tenth between two runs of
the same code, CPU time by a hundredth.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import children_cpu_seconds, print_table
from foiarchive.ingest import labels, ocr, pdf, tasks
from foiarchive.ingest.limits import Limits

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
#: (module, function, stage name): the parts of a page read that are timed apart.
STAGES = (
    (pdf, "render_page", "render"),
    (ocr, "_prepare", "prepare"),
    (ocr, "_run_tesseract", "tesseract pass"),
    (ocr, "_orientation", "orientation"),
    (ocr, "find_in_image", "boxes"),
    (labels, "label_boxes", "labels' second look"),
)


def cpu_now() -> float:
    """CPU seconds of this process and of its finished children (the Tesseract runs)."""
    return time.process_time() + children_cpu_seconds()


class Stopwatch:
    """CPU seconds and calls per stage, taken by wrapping each stage's function."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()

    def wrap(self, module: Any, name: str, stage: str) -> None:
        function: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = cpu_now()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += cpu_now() - start
                self.calls[stage] += 1

        setattr(module, name, timed)


def corpus_pages(folder: Path, every: int, limits: Limits) -> list[tuple[Path, int]]:
    pages = [
        (path, number)
        for path in sorted(folder.glob("*.pdf"))
        for number in range(1, pdf.page_count(path, limits) + 1)
    ]
    return pages[::every]


def raw_tesseract(path: Path, number: int, scratch: Path) -> float:
    base = scratch / "page"
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-f", str(number), "-l", str(number), "-singlefile",
         str(path), str(base)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    start = children_cpu_seconds()
    subprocess.run(
        ["tesseract", f"{base}.pgm", str(base), "--dpi", "300"], check=True, capture_output=True
    )
    return children_cpu_seconds() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--every", type=int, default=4, help="Read every Nth page.")
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    limits = Limits()
    settings = ocr.OcrSettings(tesseract_version=ocr.tesseract_version())
    watch = Stopwatch()
    for module, name, stage in STAGES:
        watch.wrap(module, name, stage)
    pages = corpus_pages(args.corpus / "scanned", args.every, limits)
    ours = theirs = 0.0
    costly = []
    with tempfile.TemporaryDirectory(prefix="foiarchive-bench-") as scratch:
        for path, number in pages:
            start = cpu_now()
            tasks.ocr_pdf_page(path, number, settings, limits)
            mine = cpu_now() - start
            raw = raw_tesseract(path, number, Path(scratch))
            ours, theirs = ours + mine, theirs + raw
            costly.append((mine / raw, mine, raw, f"{path.name} p.{number}"))
    print(
        f"\n{len(pages)} scanned pages (every {args.every}th of {args.corpus / 'scanned'}): "
        f"foiarchive {ours:.1f} CPU s, raw tesseract {theirs:.1f} CPU s, {ours / theirs:.2f}x\n"
    )
    print_table(
        ["stage", "CPU s", "calls", "ms a page", "share of raw"],
        [
            [stage, f"{seconds:.1f}", watch.calls[stage], f"{seconds / len(pages) * 1000:.0f}",
             f"{seconds / theirs:.1%}"]
            for stage, seconds in watch.seconds.most_common()
        ],
    )  # fmt: skip
    print("\ncostliest pages against raw tesseract")
    print_table(
        ["page", "ratio", "ours s", "raw s"],
        [
            [name, f"{r:.2f}", f"{a:.2f}", f"{b:.2f}"]
            for r, a, b, name in sorted(costly, reverse=True)[:8]
        ],
    )


if __name__ == "__main__":
    main()
