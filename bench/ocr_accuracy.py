"""OCR accuracy against human ground truth, next to raw Tesseract on the same images.

    python -m bench.ocr_accuracy [--corpus ../shared/corpus]

For every image in corpus/images/ with a `.gt.txt` beside it (for rotated copies, the
ground truth of the upright original), foiarchive's OCR (the exact path ingest takes for an
image: preparation, one Tesseract pass, orientation fallback) and a plain `tesseract IMAGE
stdout` run (OMP_THREAD_LIMIT=1, default settings) are scored with:
  CER     character error rate: edit distance / ground-truth characters (whitespace folded)
  WER     word error rate: word-level edit distance / ground-truth words
  recall  order-free word recall: the share of ground-truth words (as the search analyzer
          splits them) found anywhere on the page, i.e. what full-text search can find
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path

from bench.common import print_table
from foiarchive.index.analysis import terms
from foiarchive.ingest import tasks
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.ocr import OcrSettings, tesseract_version

HERE = Path(__file__).resolve().parent

DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg")


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance by Hyyrö's bit-parallel algorithm (Python ints as bit vectors)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    positions: dict[Hashable, int] = {}
    for i, item in enumerate(a):
        positions[item] = positions.get(item, 0) | (1 << i)
    ones = (1 << len(a)) - 1
    top = 1 << (len(a) - 1)
    pv, mv, score = ones, 0, len(a)
    for item in b:
        eq = positions.get(item, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & ones) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & ones
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & ones
        mh = (mh << 1) & ones
        pv = (mh | ~(xv | ph)) & ones
        mv = ph & xv
    return score


def scores(truth: str, found: str) -> tuple[float, float, float]:
    truth_chars, found_chars = " ".join(truth.split()), " ".join(found.split())
    cer = levenshtein(truth_chars, found_chars) / max(1, len(truth_chars))
    truth_words, found_words = truth.split(), found.split()
    wer = levenshtein(truth_words, found_words) / max(1, len(truth_words))
    wanted, seen = Counter(terms(truth)), Counter(terms(found))
    recall = sum((wanted & seen).values()) / max(1, sum(wanted.values()))
    return cer, wer, recall


def ground_truth(image: Path) -> Path | None:
    stem = image.name.split(".")[0]
    for candidate in (stem, stem.split("-rotated")[0]):
        path = image.with_name(candidate + ".gt.txt")
        if path.exists():
            return path
    return None


def raw_tesseract(image: Path) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        ["tesseract", str(image), "stdout"],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        check=True,
    )
    return done.stdout, time.perf_counter() - started


def ours(image: Path, settings: OcrSettings) -> tuple[str, float]:
    started = time.perf_counter()
    result = tasks.ocr_image(image, 1, settings, Limits())
    return result.text, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    settings = OcrSettings("eng", 300, tesseract_version())
    images = sorted(
        p
        for p in (args.corpus / "images").iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and ground_truth(p)
    )
    if not images:
        raise SystemExit(f"no images with .gt.txt ground truth under {args.corpus / 'images'}")
    rows, totals = [], {"raw": [0.0, 0.0, 0.0, 0.0], "ours": [0.0, 0.0, 0.0, 0.0]}
    for image in images:
        truth = ground_truth(image).read_text("utf-8")  # type: ignore[union-attr]
        weight = len(truth.split())
        row: list[object] = [image.name, weight]
        results = {"raw": raw_tesseract(image), "ours": ours(image, settings)}
        for name in ("raw", "ours"):
            text, seconds = results[name]
            cer, wer, recall = scores(truth, text)
            for i, value in enumerate((cer, wer, recall, seconds)):
                totals[name][i] += value * (weight if i < 3 else 1)
            row.append((cer, wer, recall, seconds))
        rows.append(
            [row[0], row[1]]
            + [f"{row[k][i]:.3f}" for i in range(3) for k in (2, 3)]
            + [f"{row[2][3]:.1f}/{row[3][3]:.1f}"]
        )
    words = sum(int(r[1]) for r in rows)
    rows.append(
        ["ALL (word-weighted)", words]
        + [f"{totals[k][i] / words:.3f}" for i in range(3) for k in ("raw", "ours")]
        + [f"{totals['raw'][3]:.1f}/{totals['ours'][3]:.1f}"]
    )
    print(
        f"\nOCR accuracy vs ground truth, Tesseract {settings.tesseract_version}, "
        "raw = `tesseract IMAGE stdout`, ours = foiarchive's image OCR (lower CER/WER and "
        "higher recall are better)\n"
    )
    print_table(
        [
            "image",
            "words",
            "CER raw",
            "CER ours",
            "WER raw",
            "WER ours",
            "recall raw",
            "recall ours",
            "seconds raw/ours",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
