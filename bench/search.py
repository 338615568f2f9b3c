"""Search benchmark: both foiarchive backends against raw Tantivy on the same pages and queries.

    python -m bench.search --pages 100000 --es-url http://127.0.0.1:9250
    python -m bench.search --pages 1000000 --backends tantivy      # how latency grows

Generates a corpus (Zipf-distributed vocabulary of 30,000 words, 150-450 words a page, three
agencies, eight release dates, exemptions on a quarter of the pages) into a real catalog;
indexes it with raw Tantivy (its default tokenizer, no positions tricks), foiarchive's Tantivy
backend and, with --es-url, Elasticsearch; then times a fixed mix of 200 queries (single terms,
phrases, boolean, prefix, filtered, faceted) through `index.search`, which includes snippets
and facets, and the raw-Tantivy equivalents (top 20, no snippets) as the baseline.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import tantivy

from bench.common import print_table
from foiarchive import Archive, index
from foiarchive.schemas import Document, Page, Production

AGENCIES = ["ICE", "CBP", "USCIS"]
DATES = [
    "2014-03-01",
    "2015-07-15",
    "2016-02-10",
    "2017-01-20",
    "2017-06-08",
    "2018-11-20",
    "2019-05-02",
    "2020-09-30",
]
SYLLABLES = [
    "ba",
    "de",
    "ti",
    "lo",
    "mu",
    "ra",
    "se",
    "ko",
    "ni",
    "pe",
    "vi",
    "ga",
    "tor",
    "men",
    "ris",
    "pol",
    "cat",
    "ion",
    "ver",
    "sta",
    "pro",
    "con",
    "der",
    "lan",
]


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))] = None
    return list(words)


def build_corpus(archive: Path, pages: int, seed: int = 1) -> tuple[list[str], int]:
    """Write the pages into a catalog; returns the vocabulary and the raw text size in bytes."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf's law
    text_bytes = 0
    per_document = 20
    with Archive(archive).catalog(create=True) as catalog:
        productions = [
            Production(id=f"{a.lower()}-{d[:4]}-{i}", agency=a, release_date=d, title=f"{a} {d}")
            for i, (a, d) in enumerate((a, d) for a in AGENCIES for d in DATES)
        ]
        for production in productions:
            catalog.put_production(production)
        for start in range(0, pages, per_document):
            production = productions[(start // per_document) % len(productions)]
            path = f"records/{start // per_document:07d}.pdf"
            document = Document(
                id=Document.make_id(production.id, path),
                production_id=production.id,
                path=path,
                sha256=f"{start:064x}",
                size=1,
                media_type="application/pdf" if start % 3 else "image/tiff",
                title=" ".join(rng.choices(words[:2000], k=4)),
            )
            batch = []
            for number in range(1, min(per_document, pages - start) + 1):
                text = " ".join(rng.choices(words, weights, k=rng.randint(150, 450)))
                text_bytes += len(text.encode())
                codes = rng.sample(["b5", "b6", "b7c", "b7e"], 1) if rng.random() < 0.25 else []
                batch.append(Page(number=number, text=text, text_source="pdf", exemptions=codes))
            catalog.put_document(document, batch)
    return words, text_bytes


def reuse_corpus(archive: Path, pages: int, seed: int = 1) -> tuple[list[str], int]:
    """A corpus kept by --keep: the same vocabulary (same seed), its text size from SQLite."""
    connection = sqlite3.connect(Archive(archive).layout.catalog_file)
    count, text_bytes = connection.execute(
        "SELECT COUNT(*), SUM(LENGTH(CAST(text AS BLOB))) FROM pages"
    ).fetchone()
    connection.close()
    if count != pages:
        raise SystemExit(f"{archive} holds {count:,} pages, not {pages:,}")
    return vocabulary(random.Random(seed)), int(text_bytes)


def query_mix(words: list[str], rng: random.Random) -> list[tuple[str, str, tuple[str, ...]]]:
    """200 queries: (kind, foiarchive query, facets). Frequent, middling and rare words."""
    common, middle, rare = words[5:200], words[200:3000], words[3000:20000]

    def word() -> str:
        return rng.choice(rng.choice([common, middle, middle, rare]))

    mix: list[tuple[str, str, tuple[str, ...]]] = []
    mix += [("term", word(), ()) for _ in range(50)]
    mix += [("phrase", f'"{rng.choice(common)} {rng.choice(middle)}"', ()) for _ in range(30)]
    mix += [("boolean", f"{word()} OR {word()}", ()) for _ in range(15)]
    mix += [("boolean", f"{word()} AND {word()}", ()) for _ in range(15)]
    mix += [("boolean", f"{rng.choice(common)} -{word()}", ()) for _ in range(10)]
    mix += [("prefix", rng.choice(middle)[:4] + "*", ()) for _ in range(30)]
    mix += [
        (
            "filtered",
            f"{word()} agency:{rng.choice(AGENCIES)} released:>={rng.choice(DATES)[:4]}",
            (),
        )
        for _ in range(25)
    ]
    facets = ("agency", "production", "exemption", "year", "type")
    mix += [("faceted", word(), facets[:3]) for _ in range(25)]
    assert len(mix) == 200
    return mix


def raw_tantivy(archive: Path, folder: Path) -> tuple[float, tantivy.Index]:
    """Index the catalog's pages with Tantivy's own defaults; seconds taken."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=False)
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    builder.add_text_field("agency", tokenizer_name="raw")
    builder.add_integer_field("year", indexed=True, fast=True)
    raw = tantivy.Index(builder.build(), path=str(folder))
    with Archive(archive).catalog() as catalog:
        documents = [d.id for d in catalog.documents()]
        started = time.perf_counter()
        writer = raw.writer(heap_size=128 * 1024 * 1024, num_threads=1)
        for document_id in documents:
            for item in catalog.indexable_pages(document_id):
                writer.add_document(
                    tantivy.Document(
                        text=item.page.text,
                        key=item.key,
                        agency=item.production.agency.lower(),
                        year=int(item.production.release_date[:4]),
                    )
                )
        writer.commit()
        writer.wait_merging_threads()
        seconds = time.perf_counter() - started
    raw.reload()
    return seconds, raw


def raw_query(query: str) -> str:
    """The raw-Tantivy spelling of a mix query (Tantivy's parser; filters as its fields)."""
    parts = []
    for token in query.split():
        if token.startswith("released:>="):
            parts.append(f"year:>={token.split('>=')[1]}")
        elif token.startswith("agency:"):
            parts.append(f"agency:{token.split(':')[1].lower()}")
        else:
            parts.append(token)
    return " ".join(parts)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return statistics.median(ordered), pick(0.95), pick(0.99)


def time_queries(run, mix) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    for _, query, facets in mix[:20]:  # warm caches
        run(query, facets)
    by_kind: dict[str, list[float]] = {"all": []}
    for kind, query, facets in mix:
        started = time.perf_counter()
        run(query, facets)
        elapsed = (time.perf_counter() - started) * 1000
        by_kind.setdefault(kind, []).append(elapsed)
        by_kind["all"].append(elapsed)
    return by_kind


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--es-url", default="")
    parser.add_argument("--backends", default="tantivy,elasticsearch")
    parser.add_argument(
        "--keep", type=Path, help="Build the archive here and keep it (reused when present)."
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="foiarchive-bench-"))
    archive = args.keep or workdir / "archive"
    names = [n for n in args.backends.split(",") if n != "elasticsearch" or args.es_url]
    if args.es_url:
        alias = f"foiarchive-bench-{workdir.name.lower()[-8:]}"
        (archive).mkdir(parents=True, exist_ok=True)
        (archive / "config.toml").write_text(
            f'[elasticsearch]\nurl = "{args.es_url}"\nindex = "{alias}"\n'
        )
    try:
        started = time.perf_counter()
        if Archive(archive).exists():
            words, text_bytes = reuse_corpus(archive, args.pages)
        else:
            words, text_bytes = build_corpus(archive, args.pages)
        print(
            f"corpus: {args.pages:,} pages, {text_bytes / 1e6:.0f} MB of text, "
            f"written to the catalog in {time.perf_counter() - started:.0f} s"
        )
        raw_seconds, raw = raw_tantivy(archive, _mkdir(workdir / "raw"))
        rows = [
            [
                "raw tantivy (baseline)",
                f"{args.pages / raw_seconds:,.0f}",
                "1.00x",
                f"{folder_mb(workdir / 'raw') / (text_bytes / 1e6):.2f}",
            ]
        ]
        for name in names:
            with Archive(archive).catalog() as catalog:
                backend = Archive(archive).backend(name, writable=True)
                started = time.perf_counter()
                index.sync(catalog, backend, full=True)
                backend.close()
                seconds = time.perf_counter() - started
            size = folder_mb(archive / "search") if name == "tantivy" else _es_size(archive)
            rows.append(
                [
                    name,
                    f"{args.pages / seconds:,.0f}",
                    f"{raw_seconds / seconds:.2f}x",
                    f"{size / (text_bytes / 1e6):.2f}",
                ]
            )
        print("\nIndexing (pages/s; speed as a share of raw Tantivy's; index size / text size)")
        print_table(["index", "pages/s", "vs raw", "size share"], rows)

        mix = query_mix(words, random.Random(2))
        searcher = raw.searcher()

        def run_raw(query: str, facets: tuple[str, ...]) -> None:
            parsed = raw.parse_query(raw_query(query), ["text"])
            for _, address in searcher.search(parsed, 20).hits:
                searcher.doc(address)

        results = {"raw tantivy (top 20)": time_queries(run_raw, mix)}
        for name in names:
            with Archive(archive).catalog() as catalog:
                backend = Archive(archive).backend(name)

                def run(
                    query: str, facets: tuple[str, ...], engine: index.SearchBackend = backend
                ) -> None:
                    index.search(catalog, engine, index.SearchRequest(query, facets=facets))

                results[f"foiarchive {name}"] = time_queries(run, mix)
                backend.close()
        print(
            "\nQuery latency, ms (p50 / p95 / p99), 200 queries; foiarchive rows include "
            "snippets and facets"
        )
        kinds = ["all", "term", "phrase", "boolean", "prefix", "filtered", "faceted"]
        table = []
        for label, by_kind in results.items():
            table.append(
                [label]
                + ["{:.1f} / {:.1f} / {:.1f}".format(*percentiles(by_kind[k])) for k in kinds]
            )
        print_table(["engine", *kinds], table)
    finally:
        if args.es_url:
            _drop_es(archive)
        shutil.rmtree(workdir, ignore_errors=True)
        if args.keep:
            shutil.rmtree(args.keep / "search", ignore_errors=True)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _es_size(archive: Path) -> float:
    backend = Archive(archive).backend("elasticsearch")
    client = backend._client  # type: ignore[attr-defined]
    client.options(request_timeout=3600).indices.forcemerge(
        index=backend.generation, max_num_segments=1
    )
    client.indices.refresh(index=backend.generation)  # let go of the merged-away segments
    stats = client.indices.stats(index=backend.generation, metric="store")
    backend.close()
    return stats["_all"]["primaries"]["store"]["size_in_bytes"] / 1e6


def _drop_es(archive: Path) -> None:
    try:
        backend = Archive(archive).backend("elasticsearch")
    except index.BackendError:
        return
    backend._client.indices.delete(index=backend.generation)  # type: ignore[attr-defined]
    backend.close()


if __name__ == "__main__":
    main()
