"""Searching what a team keeps (tag:, note:, starred:) against a plain query, on 100,000 pages
with 10,000 tags and 10,000 notes, on Tantivy and Elasticsearch.

    python -m bench.workspace [--es-url URL] [--keep DIR] [--rounds 2]

The marks live in workspace.sqlite, never in the index: a query's marks become the set of
documents or pages they stand for (index.marks.Marks.keys), which the backend applies as a
term-set filter; a tag becomes the ids of its documents, not the keys of their pages (the
last row times the pages instead). This measures what that costs: each query's median and p95
through `index.search` (snippets included), and its ratio to a plain word query timed in the same
round; and the time of the workspace lookup alone. The archive is bench.research's (a Zipf
vocabulary, 20 pages a document, no OCR).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.common import print_table
from bench.research import prepare
from foiarchive import Archive, index
from foiarchive.index.marks import Marks, note_words
from foiarchive.index.query import Mark, Node, PageKeys
from foiarchive.index.team import Team

PAGES = 100_000
TAGS = 10_000
NOTES = 10_000
STARS = 1_000
REPEATS = 40


def fill_workspace(archive: Path, words: list[str], seed: int = 7) -> None:
    """10,000 tags (one tag on 2,000 documents, the rest spread over 40 words), 10,000 notes
    on random pages, 1,000 stars; written once (kept with --keep)."""
    rng = random.Random(seed)
    with Archive(archive).workspace() as workspace:
        team = Team(workspace)
        if team.user("bench") is not None:
            return
        team.add_group("desk")
        team.add_user("bench", "bench password", "annotator")
        team.join("desk", "bench")
        viewer = team.viewer(team.existing_user("bench"))
        with Archive(archive).catalog(read_only=True) as catalog:
            documents = [
                d.id for p in catalog.productions() for d in catalog.documents(p.production.id)
            ]
        db = workspace.db
        stamp = "2026-01-01T00:00:00Z"
        user, group = viewer.user.id, team.group_id("desk")  # type: ignore[union-attr]
        tagged = [(d, "big") for d in rng.sample(documents, 2000)]
        while len(tagged) < TAGS:
            tagged.append((rng.choice(documents), f"topic{rng.randrange(40)}"))
        with workspace.transaction():
            db.executemany(
                "INSERT OR IGNORE INTO tags VALUES (?, ?, ?, ?, ?)",
                [(d, group, t, user, stamp) for d, t in tagged],
            )
            for _ in range(NOTES):
                body = " ".join(rng.choices(words[:3000], k=12))
                where = (rng.choice(documents), rng.randint(1, 20))
                note = db.execute(
                    "INSERT INTO notes (document, page, author_id, body, words, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*where, user, body, note_words(body), stamp, stamp),
                )
                db.execute("INSERT INTO note_groups VALUES (?, ?)", (note.lastrowid, group))
            db.executemany(
                "INSERT OR IGNORE INTO stars VALUES (?, ?, ?)",
                [(user, d, stamp) for d in rng.sample(documents, STARS)],
            )


def queries(words: list[str]) -> list[tuple[str, str]]:
    common = words[5]
    return [
        ("plain word", common),
        ("word AND tag (2,000 documents)", f"{common} AND tag:big"),
        ("word AND tag (~200 documents)", f"{common} AND tag:topic3"),
        ("tag alone (2,000 documents)", "tag:big"),
        ("word AND note phrase", f'{common} AND note:"{words[10]}"'),
        ("word AND starred (1,000 documents)", f"{common} AND starred:true"),
        ("word NOT (tag OR starred)", f"{common} -(tag:big OR starred:true)"),
    ]


def timings(archive: Path, backend_name: str, words: list[str]) -> list[list[object]]:
    rows: list[list[object]] = []
    with (
        Archive(archive).catalog(read_only=True) as catalog,
        Archive(archive).backend(backend_name) as backend,
        Archive(archive).workspace() as workspace,
    ):
        marks = Marks(workspace)
        team = Team(workspace)
        viewer = team.viewer(team.existing_user("bench"))
        plain_median = 0.0

        def as_pages(mark: Mark) -> Node:
            """The design not taken: a tag as the keys of its documents' pages."""
            documents = getattr(marks.keys(viewer, mark), "keys", ())
            return PageKeys(frozenset(f"{d}:{n}" for d in documents for n in range(1, 21)))

        variants = [(label, query, partial(marks.keys, viewer)) for label, query in queries(words)]
        variants.append(("word AND tag as 40,000 page keys", f"{words[5]} AND tag:big", as_pages))
        for label, query, keys_of in variants:
            request = index.SearchRequest(query, marks=keys_of)
            index.search(catalog, backend, request)  # warm
            samples = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                found = index.search(catalog, backend, request)
                samples.append((time.perf_counter() - started) * 1000)
            median = statistics.median(samples)
            p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
            plain_median = plain_median or median
            rows.append(
                [
                    backend_name,
                    label,
                    f"{found.total:,}",
                    f"{median:.1f}",
                    f"{p95:.1f}",
                    f"{median / plain_median:.2f}",
                ]
            )
        for field, value in (("tag", "big"), ("note", words[10]), ("starred", "true")):
            started = time.perf_counter()
            for _ in range(REPEATS):
                keys = marks.keys(viewer, Mark(field, value))
            lookup = (time.perf_counter() - started) * 1000 / REPEATS
            size = len(getattr(keys, "keys", ()))
            rows.append(
                [backend_name, f"lookup {field}: ({size:,} keys)", "", f"{lookup:.1f}", "", ""]
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--es-url", default="")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the archive here")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        archive, words = prepare(folder, PAGES, args.es_url)
        fill_workspace(archive, words)
        names = ["tantivy", "elasticsearch"] if args.es_url else ["tantivy"]
        for round_ in range(1, args.rounds + 1):
            counts = f"{PAGES:,} pages, {TAGS:,} tags, {NOTES:,} notes, {STARS:,} stars"
            print(f"\nround {round_}: {counts}")
            rows = [row for name in names for row in timings(archive, name, words)]
            print_table(["backend", "query", "pages", "median ms", "p95 ms", "x plain"], rows)


if __name__ == "__main__":
    main()
