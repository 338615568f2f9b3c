"""Ingest throughput against baselines measured in the same run, on the same pages and cores.

    python -m bench.ingest [--jobs 2] [--corpus ../shared/corpus | --no-corpus] [--corpus-only]

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
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import FOIARCHIVE, Timed, children_cpu_seconds, parallel, print_table, timed
from foiarchive.ingest.sample import dense_page_lines, render_scan, save_scanned_pdf, write_text_pdf

HERE = Path(__file__).resolve().parent

DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
MIXED_KINDS = ("zip", "mbox", "docx", "load file")


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


def tesseract_baseline(folder: Path, work: Path, jobs: int) -> tuple[float, float, int]:
    """Wall and CPU seconds for raw tesseract over every page image (rendering not counted),
    and pages."""
    images = work / "images"
    images.mkdir()
    for n, (path, _) in enumerate(pdf_pages(folder)):
        subprocess.run(
            ["pdftoppm", "-r", "300", "-gray", str(path), str(images / f"f{n:03d}")], check=True
        )
    page_images = sorted(images.glob("*.pgm"))
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    commands = [["tesseract", str(p), str(p.with_suffix("")), "--dpi", "300"] for p in page_images]
    cpu = children_cpu_seconds()
    seconds = parallel(commands, jobs, env)
    return seconds, children_cpu_seconds() - cpu, len(page_images)


def pdftotext_baseline(folder: Path, work: Path, jobs: int) -> tuple[float, float, int]:
    files = pdf_pages(folder)
    commands = [["pdftotext", str(p), str(work / f"{n}.txt")] for n, (p, _) in enumerate(files)]
    cpu = children_cpu_seconds()
    seconds = parallel(commands, jobs)
    return seconds, children_cpu_seconds() - cpu, sum(pages for _, pages in files)


def foiarchive_ingest(
    folder: Path, archive: Path, jobs: int, ocr: str = "auto"
) -> tuple[Timed, dict]:
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
    return run, json.loads(run.stdout)


# -- productions as agencies deliver them ----------------------------------------------------
def make_mixed(work: Path, kind: str, rng: random.Random) -> tuple[Path, Path, str]:
    """(delivered folder, baseline folder or file list, baseline kind) for one format.

    zip and mbox are compared with the same files delivered loose (what unpacking costs);
    docx with LibreOffice converting the same files alone; load files with tesseract on
    the same page images."""
    delivered, loose = work / f"{kind}-delivered", work / f"{kind}-loose"
    delivered.mkdir()
    loose.mkdir()
    if kind in ("zip", "mbox"):
        import mailbox
        import zipfile
        from email.message import EmailMessage

        for n in range(20):
            write_text_pdf(
                loose / f"record-{n:02d}.pdf",
                [dense_page_lines(rng, lines=50, width=95) for _ in range(5)],
            )
        if kind == "zip":
            with zipfile.ZipFile(delivered / "production.zip", "w", zipfile.ZIP_DEFLATED) as z:
                for pdf in sorted(loose.iterdir()):
                    z.write(pdf, f"records/{pdf.name}")
        else:
            box = mailbox.mbox(str(delivered / "mail.mbox"))
            for pdf in sorted(loose.iterdir()):
                message = EmailMessage()
                message["From"], message["To"] = "a@agency.gov", "b@agency.gov"
                message["Subject"], message["Date"] = pdf.stem, "Mon, 06 Mar 2017 10:00:00 -0500"
                message.set_content("See attached.")
                message.add_attachment(
                    pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name
                )
                box.add(message)
            box.close()
        return delivered, loose, "foiarchive, loose files"
    if kind == "docx":
        import docx

        for n in range(6):
            document = docx.Document()
            for page in range(4):
                for line in dense_page_lines(rng, lines=30, width=90):
                    document.add_paragraph(line)
                if page < 3:
                    document.add_page_break()
            document.save(delivered / f"memo-{n}.docx")
        return delivered, delivered, "soffice"
    folder = delivered / "IMAGES"
    folder.mkdir()
    keys = [f"LF{n:06d}" for n in range(1, 13)]
    for n, key in enumerate(keys):
        render_scan(dense_page_lines(rng, lines=30, width=70), seed=n).save(folder / f"{key}.tif")
        render_scan(dense_page_lines(random.Random(n), lines=30, width=70), seed=n).save(
            loose / f"{key}.png"
        )
    (delivered / "VOL.opt").write_text(
        "".join(
            f"{k},VOL,IMAGES\\{k}.tif,{'Y' if i % 3 == 0 else ''},,,\n" for i, k in enumerate(keys)
        )
    )
    thorn, sep = "\u00fe", "\x14"
    rows = [["BEGBATES", "ENDBATES"]] + [[keys[i], keys[i + 2]] for i in range(0, 12, 3)]
    (delivered / "VOL.dat").write_text(
        "\n".join(sep.join(f"{thorn}{c}{thorn}" for c in row) for row in rows), encoding="utf-8"
    )
    return delivered, folder, "tesseract"


def mixed_baseline(kind: str, folder: Path, work: Path, jobs: int) -> float:
    if kind == "foiarchive, loose files":
        return foiarchive_ingest(folder, work / "loose-archive", jobs)[0].seconds
    if kind == "soffice":
        commands = [
            [
                "soffice",
                f"-env:UserInstallation=file://{work}/lo-{n}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work / "lo-out"),
                str(path),
            ]
            for n, path in enumerate(sorted(folder.glob("*.docx")))
        ]
        return parallel(commands, jobs)
    commands = [
        ["tesseract", str(path), str(work / path.stem), "--psm", "3"]
        for path in sorted(folder.glob("*.tif"))
    ]
    return parallel(commands, jobs, env={**os.environ, "OMP_THREAD_LIMIT": "1"})


def generated_runs(
    args: argparse.Namespace, work: Path, compare: Callable[..., None], figures: dict[str, dict]
) -> None:
    """Generated scanned and born-digital productions, then a repeat of the scanned one."""
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


def mixed_runs(
    args: argparse.Namespace, work: Path, figures: dict[str, dict]
) -> list[list[object]]:
    """Each delivery format against its baseline on the same content: the table's rows."""
    rows: list[list[object]] = []
    rng = random.Random(3)
    for kind in MIXED_KINDS:
        delivered, baseline_input, baseline = make_mixed(work, kind, rng)
        scratch = work / f"{kind}-baseline-work"
        scratch.mkdir()
        base_seconds = mixed_baseline(baseline, baseline_input, scratch, args.jobs)
        run, report = foiarchive_ingest(delivered, work / f"{kind}-archive", args.jobs)
        seconds, peak = run.seconds, run.peak_rss_mb
        figures[f"format {kind}"] = {
            "documents": report["ingested"],
            "pages": report["pages"],
            "seconds": round(seconds, 2),
            "baseline": baseline,
            "baseline_seconds": round(base_seconds, 2),
            "failed": report["failed"],
        }
        rows.append(
            [
                kind,
                report["ingested"],
                report["pages"],
                f"{seconds:.1f}",
                f"{report['pages'] / seconds:.1f}",
                baseline,
                f"{base_seconds:.1f}",
                f"{seconds / base_seconds:.2f}x",
                f"{peak:.0f}",
            ]
        )
    return rows


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
    parser.add_argument("--no-mixed", action="store_true", help="Skip the per-format runs.")
    parser.add_argument(
        "--corpus-only",
        action="store_true",
        help="Only the real corpus's scanned and born-digital folders (no generated runs).",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="foiarchive-bench-"))
    rows: list[list[object]] = []
    figures: dict[str, dict] = {}

    def compare(name: str, folder: Path, baseline: str, ocr: str = "auto") -> None:
        scratch = work / f"{name}-baseline"
        scratch.mkdir()
        if baseline == "tesseract":
            base_seconds, base_cpu, pages = tesseract_baseline(folder, scratch, args.jobs)
        else:
            base_seconds, base_cpu, pages = pdftotext_baseline(folder, scratch, args.jobs)
        run, report = foiarchive_ingest(folder, work / f"{name}-archive", args.jobs, ocr)
        seconds, peak = run.seconds, run.peak_rss_mb
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
            "cpu_seconds": round(run.cpu_seconds, 2),
            "baseline_cpu_seconds": round(base_cpu, 2),
        }
        if baseline == "tesseract":
            ratio = f"{seconds / base_seconds:.2f}x {baseline}'s time"
            # CPU time as well: wall time moves with whatever else the machine runs, and the
            # two runs are minutes apart.
            figures[name]["cpu_ratio"] = round(run.cpu_seconds / max(base_cpu, 1e-9), 3)
            ratio += f" (CPU {figures[name]['cpu_ratio']:.2f}x)"
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

    if not args.corpus_only:
        generated_runs(args, work, compare, figures)
    if not args.no_corpus and args.corpus.is_dir():
        for kind, baseline in (("scanned", "tesseract"), ("born-digital", "pdftotext")):
            if (args.corpus / kind).is_dir():
                compare(f"corpus {kind}", args.corpus / kind, baseline)
    mixed_rows = [] if args.no_mixed or args.corpus_only else mixed_runs(args, work, figures)

    print(
        f"\nIngest benchmark, --jobs {args.jobs}, {os.cpu_count()} CPUs "
        "(baselines measured in this run on the same pages)\n"
    )
    print_table(
        ["kind", "pages", "OCR'd", "ours s", "ours p/s", "base s", "base p/s", "ratio", "peak MB"],
        rows,
    )
    if mixed_rows:
        print("\nProductions as delivered (per format; baseline on the same content, this run)")
        print_table(
            [
                "format",
                "documents",
                "pages",
                "ours s",
                "pages/s",
                "baseline",
                "base s",
                "time vs baseline",
                "peak MB",
            ],
            mixed_rows,
        )
    if "repeat" in figures:
        repeat = figures["repeat"]
        print(
            f"\nrepeat ingest of the unchanged scanned production: {repeat['repeat_seconds']:.2f}"
            f" s vs {repeat['first_seconds']:.1f} s first ({repeat['speedup']:.0f}x faster)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
