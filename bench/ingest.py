"""Ingest throughput against baselines measured in the same run, on the same pages and cores.

    python bench/ingest.py [--jobs 2] [--corpus ../shared/corpus | --no-corpus]

Scanned pages: foiarchive's whole ingest (render at 300 dpi, prepare, OCR, catalog, index)
against raw `tesseract` CLI runs (OMP_THREAD_LIMIT=1, `--jobs` at a time) over the same pages
already rendered to 300 dpi images. Born-digital pages: foiarchive against `pdftotext` over the
same PDFs, `--jobs` at a time. Then a repeat ingest of the unchanged production. Peak memory
is the largest process's RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# This file is named like the `ingest` package: run as a script, its own folder must not
# shadow the package, and the repository root must be importable.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from bench.common import FOIARCHIVE, parallel, print_table, timed  # noqa: E402
from ingest.sample import dense_page_lines, render_scan, save_scanned_pdf, write_text_pdf  # noqa: E402

DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"


def make_scanned(folder: Path, pages: int) -> None:
    rng = random.Random(1)
    folder.mkdir(parents=True)
    per_file = 10
    for first in range(0, pages, per_file):
        images = [
            render_scan(
                dense_page_lines(rng, lines=32, width=70),
                bates=f"BENCH-{n + 1:06d}",
                seed=n,
                skew=rng.choice([0.0, 0.0, 0.6, -0.9]),
            )
            for n in range(first, min(pages, first + per_file))
        ]
        save_scanned_pdf(folder / f"scan-{first // per_file:03d}.pdf", images)


def make_born_digital(folder: Path, pages: int) -> None:
    rng = random.Random(2)
    folder.mkdir(parents=True)
    per_file = 50
    for first in range(0, pages, per_file):
        count = min(per_file, pages - first)
        write_text_pdf(
            folder / f"report-{first // per_file:03d}.pdf",
            [dense_page_lines(rng, lines=58, width=100) for _ in range(count)],
            font_size=8.5,
        )


def pdf_pages(folder: Path) -> list[tuple[Path, int]]:
    found = []
    for path in sorted(folder.rglob("*.pdf")):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=False)
        pages = next(
            (
                int(line.split()[1])
                for line in info.stdout.splitlines()
                if line.startswith("Pages:")
            ),
            0,
        )
        if pages:
            found.append((path, pages))
    return found


def tesseract_baseline(folder: Path, work: Path, jobs: int) -> tuple[float, int]:
    """Seconds for raw tesseract over every page image (rendering not counted), and pages."""
    images = work / "images"
    images.mkdir()
    for n, (path, _) in enumerate(pdf_pages(folder)):
        subprocess.run(
            ["pdftoppm", "-r", "300", "-gray", str(path), str(images / f"f{n:03d}")], check=True
        )
    page_images = sorted(images.glob("*.pgm"))
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    commands = [["tesseract", str(p), str(p.with_suffix("")), "--dpi", "300"] for p in page_images]
    return parallel(commands, jobs, env), len(page_images)


def pdftotext_baseline(folder: Path, work: Path, jobs: int) -> tuple[float, int]:
    files = pdf_pages(folder)
    commands = [["pdftotext", str(p), str(work / f"{n}.txt")] for n, (p, _) in enumerate(files)]
    return parallel(commands, jobs), sum(pages for _, pages in files)


def foiarchive_ingest(
    folder: Path, archive: Path, jobs: int, ocr: str = "auto"
) -> tuple[float, float, dict]:
    run = timed(
        [
            *FOIARCHIVE,
            "--archive",
            str(archive),
            "ingest",
            str(folder),
            "--id",
            "bench",
            "--jobs",
            str(jobs),
            "--ocr",
            ocr,
            "--format",
            "json",
            "--quiet",
        ]
    )
    return run.seconds, run.peak_rss_mb, json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scanned-pages", type=int, default=40)
    parser.add_argument("--digital-pages", type=int, default=200)
    parser.add_argument(
        "--digital-pages-large",
        type=int,
        default=2000,
        help="A larger born-digital run, where start-up costs are amortized.",
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="foiarchive-bench-"))
    rows: list[list[object]] = []
    figures: dict[str, dict] = {}

    def compare(name: str, folder: Path, baseline: str, ocr: str = "auto") -> None:
        scratch = work / f"{name}-baseline"
        scratch.mkdir()
        if baseline == "tesseract":
            base_seconds, pages = tesseract_baseline(folder, scratch, args.jobs)
        else:
            base_seconds, pages = pdftotext_baseline(folder, scratch, args.jobs)
        seconds, peak, report = foiarchive_ingest(folder, work / f"{name}-archive", args.jobs, ocr)
        ours = report["pages"] / seconds
        theirs = pages / base_seconds
        figures[name] = {
            "pages": report["pages"],
            "seconds": round(seconds, 2),
            "baseline": baseline,
            "baseline_seconds": round(base_seconds, 2),
            "baseline_pages": pages,
            "pages_ocr": report["pages_ocr"],
            "failed": report["failed"],
            "peak_rss_mb": round(peak),
        }
        if baseline == "tesseract":
            ratio = f"{seconds / base_seconds:.2f}x {baseline}'s time"
        else:
            ratio = f"{ours / theirs:.2f}x {baseline}'s pages/s"
        figures[name]["ratio"] = ratio
        rows.append(
            [
                name,
                report["pages"],
                report["pages_ocr"],
                f"{seconds:.1f}",
                f"{ours:.1f}",
                f"{base_seconds:.1f}",
                f"{theirs:.1f}",
                ratio,
                f"{peak:.0f}",
            ]
        )

    scanned, digital = work / "scanned", work / "born-digital"
    make_scanned(scanned, args.scanned_pages)
    make_born_digital(digital, args.digital_pages)
    compare("generated scanned", scanned, "tesseract")
    compare("generated born-digital", digital, "pdftotext")
    if args.digital_pages_large:
        large = work / "born-digital-large"
        make_born_digital(large, args.digital_pages_large)
        compare("generated born-digital, large", large, "pdftotext")
    first = figures["generated scanned"]["seconds"]
    repeat = timed(
        [
            *FOIARCHIVE,
            "--archive",
            str(work / "generated scanned-archive"),
            "ingest",
            str(scanned),
            "--id",
            "bench",
            "--jobs",
            str(args.jobs),
            "--quiet",
        ]
    )
    figures["repeat"] = {
        "first_seconds": first,
        "repeat_seconds": round(repeat.seconds, 3),
        "speedup": round(first / repeat.seconds, 1),
    }
    if not args.no_corpus and args.corpus.is_dir():
        for kind, baseline in (("scanned", "tesseract"), ("born-digital", "pdftotext")):
            if (args.corpus / kind).is_dir():
                compare(f"corpus {kind}", args.corpus / kind, baseline)

    print(
        f"\nIngest benchmark, --jobs {args.jobs}, {os.cpu_count()} CPUs "
        "(baselines measured in this run on the same pages)\n"
    )
    print_table(
        ["kind", "pages", "OCR'd", "ours s", "ours p/s", "base s", "base p/s", "ratio", "peak MB"],
        rows,
    )
    print(
        f"\nrepeat ingest of the unchanged scanned production: {repeat.seconds:.2f} s vs "
        f"{first:.1f} s first ({first / repeat.seconds:.0f}x faster)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
