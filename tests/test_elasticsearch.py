"""The Elasticsearch backend on a real server: analysis, alias swaps, stale pages, outages."""

from __future__ import annotations

import contextlib
import shutil
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foiarchive import Archive, index
from foiarchive.index.analysis import index_text, terms
from foiarchive.index.es_backend import ElasticsearchBackend
from foiarchive.index.query import QueryError, parse
from foiarchive.schemas import Document, Page, Production

from .conftest import es_request, run_cli, run_json, use_elasticsearch

pytestmark = pytest.mark.usefixtures("es_url")

TEXTS = [
    "Don't release the 3.14 version; john.doe@agency.gov wrote on 03/14/2017 at 5:30pm.",
    "(b)(6), (b)(7)(C) and 5 U.S.C. 552(b)(5): ICE-2017-000123 — page 4 of 12.",
    "La Déportation des étrangers; naïve café, Straße, İSTANBUL, ΟΔΟΣ ΑΘΗΝΑΣ, Москва.",
    "中文字 ひらがな カタカナ 한국어 text_with_underscores e-mail x.y.z 1,000,000.50",
    "Tabs\tand\nnew lines, 'quotes', \"double\", ellipsis… and emoji 😀 👍🏽 too.",
    "a" * 300 + " long token",
]


def _analyze(es_url: str, text: str) -> list[str]:
    answer = es_request(es_url, "POST", "_analyze", {"analyzer": "standard", "text": text})
    return [token["token"] for token in answer["tokens"]]


@pytest.mark.parametrize("text", TEXTS)
def test_elasticsearch_sees_exactly_our_terms(es_url: str, text: str) -> None:
    """What we index (our terms joined by spaces) splits into the same terms on the server."""
    assert _analyze(es_url, index_text(text)) == terms(text)


def test_our_analyzer_is_the_standard_analyzer_on_document_text(es_url: str) -> None:
    for text in TEXTS[:3]:
        assert _analyze(es_url, text) == terms(text)


def _archive(tmp_path: Path, es_url: str, pages_per_document: dict[str, int]) -> Path:
    archive = tmp_path / "archive"
    with Archive(archive).catalog(create=True) as catalog:
        catalog.put_production(Production(id="p1", agency="ICE", release_date="2017-06-08"))
        for name, count in pages_per_document.items():
            _put(catalog, name, count)
    use_elasticsearch(archive, es_url)
    return archive


def _put(catalog: index.Catalog, name: str, count: int) -> None:
    document = Document(
        id=Document.make_id("p1", name),
        production_id="p1",
        path=name,
        sha256="0" * 64,
        size=1,
        media_type="application/pdf",
    )
    pages = [
        Page(number=n, text=f"{name} page {n} detainer", text_source="pdf")
        for n in range(1, count + 1)
    ]
    catalog.put_document(document, pages)


def _sync(archive: Path, **kwargs: bool) -> index.SyncReport:
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend("elasticsearch", writable=True)
        try:
            return index.sync(catalog, backend, **kwargs)
        finally:
            backend.close()


def _total(archive: Path, query: str) -> int:
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend("elasticsearch")
        try:
            return index.search(catalog, backend, index.SearchRequest(query)).total
        finally:
            backend.close()


def test_changed_documents_lose_their_stale_pages(tmp_path: Path, es_url: str) -> None:
    archive = _archive(tmp_path, es_url, {"a.pdf": 5, "b.pdf": 2})
    assert _sync(archive).pages == 7 and _total(archive, "detainer") == 7
    with Archive(archive).catalog() as catalog:
        _put(catalog, "a.pdf", 2)  # re-processed with fewer pages
    report = _sync(archive)
    assert not report.rebuilt and report.documents == 1
    assert _total(archive, "detainer") == 4
    assert _total(archive, "document:" + Document.make_id("p1", "a.pdf")) == 2


def test_a_rebuild_swaps_the_alias_and_searches_never_stop(tmp_path: Path, es_url: str) -> None:
    archive = _archive(tmp_path, es_url, {"a.pdf": 3})
    _sync(archive)
    with Archive(archive).catalog() as catalog:
        _put(catalog, "b.pdf", 4)
        writer = Archive(archive).backend("elasticsearch", writable=True)
        assert isinstance(writer, ElasticsearchBackend)
        old = writer.generation
        writer.begin_rebuild()
        writer.replace(
            [Document.make_id("p1", "a.pdf")],
            catalog.indexable_pages(Document.make_id("p1", "a.pdf")),
        )
        assert _total(archive, "detainer") == 3  # mid-rebuild: the old index still answers
        writer.replace(
            [Document.make_id("p1", "b.pdf")],
            catalog.indexable_pages(Document.make_id("p1", "b.pdf")),
        )
        writer.commit()
        assert writer.generation != old
        writer.close()
    assert _total(archive, "detainer") == 7
    names = {row["index"] for row in es_request(es_url, "GET", "_cat/indices?format=json")}
    assert old not in names  # the replaced index is deleted


