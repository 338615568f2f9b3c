"""The FOIA marks foiarchive reads on real release pages, scored against labels taken by eye.

    python -m bench.marks_real [--corpus ../shared/corpus] [--labels bench/real_labels]
        [--jobs 2] [--keep DIR] [--json FILE] [--details]

Every labelled file (bench/real_labels/*.jsonl, format in its README; a file whose sha256 no
longer matches its label is skipped with a warning) is copied into a temporary folder and
ingested as one production with the real pipeline, through the command line. What the catalog
then holds for each labelled page is scored, per page kind (a page counts in each of its
label's kinds), for all pages, and for scanned and born-digital pages apart:
  boxes in range  share of pages whose number of redaction boxes lies in the labelled
                  [min, max]; box MAE is the mean distance from the count to the nearest bound
  codes P, R      precision and recall over (page, federal exemption code) pairs, codes exact:
                  a printed bare (b)(7) read as b7c is one miss and one false positive
  Bates right     on pages with a stamp, the share whose stamp names the labelled one (compared
                  on schemas.bates' key, so case, spaces, hyphens and zero padding do not count)
  Bates invented  pages with no stamp where foiarchive reports one
  withheld P, R   pages standing for withheld material (withheld in full, or a deleted page
                  information sheet)
  false leaks     boxes flagged as having text under them (disclosure.report's rule) beyond the
                  labelled number, summed over born-digital pages; missed leaks the reverse
  phrases         share of the labelled phrases found in the page text (case, whitespace,
                  Unicode dashes and quotes folded): a cheap check of reading order and OCR
With --keep DIR the archive is kept in DIR and reused on the next run: ingest is skipped when
DIR's catalog already holds every labelled file; --reread reads the files again (OCR from the
archive's cache, no Tesseract) to measure a change to how marks are read. --details lists
each wrong mark per page (Bates~ marks a stamp right by the key but printed otherwise, e.g.
FBI read as F8I).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import FOIARCHIVE, ROOT, print_table
from foiarchive import Archive
from foiarchive.disclosure.report import LEAK_MIN_CHARS
from foiarchive.schemas.bates import parse_bates
from foiarchive.schemas.records import Page

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_LABELS = ROOT / "bench" / "real_labels"
PRODUCTION = "real"
#: Exit codes of `foiarchive ingest` after which the catalog can be scored: 3 = some files
#: failed (their pages score as empty), 4 = the search index is behind (the catalog is not).
INGEST_OK = (0, 3, 4)
ORIGINS = ("scanned", "born-digital")
#: The issue's targets, printed beside the measured figures.
TARGETS = {
    "boxes in range": ">= 90%",
    "codes P": ">= 0.95",
    "codes R": ">= 0.95",
    "Bates right": ">= 97%",
    "Bates invented": "0",
    "false leaks": "0",
}
_FOLD = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
)


@dataclass
class Label:
    """One page as a person read it (see bench/real_labels/README.md)."""

    file: str
    sha256: str
    page: int
    kinds: list[str]
    boxes: tuple[int, int]
    codes: list[str]
    bates: str | None
    withheld: bool
    leaks: int | None
    phrases: list[str]

    @property
    def origin(self) -> str:
        """scanned or born-digital: from the kinds, else from the corpus folder."""
        return next((k for k in ORIGINS if k in self.kinds), self.file.split("/")[0])


@dataclass
class Score:
    """What foiarchive found on one labelled page, and how it compares."""

    file: str
    page: int
    kinds: list[str]
    found_page: bool = True
    boxes: int = 0
    box_bias: int = 0  # boxes found beyond the labelled range (+) or short of it (-)
    codes_tp: int = 0
    codes_fp: int = 0
    codes_fn: int = 0
    bates: str = ""  # right, wrong, missed, invented, or "" when no stamp and none found
    bates_exact: bool = False  # right, and printed the same but for case, spaces and hyphens
    withheld: str = ""  # tp, fp, fn, or ""
    leaks: int | None = None
    false_leaks: int = 0
    missed_leaks: int = 0
    phrases: int = 0
    phrases_found: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # mark, expected, found


# -- labels and files -----------------------------------------------------------------------
def read_labels(folder: Path) -> tuple[list[Label], list[str]]:
    """Every label of every *.jsonl in folder (first label wins for a repeated page)."""
    labels: dict[tuple[str, int], Label] = {}
    files = sorted(folder.glob("*.jsonl"))
    for path in files:
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                label = parse_label(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                warn(f"{path.name}:{n}: unreadable label skipped ({error})")
                continue
            key = (label.file, label.page)
            if key in labels:
                warn(f"{path.name}:{n}: {label.file} p.{label.page} labelled twice, first kept")
                continue
            labels[key] = label
    return list(labels.values()), [p.name for p in files]


def parse_label(data: dict[str, Any]) -> Label:
    low, high = data["boxes"]
    return Label(
        file=data["file"],
        sha256=data["sha256"],
        page=int(data["page"]),
        kinds=list(data.get("kinds") or []),
        boxes=(int(low), int(high)),
        codes=sorted({str(c).lower() for c in data.get("codes") or []}),
        bates=data.get("bates") or None,
        withheld=bool(data.get("withheld")),
        leaks=None if data.get("leaks") is None else int(data["leaks"]),
        phrases=list(data.get("phrases") or []),
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_files(labels: list[Label], corpus: Path) -> tuple[list[Label], list[str]]:
    """The labels whose file is in the corpus unchanged; the files skipped, with a warning."""
    digests: dict[str, str | None] = {}
    for name in sorted({label.file for label in labels}):
        path = corpus / name
        digests[name] = sha256(path) if path.is_file() else None
    kept, skipped = [], set()
    for label in labels:
        digest = digests[label.file]
        if digest == label.sha256:
            kept.append(label)
        elif label.file not in skipped:
            skipped.add(label.file)
            warn(
                f"{label.file}: "
                + ("not in the corpus" if digest is None else "changed since it was labelled")
                + ", its labels are skipped"
            )
    return kept, sorted(skipped)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


# -- ingest and catalog ---------------------------------------------------------------------
def ingest(
    files: list[str], corpus: Path, archive: Path, jobs: int, *, reread: bool = False
) -> float:
    """Ingest the files (paths under corpus) as one production; the wall time."""
    with tempfile.TemporaryDirectory(prefix="foiarchive-bench-real-") as work:
        source = Path(work) / "release"
        for name in files:
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(corpus / name, target)
        command = [
            *FOIARCHIVE,
            "--archive",
            str(archive),
            "ingest",
            str(source),
            "--id",
            PRODUCTION,
            "--quiet",
            "--jobs",
            str(jobs),
            *(["--reread"] if reread else []),
        ]
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        seconds = time.perf_counter() - started
    if done.returncode not in INGEST_OK:
        tail = done.stderr.decode("utf-8", "replace")[-2000:]
        raise SystemExit(f"ingest failed (exit {done.returncode}):\n{tail}")
    if done.returncode:
        warn(f"ingest exit code {done.returncode}: {done.stderr.decode('utf-8', 'replace')[-500:]}")
    return seconds


def cataloged_files(archive: Path) -> set[str]:
    if not Archive(archive).exists():
        return set()
    with Archive(archive).catalog(read_only=True) as catalog:
        return {d.path for d in catalog.documents(PRODUCTION)}


def found_pages(archive: Path) -> tuple[dict[tuple[str, int], Page], dict[str, str]]:
    """Every page of the production by (path, number), and the errors of failed files."""
    pages: dict[tuple[str, int], Page] = {}
    errors: dict[str, str] = {}
    with Archive(archive).catalog(read_only=True) as catalog:
        for document in catalog.documents(PRODUCTION):
            if document.status != "ok":
                errors[document.path] = document.error
            for page in catalog.pages(document.id):
                pages[(document.path, page.number)] = page
    return pages, errors


# -- scoring one page -----------------------------------------------------------------------
def fold(text: str) -> str:
    """Text as compared for phrases: NFKC, dashes and quotes plain, casefolded, spaces single."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).casefold().split())


