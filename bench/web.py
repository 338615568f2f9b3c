"""Web benchmark: `foiarchive serve` under 20 concurrent clients for 30 seconds.

    python -m bench.web                          # 10,000 pages, 20 clients, 30 s
    python -m bench.web --keep /tmp/web-bench    # keep (or reuse) the generated archive
    python -m bench.web --workers 2 --clients 20 --seconds 30

Generates a production of born-digital PDFs (text from a Zipf vocabulary, redaction boxes on a
quarter of the pages) and scanned, image-only PDFs (a fifth of the pages), ingests it with the
real pipeline (OCR off: the scans are here to be rendered, not read), starts the real server
and loads it with a mix of requests: the search page (grouped by document, five facets), page
images already rendered (cached), page images asked for the first time (rendered on demand)
and the viewer page.

Baselines from the same run, as ratios: the same searches through `index.search` in process,
one at a time (the library's own cost); a small static file served under the same load (the
server's floor); and one page rendered in process with nobody else asking (rendering's cost).
Targets (issue 8): search p95 <= 100 ms, cached image p95 <= 50 ms, first render p95 <= 500 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import print_table
from bench.search import vocabulary
from foiarchive import Archive, index
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.sample import render_scan, save_scanned_pdf, write_text_pdf
from foiarchive.preservation.rendition import PageImages, page_source
from foiarchive.schemas import Production

PAGES_PER_DOCUMENT = 20
SCANNED_SHARE = 0.2
PRODUCTION = "bench-web"
TARGETS_MS = {"search": 100, "cached image": 50, "first render": 500}


# -- the archive ------------------------------------------------------------------------------
def build_source(folder: Path, pages: int, seed: int = 7) -> list[str]:
    """PDFs of PAGES_PER_DOCUMENT pages each; returns the vocabulary."""
    rng = random.Random(seed)
    words = vocabulary(rng, 20_000)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    folder.mkdir(parents=True, exist_ok=True)
    documents = pages // PAGES_PER_DOCUMENT
    scanned_every = round(1 / SCANNED_SHARE)
    for number in range(documents):
        count = PAGES_PER_DOCUMENT
        if number % scanned_every == 0:
            scans = [
                render_scan(
                    [" ".join(rng.choices(words[:3000], k=9)) for _ in range(24)],
                    bates=f"BW-{number * count + k + 1:07d}",
                    dpi=150,
                    seed=number * count + k,
                )
                for k in range(count)
            ]
            save_scanned_pdf(folder / f"scans/scan-{number:05d}.pdf", scans, dpi=150)
            continue
        page_lines = []
        boxes = {}
        for k in range(count):
            text = rng.choices(words, weights, k=rng.randint(250, 420))
            lines = [" ".join(text[i : i + 12]) for i in range(0, len(text), 12)]
            lines.append(f"BW-{number * count + k + 1:07d}")
            page_lines.append(lines)
            if rng.random() < 0.25:
                boxes[k] = [(120, 500, 180, 14), (72, 300, 260, 14)]
        write_text_pdf(folder / f"records/doc-{number:05d}.pdf", page_lines, boxes=boxes)
    return words


def prepare(archive: Path, pages: int) -> list[str]:
    if Archive(archive).exists():
        print(f"reusing {archive}")
        Archive(archive).catalog().close()  # an archive kept by an older version: migrated
        return vocabulary(random.Random(7), 20_000)
    source = archive.parent / "source"
    (source / "scans").mkdir(parents=True, exist_ok=True)
    (source / "records").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    words = build_source(source, pages)
    print(f"generated {pages:,} pages in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    production = Production(
        id=PRODUCTION, title="Web benchmark", agency="ICE", release_date="2019-05-02"
    )
    report = ingest_production(
        Archive(archive), source, production, IngestOptions(jobs=2, ocr="never")
    )
    if not report.ok:
        raise SystemExit(f"ingest failed: {report.failures[:3]}")
    print(f"ingested in {time.perf_counter() - started:.0f} s")
    shutil.rmtree(source)
    return words


# -- the load ---------------------------------------------------------------------------------
class Client:
    """One keep-alive connection; a request's latency is until its last byte is read."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, url: str) -> tuple[float, int]:
        started = time.perf_counter()
        try:
            self.connection.request("GET", url)
            response = self.connection.getresponse()
            response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return time.perf_counter() - started, 599
        return time.perf_counter() - started, response.status


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


#: What each client asks for, by share: one kind at a time (the targets are for these), then
#: a browsing mix (searches, then pages opened, some for the first time).
SCENARIOS: dict[str, dict[str, float]] = {
    "search only": {"search": 1.0},
    "cached images only": {"cached image": 0.9, "static file": 0.1},
    "first renders only": {"first render": 1.0},
    "mixed": {
        "search": 0.45,
        "cached image": 0.30,
        "first render": 0.15,
        "viewer page": 0.07,
        "static file": 0.03,
    },
}