def test_an_abandoned_rebuild_leaves_the_live_index_alone(tmp_path: Path, es_url: str) -> None:
    archive = _archive(tmp_path, es_url, {"a.pdf": 3})
    _sync(archive)
    writer = Archive(archive).backend("elasticsearch", writable=True)
    writer.begin_rebuild()
    writer.close()  # e.g. Ctrl-C during reindex --full
    assert _total(archive, "detainer") == 3


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ingest_with_the_cluster_down_keeps_everything_and_reindex_catches_up(
    sample_source: Path, tmp_path: Path, es_url: str
) -> None:
    archive = tmp_path / "archive"
    down = f"http://127.0.0.1:{_closed_port()}"
    manifest = sample_source / "production.json"
    result = run_cli(
        "--es-url",
        down,
        "ingest",
        sample_source,
        "--manifest",
        manifest,
        "--quiet",
        archive=archive,
    )
    assert result.exit_code == 4, result.output
    warning = [line for line in result.stderr.splitlines() if "not reachable" in line]
    assert len(warning) == 1 and "reindex --backend elasticsearch" in warning[0]
    assert run_json("search", "biometric", archive=archive)["backend"] == "tantivy"
    assert run_json("productions", archive=archive)[0]["pages"] == 9

    failed = run_cli("--es-url", down, "search", "biometric", archive=archive)
    assert failed.exit_code == 1 and "not reachable" in failed.stderr
    assert "Traceback" not in failed.output

    use_elasticsearch(archive, es_url)
    caught_up = run_cli("reindex", "--backend", "elasticsearch", archive=archive)
    assert caught_up.exit_code == 0 and "9 pages" in caught_up.output
    on_es = run_json("search", "biometric", archive=archive)
    on_tantivy = run_json("search", "biometric", "--backend", "tantivy", archive=archive)
    assert on_es["backend"] == "elasticsearch"
    assert {(h["document"], h["page"]) for h in on_es["hits"]} == {
        (h["document"], h["page"]) for h in on_tantivy["hits"]
    }


def test_rebuild_from_bags_refills_elasticsearch(
    sample_archive: Path, tmp_path: Path, es_url: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_archive, copy)
    use_elasticsearch(copy, es_url)
    result = run_cli("rebuild", archive=copy)
    assert result.exit_code == 0 and "warning" not in result.output
    assert run_json("search", "agency:ice", archive=copy)["total"] == 9


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "[elasticsearch]\nurl = 'http://x:9200'\nshard = 2\n",
            "unknown setting elasticsearch.shard",
        ),
        ("[elasticsearch]\nurl = 'localhost'\n", "give scheme, host and port"),
        ("[elasticsearch]\nurl = 'http://localhost'\n", "give scheme, host and port"),
        ("[elasticsearch]\nurl = 'http://[::1'\n", "give scheme, host and port"),
        ("[elasticsearch\n", "cannot read the configuration"),
        ("[elasticsearch]\nurl = 'http://x:9200'\nindex = 'Pages'\n", "use lowercase"),
        ("[elasticsearch]\nurl = 5\n", "elasticsearch.url must be text"),
        ("[elasticsearch]\nurl = ['a']\n", "elasticsearch.url must be text"),
        ("[elasticsearch]\nurl = 'http://x:9200'\nindex = 5\n", "elasticsearch.index must be"),
        ("[elasticsearch]\nurl = 'http://x:9200'\nca_certs = 7\n", "ca_certs must be text"),
        ("[elasticsearch]\nurl = 'http://x:9200'\nca_certs = '/x.pem'\n", "TLS"),
    ],
)
def test_bad_configuration_is_one_line(
    sample_archive: Path, tmp_path: Path, config: str, message: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_archive, copy)
    (copy / "config.toml").write_text(config)
    result = run_cli("search", "detainer", archive=copy)
    assert result.exit_code == 1 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            [
                *'ab "()*:-~^[]{}\\/!?+&|',
                " AND ",
                " OR ",
                " NOT ",
                "title:",
                "bates:",
                "released:",
                "TO",
                "2017",
                "détainer",
                "中",
            ]
        ),
        max_size=20,
    ).map("".join)
)
def test_no_query_makes_elasticsearch_fail(sample_archive_on_es: Path, query: str) -> None:
    """Random queries pass through the compiler into the real server, and both engines
    count the same pages for each."""
    try:
        parse(query)
    except QueryError:
        return
    totals = {}
    with Archive(sample_archive_on_es).catalog() as catalog:
        for name in index.BACKENDS:
            backend = Archive(sample_archive_on_es).backend(name)
            try:
                request = index.SearchRequest(query, facets=tuple(index.FACET_FIELDS))
                totals[name] = index.search(catalog, backend, request).total
            finally:
                backend.close()
    assert totals["elasticsearch"] == totals["tantivy"], query