def bates_key(stamp: str) -> str:
    """A stamp as compared: schemas.bates' key (which also folds zero padding and OCR
    look-alikes such as O and 0), or for what it cannot parse, plain_stamp."""
    parsed = parse_bates(stamp)
    return parsed.key if parsed is not None else plain_stamp(stamp)


def plain_stamp(stamp: str) -> str:
    """A stamp lowercased without spaces, hyphens and underscores."""
    return "".join(c for c in stamp.casefold() if not c.isspace() and c not in "-_")


def leaking(page: Page) -> int:
    """Boxes with text still under them, by the rule of disclosure.report."""
    return sum(1 for r in page.redactions if r.get("text_under", 0) >= LEAK_MIN_CHARS)


def score_page(label: Label, page: Page | None) -> Score:
    score = Score(label.file, label.page, label.kinds, found_page=page is not None)
    if page is None:
        score.wrong.append(("page", "ingested", "missing from the catalog"))
        page = Page(label.page)
    score_boxes(score, label, page)
    score_codes(score, label, page)
    score_bates(score, label, page)
    score_withheld(score, label, page)
    score_leaks(score, label, page)
    score_phrases(score, label, page)
    return score


def score_boxes(score: Score, label: Label, page: Page) -> None:
    low, high = label.boxes
    score.boxes = len(page.redactions)
    score.box_bias = max(0, score.boxes - high) - max(0, low - score.boxes)
    if score.box_bias:
        expected = str(low) if low == high else f"{low}-{high}"
        score.wrong.append(("boxes", expected, str(score.boxes)))


