"""Research at scale: exports of every hit, batch search of term lists, and watches.

The export and batch checks run on an archive of 12,000 pages written straight into a real
catalog and indexed into real Tantivy and Elasticsearch indexes (no OCR: seconds, not minutes);
the watch check ingests two real releases through the command line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from foiarchive import Archive, index
from foiarchive.index.batch import Term, batch_search, read_terms
from foiarchive.index.export import export_documents, export_pages
from foiarchive.index.search import MAX_LIMIT, MAX_WINDOW
from foiarchive.ingest.hit_files import member_name
from foiarchive.schemas import Document, Page, Production
from tests.conftest import RESTRICTED, SECRET_WORD, run_cli, use_elasticsearch
from tests.test_web import BEARER, client_for

PUBLIC = [
    Production(id="ice-2017-r1", title="Detainers", agency="ICE", release_date="2017-06-08"),
    Production(id="cbp-2018-r2", title="Interim 2", agency="CBP", release_date="2018-11-20"),
]
SEALED = Production(id="ice-2018-sealed", agency="ICE", access="restricted")
PAGES_PER_PRODUCTION = 6_000  # two public productions: 12,000 pages, past search's 10,000
WORDS = [f"w{n}" for n in range(400)]


def _build(archive: Path) -> None:
    rng = random.Random(16)
    with Archive(archive).catalog(create=True) as catalog:
        for production in [*PUBLIC, SEALED]:
            catalog.put_production(production)
            count = PAGES_PER_PRODUCTION if production.access == "public" else 40
            for start in range(0, count, 20):
                path = f"records/{start:05d}.pdf"
                document = Document(
                    id=Document.make_id(production.id, path),
                    production_id=production.id,
                    path=path,
                    sha256=f"{start:064x}",
                    size=1,
                    media_type="application/pdf",
                    title=f"record {start}",
                )
                pages = [
                    Page(
                        number=n,
                        text="common " + " ".join(rng.choices(WORDS, k=12)),
                        bates=[f"{production.agency}-{start + n:06d}"],
                        exemptions=["b6"] if n % 4 == 0 else [],
                        redactions=[{"box": [0, 0, 1, 1]}] if n % 4 == 0 else [],
                    )
                    for n in range(1, 21)
                ]
                catalog.put_document(document, pages)


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("research")
    _build(archive)
    with (
        Archive(archive).catalog() as catalog,
        Archive(archive).backend("tantivy", writable=True) as backend,
    ):
        index.sync(catalog, backend)
    return archive


@pytest.fixture(scope="module")
def big_archive_on_es(big_archive: Path, es_url: str) -> Path:
    use_elasticsearch(big_archive, es_url)
    with (
        Archive(big_archive).catalog() as catalog,
        Archive(big_archive).backend("elasticsearch", writable=True) as backend,
    ):
        index.sync(catalog, backend)
    return big_archive


@pytest.fixture
def research_archive(backend_name: str, request: pytest.FixtureRequest) -> Path:
    suffix = "_on_es" if backend_name == "elasticsearch" else ""
    return request.getfixturevalue("big_archive" + suffix)


def _searched_keys(catalog: index.Catalog, backend: index.SearchBackend, query: str) -> set:
    """Every page `search` can show, paging each production apart (each under 10,000)."""
    keys = set()
    hidden = catalog.restricted_productions()
    for production in PUBLIC:
        offset = 0
        while offset < MAX_WINDOW:
            request = index.SearchRequest(
                query,
                limit=MAX_LIMIT,
                offset=offset,
                filters=(("production", production.id),),
                hidden_productions=hidden,
            )
            hits = index.search(catalog, backend, request).hits
            keys |= {(h.document, h.page) for h in hits}
            if len(hits) < MAX_LIMIT:
                break
            offset += MAX_LIMIT
    return keys


@pytest.mark.parametrize("query", ["common", "w7 OR w8", "common -w3", '"w1 w2"~3'])
def test_export_is_every_page_search_finds(
    research_archive: Path, backend_name: str, query: str
) -> None:
    archive = Archive(research_archive)
    with archive.catalog() as catalog, archive.backend(backend_name) as backend:
        hidden = catalog.restricted_productions()
        request = index.SearchRequest(query, hidden_productions=hidden)
        rows = list(export_pages(catalog, backend, request, batch=700))
        exported = [(r.document, r.page) for r in rows]
        assert len(exported) == len(set(exported))  # each page once
        assert set(exported) == _searched_keys(catalog, backend, query)
        assert not any(r.production == SEALED.id for r in rows)
        total = index.search(catalog, backend, index.SearchRequest(query, limit=1)).total
        assert len(exported) == total - _sealed_pages(catalog, backend, query)
        documents = list(export_documents(catalog, backend, request))
    assert sum(len(d.page_numbers) for d in documents) == len(exported)
    assert len({d.document for d in documents}) == len(documents)  # each document once
    if query == "common":
        assert len(exported) == 2 * PAGES_PER_PRODUCTION > MAX_WINDOW
        assert rows[0].bates and rows[3].exemptions == "b6" and rows[3].redacted


def _sealed_pages(catalog: index.Catalog, backend: index.SearchBackend, query: str) -> int:
    request = index.SearchRequest(query, limit=1, filters=(("production", SEALED.id),))
    return index.search(catalog, backend, request).total


def test_export_command_writes_csv_and_xlsx(big_archive: Path, tmp_path: Path) -> None:
    result = run_cli(
        "export-hits", "w5 w6", "--base-url", "https://foia.example.org", archive=big_archive
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    with Archive(big_archive).catalog() as catalog, Archive(big_archive).backend() as backend:
        total = index.search(catalog, backend, index.SearchRequest("w5 w6", limit=1)).total
    assert len(rows) == total > 0  # the CLI sees every production, as `search` does
    assert rows[0]["link"].startswith("https://foia.example.org/documents/")
    target = tmp_path / "hits.xlsx"
    result = run_cli(
        "export-hits",
        "w5 w6",
        "--by-document",
        "--format",
        "xlsx",
        "--output",
        target,
        archive=big_archive,
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(target, read_only=True).active
    table = list(sheet.values)
    assert table[0][:5] == ("production", "document", "path", "title", "matching_pages")
    assert sum(int(row[4]) for row in table[1:]) == total
    bad = run_cli("export-hits", '"unclosed', archive=big_archive)
    assert bad.exit_code == 1 and "unbalanced quote" in bad.output


def _terms(count: int) -> list[Term]:
    rng = random.Random(1000)
    shapes = [
        lambda: rng.choice(WORDS),
        lambda: f'"{rng.choice(WORDS)} {rng.choice(WORDS)}"~2',
        lambda: f"{rng.choice(WORDS)} OR {rng.choice(WORDS)}",
        lambda: f"{rng.choice(WORDS)} agency:CBP",
        lambda: f"{rng.choice(WORDS)[:2]}*",
        lambda: '"unclosed phrase',  # malformed
        lambda: "title:(",  # malformed
        lambda: "missing",  # matches nothing
    ]
    return [Term(n, rng.choice(shapes)()) for n in range(1, count + 1)]


def test_batch_counts_equal_single_searches(research_archive: Path, backend_name: str) -> None:
    terms = _terms(1000 if backend_name == "tantivy" else 150)
    archive = Archive(research_archive)
    with archive.catalog() as catalog, archive.backend(backend_name) as backend:
        hidden = catalog.restricted_productions()
        results = list(batch_search(catalog, backend, terms, hidden_productions=hidden))
        assert [r.line for r in results] == [t.line for t in terms]  # nothing stopped the batch
        errors = [r for r in results if r.error]
        assert errors and all(r.query in ('"unclosed phrase', "title:(") for r in errors)
        for result in results[:: 1 if backend_name == "tantivy" else 3]:
            if result.error:
                continue
            request = index.SearchRequest(
                result.query, limit=1, facets=("production",), hidden_productions=hidden
            )
            single = index.search(catalog, backend, request)
            assert result.pages == single.total, result.query
            per_production = {c.production: c.pages for c in result.productions}
            assert per_production == {b["value"]: b["count"] for b in single.facets["production"]}
            grouped = index.search(
                catalog,
                backend,
                index.SearchRequest(
                    result.query, by_document=True, limit=1, hidden_productions=hidden
                ),
            )
            assert (
                result.documents
                == grouped.total_documents
                == sum(c.documents for c in result.productions)
            )
            assert SEALED.id not in per_production


def test_term_lists_and_batch_command(big_archive: Path, tmp_path: Path) -> None:
    terms = read_terms("names.csv", b'query\n"""w1 w2""~2",note\n\nw3\n', "title")
    assert [(t.line, t.query) for t in terms] == [(2, 'title:("w1 w2"~2)'), (4, "title:(w3)")]
    listing = tmp_path / "terms.txt"
    listing.write_text('w1\n"broken\nw2 agency:CBP\n', encoding="utf-8")
    result = run_cli("batch-search", listing, "--format", "json", archive=big_archive)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["line"] for d in data] == [1, 2, 3]
    assert data[1]["error"] and not data[0]["error"] and data[0]["hits"][0]["bates"]
    assert {p["production"] for p in data[2]["productions"]} == {"cbp-2018-r2"}


