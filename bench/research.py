"""Research at scale: export peak memory at 10,000 and 100,000 pages, and 1,000 terms of a batch
search over 100,000 pages, on Tantivy and Elasticsearch.

    python -m bench.research [--es-url URL] [--keep DIR]

The archives are written straight into the catalog and indexed (bench.search.build_corpus: a
Zipf vocabulary, 150-450 words a page, 20 pages a document; no OCR), so a 100,000-page archive
takes about two minutes; --keep DIR keeps them for the next run. Exports and batches run as
`foiarchive` subprocesses whose peak RSS is read with wait4; each figure sits next to its
baseline measured in the same run: the same process answering one `search` (what importing and
opening the archive cost), and the batch's queries run one by one through `index.search`.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.common import FOIARCHIVE, print_table, timed
from bench.search import build_corpus
from foiarchive import Archive, index

SIZES = (10_000, 100_000)
TERMS = 1000
#: Started from this process, a child's peak RSS (wait4's ru_maxrss) counts the memory of this
#: large process it was forked from (every figure read 217 MB, the builder's own size): a small
#: launcher process starts the command instead and reports its child's peak.
LAUNCHER = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measured(command: list[str | Path]) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of one command."""
    run = timed([sys.executable, "-c", LAUNCHER, *command])
    return run.seconds, int(run.stdout.strip()) / 1024


def prepare(folder: Path, pages: int, es_url: str) -> tuple[Path, list[str]]:
    archive = folder / f"archive-{pages}"
    if es_url and not (archive / "config.toml").exists():
        archive.mkdir(parents=True, exist_ok=True)
        alias = f"foiarchive-bench-research-{pages}-{int(time.time())}"
        (archive / "config.toml").write_text(
            f'[elasticsearch]\nurl = "{es_url}"\nindex = "{alias}"\n'
        )
    fresh = not Archive(archive).exists()
    if fresh:
        started = time.perf_counter()
        words, _ = build_corpus(archive, pages)
        names = ["tantivy", "elasticsearch"] if es_url else ["tantivy"]
        with Archive(archive).catalog() as catalog:
            for name in names:
                with Archive(archive).backend(name, writable=True) as backend:
                    index.sync(catalog, backend, full=True)
        print(f"{pages:,} pages written and indexed in {time.perf_counter() - started:.0f} s")
    else:
        from bench.search import reuse_corpus

        words, _ = reuse_corpus(archive, pages)
    return archive, words


def term_list(words: list[str], path: Path) -> list[str]:
    rng = random.Random(7)
    shapes = [
        lambda: rng.choice(words[:3000]),
        lambda: f'"{rng.choice(words[:200])} {rng.choice(words[:200])}"~2',
        lambda: f"{rng.choice(words[:2000])} OR {rng.choice(words[:2000])}",
        lambda: f"{rng.choice(words[:500])} agency:ICE",
        lambda: rng.choice(words[:50])[:3] + "*",
        lambda: f'"{rng.choice(words)}',  # malformed: one in 20 lines
    ]
    weights = [8, 4, 3, 2, 2, 1]
    terms = [rng.choices(shapes, weights)[0]() for _ in range(TERMS)]
    path.write_text("\n".join(terms) + "\n", encoding="utf-8")
    return terms


def export_rows(
    archives: dict[int, tuple[Path, list[str]]], backends: list[str]
) -> list[list[object]]:
    rows: list[list[object]] = []
    for pages, (archive, words) in archives.items():
        query = words[0]  # the commonest word: every page
        for backend in backends:
            cli = [*FOIARCHIVE, "--archive", archive]
            _, base = measured([*cli, "search", query, "--limit", "1", "--backend", backend])
            seconds, csv_peak = measured(
                [*cli, "export-hits", query, "--output", "/dev/null", "--backend", backend]
            )
            _, xlsx_peak = measured(
                [
                    *cli,
                    *("export-hits", query, "--by-document", "--format", "xlsx"),
                    *("--output", "/dev/null", "--backend", backend),
                ]
            )
            rows.append(
                [
                    backend,
                    f"{pages:,}",
                    f"{pages / seconds:,.0f}",
                    f"{csv_peak:.0f}",
                    f"{xlsx_peak:.0f}",
                    f"{base:.0f}",
                ]
            )
    return rows


def batch_rows(
    archive: Path, terms: list[str], listing: Path, backends: list[str]
) -> list[list[object]]:
    rows: list[list[object]] = []
    for backend in backends:
        cli = [*FOIARCHIVE, "--archive", archive]
        seconds, peak = measured(
            [*cli, "batch-search", listing, "--output", "/dev/null", "--backend", backend]
        )
        started = time.perf_counter()
        with Archive(archive).catalog() as catalog, Archive(archive).backend(backend) as engine:
            for term in terms:
                with contextlib.suppress(index.QueryError):
                    index.search(
                        catalog, engine, index.SearchRequest(term, limit=3, facets=("production",))
                    )
        one_by_one = time.perf_counter() - started
        rows.append([backend, f"{seconds:.1f}", f"{peak:.0f}", f"{one_by_one:.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url", default="")
    parser.add_argument("--keep", type=Path, help="Keep the archives here (reused when present).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="foiarchive-bench-research-"))
    backends = ["tantivy", "elasticsearch"] if args.es_url else ["tantivy"]
    archives = {pages: prepare(folder, pages, args.es_url) for pages in SIZES}
    print("\nExport of every page matching the commonest word (CSV and XLSX by document)")
    print_table(
        ["backend", "pages", "pages/s", "peak MB csv", "peak MB xlsx", "baseline: 1 search MB"],
        export_rows(archives, backends),
    )
    archive, words = archives[SIZES[-1]]
    listing = folder / "terms.txt"
    terms = term_list(words, listing)
    print(f"\nBatch search: {TERMS:,} terms over {SIZES[-1]:,} pages")
    print_table(
        ["backend", "batch-search s", "peak MB", "baseline: the same searches one by one, s"],
        batch_rows(archive, terms, listing, backends),
    )


if __name__ == "__main__":
    main()