def score_codes(score: Score, label: Label, page: Page) -> None:
    want, got = set(label.codes), set(page.exemptions)
    score.codes_tp = len(want & got)
    score.codes_fp = len(got - want)
    score.codes_fn = len(want - got)
    if want != got:
        score.wrong.append(("codes", " ".join(sorted(want)) or "-", " ".join(sorted(got)) or "-"))


def score_bates(score: Score, label: Label, page: Page) -> None:
    found = page.bates
    if label.bates is None:
        score.bates = "invented" if found else ""
    elif not found:
        score.bates = "missed"
    else:
        key, plain = bates_key(label.bates), plain_stamp(label.bates)
        score.bates = "right" if any(bates_key(s) == key for s in found) else "wrong"
        score.bates_exact = any(plain_stamp(s) == plain for s in found)
    if score.bates not in ("", "right"):
        score.wrong.append(("Bates", label.bates or "-", " | ".join(found) or "-"))
    elif score.bates == "right" and not score.bates_exact:
        score.wrong.append(("Bates~", label.bates or "-", " | ".join(found)))


def score_withheld(score: Score, label: Label, page: Page) -> None:
    found = page.withheld_in_full or bool(page.withheld_pages)
    if label.withheld or found:
        score.withheld = "tp" if label.withheld and found else "fn" if label.withheld else "fp"
    if score.withheld in ("fp", "fn"):
        how = "in full" if page.withheld_in_full else "sheet" if page.withheld_pages else "no"
        score.wrong.append(("withheld", "yes" if label.withheld else "no", how))


def score_leaks(score: Score, label: Label, page: Page) -> None:
    if label.leaks is None:  # a scan: nothing is under its boxes
        return
    score.leaks = leaking(page)
    score.false_leaks = max(0, score.leaks - label.leaks)
    score.missed_leaks = max(0, label.leaks - score.leaks)
    if score.leaks != label.leaks:
        score.wrong.append(("leaks", str(label.leaks), str(score.leaks)))


def score_phrases(score: Score, label: Label, page: Page) -> None:
    text = fold(page.text)
    missing = [p for p in label.phrases if fold(p) not in text]
    score.phrases, score.phrases_found = len(label.phrases), len(label.phrases) - len(missing)
    for phrase in missing:
        score.wrong.append(("phrase", phrase, "not in text"))


