"""Diff benchmark: two generated releases of N pages each, with changes planted in them.

    python -m bench.diff                 # 5,000 pages a release
    python -m bench.diff --pages 20000   # how it grows

The second release keeps most documents as they were (same file), re-processes a fifth of
them (renamed, new Bates prefix, extra redaction boxes and exemption codes, passages cut), drops
or reorders pages in others, and leaves some documents out and adds new ones. `foiarchive diff`
runs as a subprocess (wall time and peak RSS); the baseline, in the same run, is a subprocess
that only reads every page of both releases from the catalog: the floor any diff pays.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import FOIARCHIVE, print_table, timed
from foiarchive import Archive, index
from foiarchive.ingest.sample import DENSE_WORDS, MEMO_PARAGRAPHS
from foiarchive.schemas import Document, Page, Production

PAGES_PER_DOCUMENT = 20
BOX = {"box": [0.1, 0.2, 0.7, 0.3], "kind": "filled", "source": "image"}
READ_ALL = """
import sys
from foiarchive import Archive
from pathlib import Path
with Archive(Path(sys.argv[1])).catalog() as catalog:
    for production in ("old", "new"):
        for document in catalog.documents(production):
            catalog.pages(document.id)
"""


def _page_text(rng: random.Random) -> str:
    sentences = rng.sample(MEMO_PARAGRAPHS, 2)
    return " ".join([*sentences, " ".join(rng.choices(DENSE_WORDS, k=rng.randint(150, 350)))])


def build(archive: Path, pages: int, seed: int = 3) -> dict[str, int]:
    """Write both releases; returns how many documents got each planted change."""
    rng = random.Random(seed)
    planted = {
        "identical": 0,
        "reprocessed": 0,
        "dropped page": 0,
        "reordered": 0,
        "only old": 0,
        "only new": 0,
    }
    with Archive(archive).catalog(create=True) as catalog:
        catalog.put_production(Production(id="old", agency="ICE", release_date="2016-01-01"))
        catalog.put_production(Production(id="new", agency="ICE", release_date="2017-06-01"))
        for d in range(pages // PAGES_PER_DOCUMENT):
            texts = [_page_text(rng) for _ in range(PAGES_PER_DOCUMENT)]
            path = f"records/{d:05d}.pdf"
            _put(catalog, "old", path, f"{d:063x}0", texts, {})
            roll = rng.random()
            if roll < 0.03:
                planted["only old"] += 1
                continue
            if roll < 0.23:
                planted["reprocessed"] += 1
                marks = {}
                for number in rng.sample(range(1, PAGES_PER_DOCUMENT + 1), 5):
                    words = texts[number - 1].split()
                    cut = rng.randrange(0, len(words) - 30)
                    texts[number - 1] = " ".join(words[:cut] + words[cut + 20 :])
                    marks[number] = {"redactions": [BOX], "exemptions": ["b7e"]}
                _put(catalog, "new", f"renamed/{d:05d}-v2.pdf", f"{d:063x}1", texts, marks)
            elif roll < 0.28:
                planted["dropped page"] += 1
                del texts[rng.randrange(PAGES_PER_DOCUMENT)]
                _put(catalog, "new", path, f"{d:063x}2", texts, {})
            elif roll < 0.33:
                planted["reordered"] += 1
                rng.shuffle(texts)
                _put(catalog, "new", path, f"{d:063x}3", texts, {})
            else:
                planted["identical"] += 1
                _put(catalog, "new", path, f"{d:063x}0", texts, {})
        for d in range(planted["only old"]):
            planted["only new"] += 1
            texts = [_page_text(rng) for _ in range(PAGES_PER_DOCUMENT)]
            _put(catalog, "new", f"added/{d:05d}.pdf", f"{d:063x}4", texts, {})
    return planted


def _put(
    catalog: index.Catalog, production: str, path: str, sha: str, texts: list[str], marks: dict
) -> None:
    document = Document(
        id=Document.make_id(production, path),
        production_id=production,
        path=path,
        sha256=sha,
        size=1,
        media_type="application/pdf",
    )
    pages = []
    for number, text in enumerate(texts, start=1):
        page = Page(number=number, text=text, text_source="ocr")
        for name, value in marks.get(number, {}).items():
            setattr(page, name, value)
        pages.append(page)
    catalog.put_document(document, pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="Pages in each release.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="foiarchive-diff-bench-"))
    archive = workdir / "archive"
    try:
        planted = build(archive, args.pages)
        print(f"planted: {planted}")
        floor = timed([sys.executable, "-c", READ_ALL, str(archive)])
        out = workdir / "diff.json"
        diff = timed(
            [
                *FOIARCHIVE,
                "--archive",
                str(archive),
                "diff",
                "old",
                "new",
                "--format",
                "json",
                "--output",
                str(out),
            ]
        )
        import json

        report = json.loads(out.read_text())
        found = {
            "identical": sum(
                not c["changed"] and c["kind"] == "identical" for c in report["matched"]
            ),
            "reprocessed": sum(
                c["kind"] == "reprocessed" and c["old"]["path"] != c["new"]["path"]
                for c in report["matched"]
            ),
            "dropped page": sum(bool(c["pages_removed"]) for c in report["matched"]),
            "reordered": sum(c["reordered"] for c in report["matched"]),
            "only old": len(report["only_old"]),
            "only new": len(report["only_new"]),
        }
        print(f"found:   {found}")
        total = 2 * args.pages
        print_table(
            ["run", "seconds", "pages/s", "peak RSS MB", "vs reading the pages"],
            [
                [
                    "read both releases (baseline)",
                    f"{floor.seconds:.2f}",
                    f"{total / floor.seconds:,.0f}",
                    f"{floor.peak_rss_mb:.0f}",
                    "1.00x",
                ],
                [
                    "foiarchive diff",
                    f"{diff.seconds:.2f}",
                    f"{total / diff.seconds:,.0f}",
                    f"{diff.peak_rss_mb:.0f}",
                    f"{diff.seconds / floor.seconds:.1f}x",
                ],
            ],
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
