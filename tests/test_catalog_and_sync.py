"""The catalog is the source of truth; the Tantivy index follows it and heals after a crash."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from foiarchive import Archive, index
from foiarchive.index.catalog import SCHEMA_VERSION, Catalog, CatalogError
from foiarchive.schemas import Document, Page, Production


def _document(production: str, path: str, pages: int) -> tuple[Document, list[Page]]:
    doc = Document(
        id=Document.make_id(production, path),
        production_id=production,
        path=path,
        sha256="0" * 64,
        size=10,
        media_type="application/pdf",
        page_count=pages,
    )
    stem = path.rsplit(".", 1)[0]
    texts = [
        Page(number=n, text=f"page {n} of {stem} detainer", text_source="pdf")
        for n in range(1, pages + 1)
    ]
    return doc, texts


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    with Archive(tmp_path).catalog(create=True) as catalog:
        catalog.put_production(Production(id="p1", agency="ICE", release_date="2017-06-08"))
        for name, pages in (("a.pdf", 3), ("b.pdf", 2)):
            catalog.put_document(*_document("p1", name, pages))
    return tmp_path


def _hits(archive: Path, query: str) -> int:
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend()
        return index.search(catalog, backend, index.SearchRequest(query)).total


def _sync(archive: Path, **kwargs: bool) -> index.SyncReport:
    with Archive(archive).catalog() as catalog:
        backend = Archive(archive).backend(writable=True)
        try:
            return index.sync(catalog, backend, **kwargs)
        finally:
            backend.close()


def test_catalog_is_wal_and_versioned(archive: Path) -> None:
    db = sqlite3.connect(archive / "catalog.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_catalog_is_refused(archive: Path) -> None:
    db = sqlite3.connect(archive / "catalog.sqlite")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(CatalogError, match="newer than this foiarchive"):
        Catalog(archive / "catalog.sqlite")


def test_a_document_is_written_whole_or_not_at_all(archive: Path) -> None:
    doc, pages = _document("p1", "c.pdf", 2)
    pages.append(Page(number=2, text="duplicate page number"))  # violates the primary key
    with Archive(archive).catalog() as catalog:
        with pytest.raises(sqlite3.IntegrityError):
            catalog.put_document(doc, pages)
        assert catalog.document(doc.id) is None
        assert catalog.pages(doc.id) == []


def test_sync_indexes_what_the_catalog_holds(archive: Path) -> None:
    report = _sync(archive)
    assert report.pages == 5
    assert _hits(archive, "detainer") == 5
    assert _hits(archive, '"page 3 of a"') == 1


def test_crash_between_catalog_and_index_commit_heals_on_next_sync(archive: Path) -> None:
    _sync(archive)
    with Archive(archive).catalog() as catalog:
        # A document lands in the catalog, then the process dies before any index commit.
        catalog.put_document(*_document("p1", "late.pdf", 4))
        backend = Archive(archive).backend()
        assert index.pending(catalog, backend) > 0
    assert _hits(archive, "late") == 0
    _sync(archive)
    assert _hits(archive, "late") == 4


def test_crash_after_index_commit_before_bookkeeping_does_not_duplicate(archive: Path) -> None:
    _sync(archive)
    with Archive(archive).catalog() as catalog:
        catalog.put_document(*_document("p1", "again.pdf", 2))
        position, generation = catalog.sync_state("tantivy")
        backend = Archive(archive).backend(writable=True)
        index.sync(catalog, backend)
        backend.close()
        # Pretend the catalog never learnt that the index took the change.
        catalog.set_sync_state("tantivy", position, generation)
    _sync(archive)
    assert _hits(archive, "again") == 2
    assert _hits(archive, "detainer") == 7


def test_a_lost_index_is_rebuilt_from_the_catalog(archive: Path) -> None:
    _sync(archive)
    shutil.rmtree(archive / "search")
    with pytest.raises(index.BackendError, match="no search index"):
        _hits(archive, "detainer")
    report = _sync(archive)
    assert report.rebuilt
    assert _hits(archive, "detainer") == 5


def test_changing_a_production_reindexes_its_pages(archive: Path) -> None:
    _sync(archive)
    assert _hits(archive, "agency:ice") == 5
    with Archive(archive).catalog() as catalog:
        catalog.put_production(Production(id="p1", agency="DHS", release_date="2017-06-08"))
    _sync(archive)
    assert _hits(archive, "agency:ice") == 0
    assert _hits(archive, "agency:dhs") == 5


def test_replacing_a_document_drops_its_old_pages(archive: Path) -> None:
    _sync(archive)
    with Archive(archive).catalog() as catalog:
        doc, _ = _document("p1", "a.pdf", 3)
        catalog.put_document(doc, [Page(number=1, text="rewritten", text_source="pdf")])
    _sync(archive)
    assert _hits(archive, "rewritten") == 1
    assert _hits(archive, "detainer") == 2