# -- figures --------------------------------------------------------------------------------
def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def figures(scores: list[Score]) -> dict[str, Any]:
    """The measures of a group of pages (None where there is nothing to measure)."""
    bates = Counter(s.bates for s in scores)
    withheld = Counter(s.withheld for s in scores)
    phrases = sum(s.phrases for s in scores)
    stamped = bates["right"] + bates["wrong"] + bates["missed"]
    tp, fp, fn = (sum(getattr(s, f"codes_{k}") for s in scores) for k in ("tp", "fp", "fn"))
    return {
        "pages": len(scores),
        "pages_missing": sum(not s.found_page for s in scores),
        "boxes_in_range": ratio(sum(s.box_bias == 0 for s in scores), len(scores)),
        "boxes_mae": ratio(sum(abs(s.box_bias) for s in scores), len(scores)),
        "boxes_pages_over": sum(s.box_bias > 0 for s in scores),
        "boxes_pages_under": sum(s.box_bias < 0 for s in scores),
        "boxes_found": sum(s.boxes for s in scores),
        "codes_tp": tp,
        "codes_fp": fp,
        "codes_fn": fn,
        "codes_precision": ratio(tp, tp + fp),
        "codes_recall": ratio(tp, tp + fn),
        "bates_stamped": stamped,
        "bates_right": ratio(bates["right"], stamped),
        "bates_exact": ratio(sum(s.bates_exact for s in scores), stamped),
        "bates_wrong": bates["wrong"],
        "bates_missed": bates["missed"],
        "bates_invented": bates["invented"],
        "withheld_tp": withheld["tp"],
        "withheld_fp": withheld["fp"],
        "withheld_fn": withheld["fn"],
        "withheld_precision": ratio(withheld["tp"], withheld["tp"] + withheld["fp"]),
        "withheld_recall": ratio(withheld["tp"], withheld["tp"] + withheld["fn"]),
        "leak_pages": sum(s.leaks is not None for s in scores),
        "false_leaks": sum(s.false_leaks for s in scores),
        "missed_leaks": sum(s.missed_leaks for s in scores),
        "phrases": phrases,
        "phrases_found": ratio(sum(s.phrases_found for s in scores), phrases),
    }


