"""Both search backends answer every query with the same pages and the same facet counts.

A corpus of three productions is written straight into a real catalog and indexed into a real
Tantivy index and a real Elasticsearch index; each query of the suite runs on both.
"""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path

import pytest

from foiarchive import Archive, index
from foiarchive.index.proximity import within_slop
from foiarchive.ingest.sample import DENSE_WORDS, MEMO_PARAGRAPHS
from foiarchive.schemas import Document, Page, Production
from tests.conftest import es_request, use_elasticsearch

PRODUCTIONS = [
    Production(
        id="ice-2014-r1", title="Detainer policy records", agency="ICE", release_date="2014-03-01"
    ),
    Production(
        id="ice-2017-r1", title="Secure Communities memos", agency="ICE", release_date="2017-06-08"
    ),
    Production(
        id="cbp-2018-r2", title="Interim release 2", agency="CBP", release_date="2018-11-20"
    ),
]
MEDIA = ["application/pdf", "application/pdf", "image/tiff", "text/csv"]
SENDERS = ["Jane Smith", "Omar Haddad", "Li Wei", "Smith, John"]
SUBJECTS = ["Detainer request", "RE: detainer request for county", "Weekly statistics"]
SPECIAL = [
    "Don't release the 3.14 version; write to john.doe@agency.gov about it.",
    "La Déportation des étrangers: 中文字 records and naïve café notes.",
    "secure the communities program with care",
    "secure communities program",
    "program secure communities",
    "communities are secure",
    "detainer county detainer warrant judicial review",
    "Withheld in full pursuant to (b)(6) and (b)(7)(C).",
]


