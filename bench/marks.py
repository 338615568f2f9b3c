"""Precision and recall of the FOIA marks, on labelled FOIA-style pages made here.

    python -m bench.marks [--documents 12] [--pages 4] [--corpus ../shared/corpus]

Each generated page is a 300 dpi scan of a memo in a varied font and size, slightly skewed and
speckled, with black redaction boxes or outlined white boxes, exemption codes beside them or
inside them (single and multi-code citations), a Bates stamp in a varying corner, and now and
then a page withheld in full. The truth is written beside each page. The production is ingested
with the real pipeline, and what the catalog holds is scored per mark type:
  Bates          exact stamp per page
  exemptions     the set of codes per page (b6, b7c, ...)
  boxes          redaction boxes matched at IoU >= 0.5 (F1)
  withheld       pages withheld in full (F1)
With --corpus, it also lists what it found on the real documents there.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.common import FOIARCHIVE, print_table
from foiarchive import Archive
from foiarchive.ingest.sample import MEMO_PARAGRAPHS, wrap

HERE = Path(__file__).resolve().parent

DPI = 300
PAGE = (int(8.5 * DPI), 11 * DPI)
CODES = ["(b)(6)", "(b)(7)(C)", "(b)(5)", "(b)(7)(E)", "(b)(3)", "b6", "b7C", "(b)(4)"]
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype")]
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
#: The issue's accuracy targets, printed beside each measured row.
TARGETS = {
    "bates": "P,R >= 0.98",
    "codes": "P >= 0.97, R >= 0.95",
    "boxes": "F1 >= 0.95 (IoU 0.5)",
    "withheld": "F1 >= 0.95",
}


def fonts() -> list[Path | None]:
    found: list[Path | None] = [None]  # Pillow's own
    for folder in FONT_DIRS:
        found += sorted(
            p
            for p in folder.glob("*.ttf")
            if "Oblique" not in p.name and "Italic" not in p.name and "ExtraLight" not in p.name
        )
    return list(dict.fromkeys(found))[:8]


def font(path: Path | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return (
        ImageFont.load_default(size=size) if path is None else ImageFont.truetype(str(path), size)
    )


def normalize(code: str) -> str:
    code = code.lower().replace("(", "").replace(")", "")
    return code


def make_page(rng: random.Random, bates: str, font_path: Path | None) -> tuple[Image.Image, dict]:
    """One labelled page: the image and its truth."""
    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    width, height = PAGE
    truth: dict = {"bates": bates, "codes": [], "boxes": [], "withheld": False}
    if rng.random() < 0.12:
        code = rng.choice(["(b)(5)", "(b)(6)", "(b)(7)(E)"])
        text = rng.choice(
            [
                f"Page withheld in full pursuant to exemption {code}",
                f"WITHHELD IN FULL {code}",
                f"This page has been withheld {code}",
            ]
        )
        big = font(font_path, 60)
        draw.text((width // 2, height // 2), text, fill=0, font=big, anchor="mm")
        truth["withheld"] = True
        truth["codes"] = [normalize(code)]
    else:
        size = rng.choice([38, 42, 46, 50])
        body = font(font_path, size)
        left, y = int(rng.uniform(0.9, 1.2) * DPI), int(rng.uniform(0.9, 1.3) * DPI)
        paragraphs = rng.sample(MEMO_PARAGRAPHS, 3)
        lines = [line for p in paragraphs for line in (*wrap(p, 62), "")]
        codes_used: set[str] = set()
        for line in lines:
            if y > height - 1.6 * DPI:
                break
            draw.text((left, y), line, fill=0, font=body)
            line_width = draw.textlength(line, font=body)
            if line and rng.random() < 0.18:
                start = left + line_width * rng.uniform(0.1, 0.5)
                end = min(left + line_width, start + rng.uniform(0.15, 0.45) * width)
                box = (int(start), y - 6, int(end), y + size + 8)
                outlined = rng.random() < 0.35
                picked = rng.sample(CODES, 2 if rng.random() < 0.25 else 1)
                label = ", ".join(picked)
                if outlined:
                    draw.rectangle(box, outline=0, width=4, fill=255)
                else:
                    draw.rectangle(box, fill=0)
                inside = outlined and (box[2] - box[0]) > draw.textlength(label, font=body) + 20
                if inside:
                    draw.text((box[0] + 10, y), label, fill=0, font=body)
                else:
                    draw.text((width - int(0.35 * DPI), y), label, fill=0, font=body, anchor="ra")
                codes_used |= {normalize(c) for c in picked}
                truth["boxes"].append(
                    [box[0] / width, box[1] / height, box[2] / width, box[3] / height]
                )
            y += int(size * 1.5)
        truth["codes"] = sorted(codes_used)
    stamp = font(font_path, 40)
    corner = rng.choice(["br", "br", "bl", "tr"])
    x = width - int(0.5 * DPI) if corner[1] == "r" else int(0.5 * DPI)
    y = height - int(0.45 * DPI) if corner[0] == "b" else int(0.4 * DPI)
    draw.text((x, y), bates, fill=0, font=stamp, anchor="rs" if corner[1] == "r" else "ls")
    for _ in range(2500):
        draw.point((rng.randrange(width), rng.randrange(height)), fill=rng.randrange(0, 140))
    image = image.rotate(
        rng.uniform(-1.5, 1.5), resample=Image.Resampling.BILINEAR, fillcolor=255
    ).filter(ImageFilter.GaussianBlur(0.5))
    return image, truth


def iou(a: list[float], b: list[float]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=12)
    parser.add_argument("--pages", type=int, default=4, help="Pages per document.")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args()
    rng = random.Random(11)
    work = Path(tempfile.mkdtemp(prefix="foiarchive-bench-marks-"))
    truths: dict[tuple[str, int], dict] = {}
    try:
        source = work / "release"
        source.mkdir()
        prefixes = ["ICE-2017-", "DHS ", "EOUSA-", "FBI-19-cv-4048-"]
        available = fonts()
        for d in range(args.documents):
            prefix, start = rng.choice(prefixes), rng.randint(1, 90000)
            font_path = available[d % len(available)]
            images = []
            for p in range(args.pages):
                image, truth = make_page(rng, f"{prefix}{start + p:06d}", font_path)
                images.append(image)
                truths[(f"doc-{d:03d}.pdf", p + 1)] = truth
            images[0].save(
                source / f"doc-{d:03d}.pdf",
                "PDF",
                resolution=DPI,
                save_all=True,
                append_images=images[1:],
            )
        (work / "truth.json").write_text(
            json.dumps({f"{k[0]}#{k[1]}": v for k, v in truths.items()}, indent=1)
        )
        archive = work / "archive"
        subprocess.run(
            [
                *FOIARCHIVE,
                "--archive",
                str(archive),
                "ingest",
                str(source),
                "--id",
                "marks",
                "--jobs",
                str(args.jobs),
                "--quiet",
            ],
            check=False,
            cwd=HERE.parent,
            stdout=subprocess.DEVNULL,
        )
        counts = Counter()
        missed: list[str] = []
        with Archive(archive).catalog() as catalog:
            for document in catalog.documents("marks"):
                for page in catalog.pages(document.id):
                    truth = truths[(document.path, page.number)]
                    where = f"{document.path} p.{page.number}"
                    found_bates = page.bates[0] if page.bates else ""
                    if found_bates and found_bates.replace(" ", "-") == truth["bates"].replace(
                        " ", "-"
                    ):
                        counts["bates_tp"] += 1
                    else:
                        counts["bates_fp"] += bool(found_bates)
                        counts["bates_fn"] += 1
                        missed.append(f"{where}: Bates {found_bates!r} != {truth['bates']!r}")
                    got, want = set(page.exemptions), set(truth["codes"])
                    counts["codes_tp"] += len(got & want)
                    counts["codes_fp"] += len(got - want)
                    counts["codes_fn"] += len(want - got)
                    if got != want:
                        missed.append(f"{where}: codes {sorted(got)} != {sorted(want)}")
                    boxes = [r["box"] for r in page.redactions]
                    matched = set()
                    for expected in truth["boxes"]:
                        best = max(
                            range(len(boxes)), key=lambda i: iou(boxes[i], expected), default=None
                        )
                        if (
                            best is not None
                            and best not in matched
                            and iou(boxes[best], expected) >= 0.5
                        ):
                            matched.add(best)
                            counts["boxes_tp"] += 1
                        else:
                            counts["boxes_fn"] += 1
                    counts["boxes_fp"] += len(boxes) - len(matched)
                    if len(boxes) != len(matched) or len(matched) != len(truth["boxes"]):
                        missed.append(
                            f"{where}: {len(matched)} of {len(truth['boxes'])} boxes "
                            f"found, {len(boxes) - len(matched)} extra"
                        )
                    key = (
                        ("tp" if truth["withheld"] else "fp")
                        if page.withheld_in_full
                        else ("fn" if truth["withheld"] else "tn")
                    )
                    counts[f"withheld_{key}"] += 1
        rows = []
        for kind, target in TARGETS.items():
            precision, recall, score = f1(
                counts[f"{kind}_tp"], counts[f"{kind}_fp"], counts[f"{kind}_fn"]
            )
            rows.append(
                [
                    kind,
                    counts[f"{kind}_tp"],
                    counts[f"{kind}_fp"],
                    counts[f"{kind}_fn"],
                    f"{precision:.3f}",
                    f"{recall:.3f}",
                    f"{score:.3f}",
                    target,
                ]
            )
        print(
            f"\nFOIA marks on {len(truths)} generated 300 dpi pages "
            f"({args.documents} documents, {len(fonts())} fonts)\n"
        )
        print_table(["mark", "TP", "FP", "FN", "precision", "recall", "F1", "target"], rows)
        if missed:
            print(f"\n{len(missed)} page-level differences, first 15:")
            for line in missed[:15]:
                print("  " + line)
        if not args.no_corpus and (args.corpus / "scanned").is_dir():
            corpus_summary(args.corpus, work, args.jobs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def corpus_summary(corpus: Path, work: Path, jobs: int) -> None:
    """What the marks look like on real documents (no ground truth: a listing to read)."""
    archive = work / "corpus-archive"
    for kind in ("scanned", "born-digital"):
        subprocess.run(
            [
                *FOIARCHIVE,
                "--archive",
                str(archive),
                "ingest",
                str(corpus / kind),
                "--id",
                kind,
                "--jobs",
                str(jobs),
                "--quiet",
            ],
            check=False,
            cwd=HERE.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    print("\nOn ../shared/corpus (no ground truth):")
    with Archive(archive).catalog() as catalog:
        for production in ("scanned", "born-digital"):
            for document in catalog.documents(production):
                pages = catalog.pages(document.id)
                codes = Counter(code for p in pages for code in p.exemptions)
                state = Counter(
                    f"{c['code']}"
                    for p in pages
                    for c in p.citations
                    if c["statute"] != "5 U.S.C. 552(b)"
                )
                boxes = sum(len(p.redactions) for p in pages)
                leaks = sum(1 for p in pages for r in p.redactions if r.get("text_under", 0) >= 3)
                withheld = sum(p.withheld_in_full for p in pages)
                listed = sum(len(p.withheld_pages) for p in pages)
                bates = (
                    f"{document.bates_first}..{document.bates_last}"
                    if (document.bates_first)
                    else "-"
                )
                print(
                    f"  {document.path[:48]:48} {len(pages):3}p boxes {boxes:3} "
                    f"leaks {leaks} withheld {withheld}+{listed} bates {bates} "
                    f"codes {dict(codes.most_common(4))} state {dict(state.most_common(3))}"
                )


if __name__ == "__main__":
    main()