def test_ingest_indexes_into_both_backends_as_it_goes(tmp_path: Path, es_url: str) -> None:
    source = tmp_path / "release"
    source.mkdir()
    (source / "letter.txt").write_text("The detainer was lodged on 2017-06-08.\n")
    (source / "cases.csv").write_text("case,status\nA-1,detainer lodged\nA-2,released\n")
    archive = tmp_path / "archive"
    archive.mkdir()
    use_elasticsearch(archive, es_url)
    result = run_cli("ingest", source, "--id", "p2", "--agency", "CBP", "--quiet", archive=archive)
    assert result.exit_code == 0, result.output
    for backend in index.BACKENDS:
        found = run_json("search", "detainer agency:cbp", "--backend", backend, archive=archive)
        assert found["backend"] == backend
        assert sorted(h["path"] for h in found["hits"]) == ["cases.csv", "letter.txt"]


class _CuttableProxy:
    """A TCP relay to the test cluster that can be cut, as a network or a node failing."""

    def __init__(self, target: str) -> None:
        import threading
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        for connection in [self.server, *self.sockets]:  # shutdown wakes a blocked accept()
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


def test_a_cluster_that_goes_away_mid_run_loses_nothing(tmp_path: Path, es_url: str) -> None:
    proxy = _CuttableProxy(es_url)
    archive = _archive(tmp_path, proxy.url, {"a.pdf": 2, "b.pdf": 3})
    with Archive(archive).catalog() as catalog:
        indexer = Archive(archive).indexer(catalog)
        first = indexer.sync()
        assert first["elasticsearch"].pages == 5 and not indexer.failures
        _put(catalog, "c.pdf", 4)  # more arrives while the cluster is away
        proxy.cut()
        second = indexer.sync()
        indexer.close()
        assert second["tantivy"].pages == 4  # the embedded index carries on
        assert "not reachable" in indexer.failures["elasticsearch"]
        assert "reindex --backend elasticsearch" in indexer.warning()
    alias = (archive / "config.toml").read_text().split('index = "')[1].split('"')[0]
    (archive / "config.toml").write_text(f'[elasticsearch]\nurl = "{es_url}"\nindex = "{alias}"\n')
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend("elasticsearch", writable=True)
        assert index.pending(catalog, backend) > 0
        report = index.sync(catalog, backend)
        assert report.documents == 1 and index.pending(catalog, backend) == 0
        backend.close()
    assert _total(archive, "detainer") == 9


def test_another_test_run_ending_leaves_this_runs_indexes_alone(
    tmp_path: Path, es_url: str
) -> None:
    """Test runs of several checkouts share one cluster: a run that ends deletes its own
    indexes only, not those of a run still going."""
    import subprocess
    import sys

    archive = _archive(tmp_path, es_url, {"a.pdf": 2})
    _sync(archive)
    test = "test_our_analyzer_is_the_standard_analyzer_on_document_text"
    other = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::{test}"],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert other.returncode == 0, other.stdout[-2000:]
    assert _total(archive, "detainer") == 2  # the other run's clean-up left our index


def test_an_index_of_an_older_mapping_is_named_so_and_reindex_rebuilds_it(
    tmp_path: Path, es_url: str
) -> None:
    """An archive indexed before a mapping change (3 added the leak kinds): a search says
    which index is out of date and how to rebuild it; reindex leaves the alias on one index."""
    archive = _archive(tmp_path, es_url, {"a.pdf": 3})
    _sync(archive)
    alias = (archive / "config.toml").read_text().split('index = "')[1].split('"')[0]
    (name,) = es_request(es_url, "GET", f"_alias/{alias}")
    es_request(es_url, "PUT", f"{name}/_mapping", {"_meta": {"foiarchive_mapping": "2"}})
    stale = run_cli("search", "detainer", archive=archive)
    assert stale.exit_code == 1
    assert "built by another version of foiarchive (mapping 2" in stale.output
    assert "Traceback" not in stale.output
    assert run_cli("reindex", "--backend", "elasticsearch", archive=archive).exit_code == 0
    (rebuilt,) = es_request(es_url, "GET", f"_alias/{alias}")
    assert rebuilt != name and _total(archive, "detainer") == 3