def _page_text(rng: random.Random, n: int) -> str:
    sentences = rng.sample(MEMO_PARAGRAPHS, 2)
    words = " ".join(rng.choice(DENSE_WORDS) for _ in range(rng.randint(20, 60)))
    if n % 7 == 0:
        sentences.append(SPECIAL[n // 7 % len(SPECIAL)])
    rng.shuffle(sentences)
    return " ".join(sentences) + " " + words


def build_corpus(archive: Path) -> dict[str, str]:
    """Three productions, 45 documents, about 150 pages; returns some document ids by name."""
    rng = random.Random(20261128)
    names: dict[str, str] = {}
    counter = 0
    with Archive(archive).catalog(create=True) as catalog:
        for production in PRODUCTIONS:
            catalog.put_production(production)
            prefix = production.agency + "-" + production.release_date[:4]
            for d in range(15):
                path = f"{'memos' if d % 2 else 'letters'}/record-{d:02d}.pdf"
                document = Document(
                    id=Document.make_id(production.id, path),
                    production_id=production.id,
                    path=path,
                    sha256=f"{counter:064x}",
                    size=1000,
                    media_type=MEDIA[d % len(MEDIA)],
                    title=f"{'Memo' if d % 2 else 'Response letter'} {d}",
                )
                if d % 5 == 4:  # an email
                    document.media_type = "message/rfc822"
                    document.email = {
                        "from": f"{rng.choice(SENDERS)} <{d}@ice.dhs.gov>",
                        "to": "Field Office <ero@ice.dhs.gov>",
                        "cc": "records@cbp.dhs.gov" if d % 2 else "",
                        "subject": rng.choice(SUBJECTS),
                        "sent": f"{production.release_date[:4]}-0{d % 9 + 1}-1{d % 10}T10:00:00",
                    }
                names[f"{production.id}/{d}"] = document.id
                pages = []
                for number in range(1, rng.randint(1, 6) + 1):
                    counter += 1
                    exemptions = rng.sample(["b5", "b6", "b7c", "b7e"], rng.randint(0, 2))
                    pages.append(
                        Page(
                            number=number,
                            text=_page_text(rng, counter),
                            text_source="ocr" if d % 3 == 0 else "pdf",
                            bates=[f"{prefix}-{counter:06d}"],
                            exemptions=exemptions,
                            redactions=[{"box": [0, 0, 1, 1]}] if exemptions else [],
                            withheld_in_full=counter % 11 == 0,
                        )
                    )
                catalog.put_document(document, pages)
    return names


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    archive = tmp_path_factory.mktemp("parity")
    names = build_corpus(archive)
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend("tantivy", writable=True)
        index.sync(catalog, backend)
        backend.close()
    return archive, names


@pytest.fixture(scope="module")
def corpus_on_es(corpus: tuple[Path, dict[str, str]], es_url: str) -> Path:
    archive, _ = corpus
    use_elasticsearch(archive, es_url)
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend("elasticsearch", writable=True)
        report = index.sync(catalog, backend)
        backend.close()
    assert report.pages > 100
    return archive


def query_suite(names: dict[str, str]) -> list[str]:
    return [
        "detainer",
        "DETAINER",
        "detainers",
        '"secure communities"',
        '"secure communities program"',
        '"communities secure"~2',
        '"secure program"~1',
        '"secure communities program"~2',
        '"program secure communities"~4',
        '"detainer warrant judicial"~5',
        '"detainer detainer county"~3',
        "detainer AND warrant",
        "detainer OR warrant",
        "detainer -warrant",
        "detainer NOT warrant",
        "NOT detainer",
        "detainer OR NOT county",
        "(detainer OR warrant) AND county",
        "+detainer +county -sheriff",
        "deport*",
        "det*",
        "text:warrant title:memo",
        "title:memo",
        'title:"response letter"',
        "title:mem*",
        "agency:ICE",
        "agency:cbp detainer",
        "production:ice-2014-r1",
        "production:ice-*",
        f"document:{names['cbp-2018-r2/3']}",
        "exemption:b6",
        "exemption:B7C OR exemption:b5",
        "bates:ICE-2014-000020",
        "bates:CBP-2018*",
        "redacted:true",
        "leak:false AND detainer",
        "leak:true OR detainer",
        "leak:under_shape OR leak:metadata OR detainer",
        "redacted:false detainer",
        "withheld:true",
        "source:ocr",
        "source:pdf AND warrant",
        "type:pdf",
        "type:image",
        "type:csv removal",
        "released:[2017-01-01 TO 2017-12-31]",
        "released:>=2017",
        "released:<2015",
        "released:2014-03",
        "released:{2014-03-01 TO 2018-11-20}",
        "released:[* TO *]",
        "released:{* TO *} agency:cbp",
        "sent:[* TO *]",
        "detainer -sent:{* TO *}",
        '"don\'t"',
        "3.14",
        "john.doe",
        "déportation",
        "中",
        '"b 6"',
        "agency:ICE AND (released:2014 OR exemption:b5) -detainer",
        "from:smith",
        'from:"jane smith" detainer',
        "to:cbp.dhs.gov",
        "to:ero@ice.dhs.gov",
        'subject:"detainer request"',
        "subject:detain*",
        "sent:[2017-01-01 TO 2017-06-30]",
        "sent:>=2018-03 -subject:weekly",
        "nosuchwordanywhere",
    ]


def _pages(archive: Path, backend_name: str, query: str) -> tuple[int, set[str], dict]:
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend(backend_name)
        try:
            request = index.SearchRequest(
                query, limit=index.MAX_LIMIT, facets=tuple(index.FACET_FIELDS), facet_size=100
            )
            results = index.search(catalog, backend, request)
        finally:
            backend.close()
    assert results.total <= index.MAX_LIMIT
    keys = {f"{h.document}:{h.page}" for h in results.hits}
    facets = {
        name: sorted((b["value"], b["count"]) for b in v) for name, v in results.facets.items()
    }
    return results.total, keys, facets


def test_suite_covers_every_field_and_operator(corpus: tuple[Path, dict[str, str]]) -> None:
    suite = " ".join(query_suite(corpus[1]))
    # the workspace's fields (tag:, note:, starred:, read:) are compared on both backends in
    # tests/test_team.py, where there is a workspace to resolve them
    marks = index.query.MARK_FIELDS
    fields = [f"{name}:" for name in index.query.ALL_FIELDS if name not in marks]
    for word in (*fields, " OR ", " AND ", "NOT ", " -", "*", "~", '"', "("):
        assert word in suite, word
    assert len(query_suite(corpus[1])) >= 40


def test_every_query_gives_the_same_pages_on_both_backends(
    corpus: tuple[Path, dict[str, str]], corpus_on_es: Path
) -> None:
    archive, names = corpus
    nonempty = 0
    for query in query_suite(names):
        tantivy_total, tantivy_keys, tantivy_facets = _pages(archive, "tantivy", query)
        es_total, es_keys, es_facets = _pages(archive, "elasticsearch", query)
        assert tantivy_keys == es_keys, (query, sorted(tantivy_keys ^ es_keys)[:5])
        assert tantivy_total == es_total == len(es_keys), query
        assert tantivy_facets == es_facets, query
        nonempty += bool(es_keys)
    assert nonempty == len(query_suite(names)) - 1  # all but nosuchwordanywhere find pages


def test_grouping_by_document_is_the_same(
    corpus: tuple[Path, dict[str, str]], corpus_on_es: Path
) -> None:
    archive, _ = corpus
    grouped = {}
    for name in index.BACKENDS:
        with Archive(archive).catalog() as catalog:
            backend = Archive(archive).backend(name)
            request = index.SearchRequest("detainer OR warrant", limit=100, by_document=True)
            results = index.search(catalog, backend, request)
            backend.close()
        grouped[name] = {d.document: d.matching_pages for d in results.documents or []}
        assert results.total_documents == len(grouped[name])
        assert sum(grouped[name].values()) == results.total
    assert grouped["tantivy"] == grouped["elasticsearch"]


def test_proximity_rule_agrees_with_lucene(es_url: str, tmp_path: Path) -> None:
    """Our definition of "a b c"~N, checked against Elasticsearch's own match_phrase."""
    rng = random.Random(7)
    documents = {
        str(i): " ".join(rng.choice("abcxx") for _ in range(rng.randint(3, 9))) for i in range(400)
    }
    name = f"foiarchive-test-slop-{tmp_path.name.lower()[-12:]}"
    es_request(es_url, "PUT", name, {"mappings": {"properties": {"t": {"type": "text"}}}})
    lines = "".join(
        json.dumps({"index": {"_id": i}}) + "\n" + json.dumps({"t": text}) + "\n"
        for i, text in documents.items()
    )
    es_request(es_url, "POST", f"{name}/_bulk?refresh=true", lines, ndjson=True)
    try:
        for phrase in (["a", "b", "c"], ["c", "a", "b"], ["a", "b", "a"], ["b", "b", "c"]):
            for slop in (1, 2, 3, 5):
                query = {"match_phrase": {"t": {"query": " ".join(phrase), "slop": slop}}}
                found = es_request(es_url, "POST", f"{name}/_search", {"query": query, "size": 500})
                lucene = {h["_id"] for h in found["hits"]["hits"]}
                ours = {i for i, t in documents.items() if within_slop(t.split(), phrase, slop)}
                assert ours == lucene, (phrase, slop, sorted(ours ^ lucene)[:3])
    finally:
        es_request(es_url, "DELETE", name)


def test_within_slop_counts_moves_like_lucene() -> None:
    assert within_slop(["a", "b", "c"], ["a", "b", "c"], 0)
    assert within_slop(["a", "x", "b", "x", "c"], ["a", "b", "c"], 2)
    assert not within_slop(["a", "x", "b", "x", "c"], ["a", "b", "c"], 1)
    assert within_slop(["b", "a"], ["a", "b"], 2)  # a transposition costs two
    assert not within_slop(["b", "a"], ["a", "b"], 1)
    assert not within_slop(["a", "b"], ["a", "a", "b"], 5)  # a repeated word needs two places
    assert within_slop(["a", "a", "b"], ["a", "a", "b"], 0)


def test_a_too_broad_proximity_search_is_refused(
    corpus: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from foiarchive.index import proximity

    monkeypatch.setattr(proximity, "MAX_CANDIDATES", 3)
    with pytest.raises(index.QueryError, match="too broad: more than 3 pages"):
        _pages(corpus[0], "tantivy", '"secure communities program"~2')


@pytest.mark.parametrize("backend", ["tantivy", "elasticsearch"])
def test_grouping_past_the_deepest_window(
    corpus: tuple[Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    """Documents whose pages all lie beyond the pages read still come, most pages first."""
    # `index.search` is the function, so the module is reached by name
    search_module = importlib.import_module("foiarchive.index.search")

    if backend == "elasticsearch":
        request.getfixturevalue("corpus_on_es")
    archive, _ = corpus
    with Archive(archive).catalog() as catalog:
        engine = Archive(archive).backend(backend)
        grouped = index.SearchRequest("agency:ice", by_document=True, limit=30)
        full = index.search(catalog, engine, grouped)
        monkeypatch.setattr(search_module, "MAX_WINDOW", 40)  # fewer pages than match
        narrow = index.search(catalog, engine, grouped)
        engine.close()
    assert full.total > 40  # so the narrow run had to fall back
    assert full.total_documents == narrow.total_documents == 30
    assert {d.document: d.matching_pages for d in narrow.documents or []} == {
        d.document: d.matching_pages for d in full.documents or []
    }
