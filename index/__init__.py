"""The catalog (SQLite, the source of truth) and the search backends derived from it.

Typical use from Python:

    from pathlib import Path
    import index

    with index.open_catalog(Path("foiarchive-archive")) as catalog:
        backend = index.open_backend(Path("foiarchive-archive"))
        results = index.search(catalog, backend, index.SearchRequest('"secure communities"'))
"""

from __future__ import annotations

from pathlib import Path

from index.backend import BackendError, SearchBackend
from index.catalog import Catalog, CatalogError, IndexablePage, ProductionSummary
from index.fields import FACET_FIELDS
from index.query import QueryError, parse
from index.search import MAX_LIMIT, Hit, SearchRequest, SearchResults, search
from index.sync import SyncReport, pending, sync
from index.tantivy_backend import TantivyBackend

CATALOG_FILE = "catalog.sqlite"
SEARCH_DIR = "search"


class ArchiveNotFound(CatalogError):
    """The archive folder or its catalog does not exist."""


def open_catalog(archive: Path, *, create: bool = False) -> Catalog:
    """Open the archive's catalog; `create` makes a new archive if there is none."""
    path = archive / CATALOG_FILE
    if not create and not path.exists():
        raise ArchiveNotFound(
            f"{archive}: no foiarchive archive here (no {CATALOG_FILE}); "
            "ingest a production first or pass --archive"
        )
    return Catalog(path)


def open_backend(archive: Path, *, writable: bool = False) -> SearchBackend:
    """The archive's search backend (the embedded Tantivy index)."""
    return TantivyBackend(archive / SEARCH_DIR, writable=writable)


__all__ = [
    "FACET_FIELDS",
    "MAX_LIMIT",
    "ArchiveNotFound",
    "BackendError",
    "Catalog",
    "CatalogError",
    "Hit",
    "IndexablePage",
    "ProductionSummary",
    "QueryError",
    "SearchBackend",
    "SearchRequest",
    "SearchResults",
    "SyncReport",
    "TantivyBackend",
    "open_backend",
    "open_catalog",
    "parse",
    "pending",
    "search",
    "sync",
]