# -- watches ----------------------------------------------------------------------------------
CATCHER = """
import sys, pathlib
pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())
"""


def _release(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_watches_report_what_a_release_adds(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    first = _release(
        tmp_path / "r1",
        {"a.txt": "The detainer policy memo.\n", "b.txt": "Budget tables.\n"},
    )
    second = _release(
        tmp_path / "r2",
        {"c.txt": "A new detainer policy for counties.\n", "d.txt": "Unrelated minutes.\n"},
    )
    ingest = ("ingest", "--ocr", "never", "--jobs", "1", "--quiet")
    assert run_cli(*ingest, first, "--id", "ice-r1", archive=archive).exit_code == 0
    added = run_cli("watch", "add", "detainer policy", '"detainer policy"', archive=archive)
    assert added.exit_code == 0, added.output
    assert run_cli("watch", "add", "budget", "budget", archive=archive).exit_code == 0
    caught = tmp_path / "notified.json"
    catcher = tmp_path / "catch.py"
    catcher.write_text(CATCHER, encoding="utf-8")
    result = run_cli(
        *ingest,
        second,
        "--id",
        "ice-r2",
        "--notify-command",
        f"{sys.executable} {catcher} {caught}",
        archive=archive,
    )
    assert result.exit_code == 0, result.output
    assert "watch 'detainer policy': 1 new page in ice-r2" in result.output
    assert "budget" not in result.output
    news = json.loads(caught.read_text("utf-8"))
    assert news["production"] == "ice-r2"
    [watch] = news["watches"]
    assert watch["name"] == "detainer policy" and watch["new_pages"] == 1
    [production] = watch["productions"]
    assert production["production"] == "ice-r2"
    assert [d["path"] for d in production["documents"]] == ["c.txt"]
    again = run_cli("watch", "run", "--format", "json", archive=archive)
    assert [w["new_pages"] for w in json.loads(again.stdout)] == [0, 0]
    dated = run_cli("watch", "run", "detainer policy", "--since", "2000-01-01", archive=archive)
    assert "2 new pages in" not in dated.output and "a.txt" in dated.output
    assert "c.txt" in dated.output
    listed = json.loads(run_cli("watch", "list", "--format", "json", archive=archive).stdout)
    assert [w["name"] for w in listed] == ["budget", "detainer policy"]
    assert run_cli("watch", "remove", "budget", archive=archive).exit_code == 0
    missing = run_cli("watch", "run", "budget", archive=archive)
    assert missing.exit_code == 1 and "no watch named 'budget'" in missing.output


# -- the web app ------------------------------------------------------------------------------
def test_web_export_downloads_every_hit_without_restricted_ones(
    served_archive: Path, backend_name: str, tmp_path: Path
) -> None:
    client: TestClient = client_for(served_archive, tmp_path, backend_name)
    page = client.get("/", params={"q": "detainer"})
    assert "/api/export?q=detainer&amp;format=csv" in page.text
    public = client.get("/api/export", params={"q": f"detainer OR {SECRET_WORD}"})
    assert public.status_code == 200, public.text
    assert public.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(public.text)))
    assert rows and RESTRICTED not in {r["production"] for r in rows}
    assert not any(SECRET_WORD in r["snippet"] or SECRET_WORD in r["path"] for r in rows)
    everything = client.get("/api/export", params={"q": SECRET_WORD}, headers=BEARER)
    assert {r["production"] for r in csv.DictReader(io.StringIO(everything.text))} == {RESTRICTED}
    assert rows[0]["link"].startswith("http://testserver/documents/")
    sheet = client.get(
        "/api/export", params={"q": "detainer", "format": "xlsx", "by_document": "true"}
    )
    table = list(openpyxl.load_workbook(io.BytesIO(sheet.content), read_only=True).active.values)
    assert table[0][0] == "production" and len(table) > 1
    bad = client.get("/api/export", params={"q": '"unclosed'})
    assert bad.status_code == 400 and "unbalanced quote" in bad.json()["error"]