def groups(scores: list[Score], labels: list[Label]) -> dict[str, list[Score]]:
    """all, scanned, born-digital, then every other kind, most pages first."""
    origin = {(label.file, label.page): label.origin for label in labels}
    grouped: dict[str, list[Score]] = {"all": scores}
    for name in ORIGINS:
        grouped[name] = [s for s in scores if origin[(s.file, s.page)] == name]
    kinds = Counter(k for s in scores for k in s.kinds if k not in ORIGINS)
    for kind, _ in sorted(kinds.items(), key=lambda item: (-item[1], item[0])):
        grouped[kind] = [s for s in scores if kind in s.kinds]
    return grouped


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def decimal(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table_row(name: str, f: dict[str, Any]) -> list[object]:
    bates = f"{percent(f['bates_right'])} of {f['bates_stamped']}" if f["bates_stamped"] else "-"
    leaks = f"{f['false_leaks']}/{f['missed_leaks']}" if f["leak_pages"] else "-"
    return [
        name,
        f["pages"],
        percent(f["boxes_in_range"]),
        decimal(f["boxes_mae"]),
        decimal(f["codes_precision"]),
        decimal(f["codes_recall"]),
        bates,
        f["bates_invented"],
        decimal(f["withheld_precision"]),
        decimal(f["withheld_recall"]),
        leaks,
        percent(f["phrases_found"]),
    ]


HEADERS = [
    "kind",
    "pages",
    "boxes in range",
    "box MAE",
    "codes P",
    "codes R",
    "Bates right",
    "invented",
    "withheld P",
    "withheld R",
    "leaks false/missed",
    "phrases",
]
TARGET_ROW = ["target", "", ">= 90%", "", ">= 0.95", ">= 0.95", ">= 97%", "0", "", "", "0/-", ""]


def verdicts(f: dict[str, Any]) -> list[list[object]]:
    """The issue's targets against the figures for all pages."""
    measured: dict[str, tuple[str, float | None, float, float]] = {
        # name: shown, value, lowest and highest value that meets the target
        "boxes in range": (percent(f["boxes_in_range"]), f["boxes_in_range"], 0.90, 1),
        "codes P": (decimal(f["codes_precision"]), f["codes_precision"], 0.95, 1),
        "codes R": (decimal(f["codes_recall"]), f["codes_recall"], 0.95, 1),
        "Bates right": (percent(f["bates_right"]), f["bates_right"], 0.97, 1),
        "Bates invented": (str(f["bates_invented"]), f["bates_invented"], 0, 0),
        "false leaks": (str(f["false_leaks"]), f["false_leaks"], 0, 0),
    }
    return [
        [
            name,
            shown,
            TARGETS[name],
            "-" if value is None else "yes" if low <= value <= high else "NO",
        ]
        for name, (shown, value, low, high) in measured.items()
    ]


def print_details(scores: list[Score]) -> None:
    """Each page with a wrong mark, then its marks: what the label says and what was found."""
    for s in sorted(scores, key=lambda s: (s.file, s.page)):
        if not s.wrong:
            continue
        print(f"  {s.file} p.{s.page} [{', '.join(s.kinds)}]")
        for mark, expected, found in s.wrong:
            print(f"      {mark:9} expected {expected!r:40} found {found!r}")


# -- main -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="Folder of *.jsonl.")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Keep (and reuse) the archive.")
    parser.add_argument("--json", type=Path, metavar="FILE", help="Write every figure here.")
    parser.add_argument("--details", action="store_true", help="List each wrong mark per page.")
    parser.add_argument(
        "--reread",
        action="store_true",
        help="With --keep: read the kept archive's files again, OCR from its cache (seconds, "
        "not minutes: what measures a change to how marks are read).",
    )
    args = parser.parse_args()

    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: pass --corpus")
    labels, label_files = read_labels(args.labels)
    if not labels:
        raise SystemExit(f"no labels in {args.labels}/*.jsonl")
    labels, skipped = check_files(labels, args.corpus.resolve())
    if not labels:
        raise SystemExit("no labelled file is in the corpus unchanged")
    files = sorted({label.file for label in labels})
    archive = args.keep or Path(tempfile.mkdtemp(prefix="foiarchive-bench-real-archive-"))
    try:
        ingest_seconds = None
        if args.reread or not set(files) <= cataloged_files(archive):
            ingest_seconds = ingest(
                files, args.corpus.resolve(), archive.resolve(), args.jobs, reread=args.reread
            )
        pages, errors = found_pages(archive)
    finally:
        if args.keep is None:
            shutil.rmtree(archive, ignore_errors=True)
    for path, error in sorted(errors.items()):
        warn(f"{path}: not read: {error}")

    scores = [score_page(label, pages.get((label.file, label.page))) for label in labels]
    results = {name: figures(group) for name, group in groups(scores, labels).items()}
    how = (
        f"ingest {ingest_seconds:.0f} s, --jobs {args.jobs}"
        if ingest_seconds is not None
        else f"archive reused from {archive}"
    )
    print(
        f"\nFOIA marks on {len(labels)} labelled real pages of {len(files)} files "
        f"({', '.join(label_files)}; {how})\n"
    )
    print_table(HEADERS, [TARGET_ROW] + [table_row(name, f) for name, f in results.items()])
    print()
    print_table(["all pages", "measured", "target", "met"], verdicts(results["all"]))
    wrong = sum(len(s.wrong) for s in scores)
    print(f"\n{wrong} wrong marks on {sum(bool(s.wrong) for s in scores)} pages")
    if args.details and wrong:
        print_details(scores)
    if args.json:
        report = {
            "label_files": label_files,
            "skipped_files": skipped,
            "failed_files": errors,
            "ingest_seconds": ingest_seconds,
            "jobs": args.jobs,
            "leak_min_chars": LEAK_MIN_CHARS,
            "targets": TARGETS,
            "kinds": results,
            "pages": [
                {**asdict(s), "label": asdict(label)}
                for s, label in zip(scores, labels, strict=True)
            ],
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