def run_load(
    port: int, clients: int, seconds: float, mix: dict[str, float], urls: dict[str, list[str]]
) -> dict[str, list[float]]:
    """`clients` threads, each in a loop without pause, asking for a kind of request drawn from
    `mix`; first renders take pages nobody asked for before (each only once)."""
    samples: dict[str, list[float]] = {kind: [] for kind in mix}
    errors: list[str] = []
    fresh = urls["first render"]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    kinds, weights = list(mix), list(mix.values())

    def work(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(port)
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind == "first render":
                with lock:
                    if not fresh:
                        continue
                    url = fresh.pop()
            else:
                url = rng.choice(urls[kind])
            latency, status = client.get(url)
            with lock:
                if status == 200:
                    samples[kind].append(latency)
                else:
                    errors.append(f"{status} {url}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return samples


def library_baseline(archive: Path, queries: list[str]) -> list[float]:
    """The same searches as the search page makes, in process, one at a time."""
    samples = []
    with Archive(archive).catalog(read_only=True) as catalog:
        backend = Archive(archive).backend()
        for query in queries:
            started = time.perf_counter()
            index.search(
                catalog,
                backend,
                index.SearchRequest(query, facets=tuple(index.FACET_FIELDS), by_document=True),
            )
            samples.append(time.perf_counter() - started)
    return samples


def render_baseline(archive: Path, documents: list, count: int = 40) -> list[float]:
    """Pages rendered in process into a scratch cache, one at a time."""
    samples = []
    with tempfile.TemporaryDirectory() as scratch:
        images = PageImages(Path(scratch))
        for i in range(count):
            document = documents[i % len(documents)]
            source = page_source(Archive(archive).layout, document, 1 + i % PAGES_PER_DOCUMENT)
            assert source is not None
            started = time.perf_counter()
            images.get(source, 1100)
            samples.append(time.perf_counter() - started)
    return samples


def start_server(archive: Path, port: int, workers: int, cache: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from foiarchive.search_cli.main import main; main()",
            "--archive",
            str(archive),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--image-cache",
            str(cache),
        ],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "FOIARCHIVE_ES_URL": ""},
    )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--keep", type=Path, help="archive folder to keep or reuse")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="foiarchive-web-bench-"))
    archive = args.keep or scratch / "archive"
    try:
        words = prepare(archive, args.pages)
        rng = random.Random(11)
        with Archive(archive).catalog(read_only=True) as catalog:
            documents = [d for d in catalog.documents(PRODUCTION) if d.page_count]
        pages = [(d, n) for d in documents for n in range(1, d.page_count + 1)]
        rng.shuffle(pages)
        image = "/api/documents/{}/pages/{}/image?width=1100"
        warm = [image.format(d.id, n) for d, n in pages[:200]]
        cold = [image.format(d.id, n) for d, n in pages[200:]]
        common, middle = words[5:300], words[300:4000]
        queries = [rng.choice(middle) for _ in range(60)]
        queries += [f'"{rng.choice(common)} {rng.choice(middle)}"' for _ in range(20)]
        queries += [f"{rng.choice(middle)[:4]}* exemption:b6" for _ in range(10)]
        queries += [f"{rng.choice(middle)} OR {rng.choice(middle)}" for _ in range(10)]
        viewer = [
            f"/documents/{d.id}?page={n}&q={urllib.parse.quote(rng.choice(middle))}"
            for d, n in pages[:300]
        ]

        library = library_baseline(archive, queries)
        rendered = render_baseline(archive, documents)
        urls = {
            "search": ["/?q=" + urllib.parse.quote(q) for q in queries],
            "cached image": warm,
            "first render": cold,
            "viewer page": viewer,
            "static file": ["/static/style.css"],
        }
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = start_server(archive, port, args.workers, scratch / "images")
        results = {}
        try:
            warmer = Client(port)
            for url in warm + urls["search"][:10]:
                warmer.get(url)
            for name in args.scenarios:
                results[name] = run_load(port, args.clients, args.seconds, SCENARIOS[name], urls)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    report(args, results, library, rendered)


def report(
    args: argparse.Namespace,
    results: dict[str, dict[str, list[float]]],
    library: list[float],
    rendered: list[float],
) -> None:
    print(
        f"\n{args.pages:,} pages ({SCANNED_SHARE:.0%} scanned), {args.clients} clients without "
        f"pause, {args.seconds:.0f} s a scenario, {args.workers} server processes, "
        f"{os.cpu_count()} cores"
    )
    baselines = {"search": library, "first render": rendered}
    rows = []
    for scenario, samples in results.items():
        static = samples.get("static file", [])
        for kind, got in samples.items():
            if not got:
                continue
            p50, p95 = percentile(got, 0.5) * 1000, percentile(got, 0.95) * 1000
            row = [scenario, kind, f"{len(got) / args.seconds:.1f}", f"{p50:.1f}", f"{p95:.1f}"]
            base = static if kind == "cached image" else baselines.get(kind, [])
            if base and kind in TARGETS_MS:
                b95 = percentile(base, 0.95) * 1000
                target = TARGETS_MS[kind]
                row += [
                    f"{b95:.1f}",
                    f"{p95 / b95:.1f}x",
                    f"{target} {'met' if p95 <= target else 'MISSED'}",
                ]
            else:
                row += ["", "", ""]
            rows.append(row)
    print_table(
        ["scenario", "request", "per s", "p50 ms", "p95 ms", "base p95 ms", "ratio", "target"],
        rows,
    )
    print(
        "baselines: search = index.search in process, one at a time; first render = a page "
        "rendered in process, alone; cached image = a static file in the same load"
    )


if __name__ == "__main__":
    main()