def test_export_with_the_original_files(sample_archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "hits.zip"
    result = run_cli(
        "export-hits",
        "detainer",
        "--output",
        tmp_path / "hits.csv",
        "--with-files",
        target,
        archive=sample_archive,
    )
    assert result.exit_code == 0, result.output
    hits = list(csv.DictReader((tmp_path / "hits.csv").open(encoding="utf-8")))
    with zipfile.ZipFile(target) as bundle:
        names = bundle.namelist()
        manifest = list(csv.DictReader(io.StringIO(bundle.read("manifest.csv").decode())))
        assert [m["document"] for m in manifest] == list(dict.fromkeys(h["document"] for h in hits))
        for row in manifest:
            if row["file"]:
                data = bundle.read(row["file"])
                assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert len(names) > 2 and len(manifest) >= 2
    assert len(names) == len(set(names)) == len({m["file"] for m in manifest if m["file"]}) + 1
    assert all(n == "manifest.csv" or re.fullmatch(r"files/[0-9a-f]{16}-[\w.-]+", n) for n in names)
    folder = tmp_path / "files-dir"
    again = run_cli(
        "export-hits",
        "detainer",
        "--output",
        tmp_path / "h2.csv",
        "--with-files",
        folder,
        archive=sample_archive,
    )
    assert again.exit_code == 0, again.output
    assert (folder / "manifest.csv").exists() and len(list((folder / "files").iterdir())) == len(
        names
    ) - 1
    assert member_name("ab" * 32, "../../etc/passwd") == f"files/{'ab' * 8}-passwd"
    assert (
        member_name("cd" * 32, "dir\\..\\.hidden name?.pdf") == f"files/{'cd' * 8}-hidden_name_.pdf"
    )
    refused = run_cli("export-hits", "detainer", "--with-files", folder, archive=sample_archive)
    assert refused.exit_code != 0 and "exists already" in refused.output
