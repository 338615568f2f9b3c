"""The catalog (SQLite, the source of truth) and the search backends derived from it.

Typical use from Python:

    from pathlib import Path
    from foiarchive import index

    with index.open_catalog(Path("foiarchive-archive")) as catalog:
        backend = index.open_backend(Path("foiarchive-archive"))
        results = index.search(catalog, backend, index.SearchRequest('"secure communities"'))
"""

from __future__ import annotations

from pathlib import Path

from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.backends import BACKENDS, Indexer, backends_in_use, open_backend
from foiarchive.index.catalog import Catalog, CatalogError, IndexablePage, ProductionSummary
from foiarchive.index.fields import FACET_FIELDS
from foiarchive.index.query import QueryError, parse
from foiarchive.index.search import (
    MAX_LIMIT,
    Hit,
    SearchRequest,
    SearchResults,
    parse_filter,
    search,
)
from foiarchive.index.settings import ElasticsearchSettings, elasticsearch_settings
from foiarchive.index.sync import SyncReport, pending, sync
from foiarchive.index.tantivy_backend import TantivyBackend

CATALOG_FILE = "catalog.sqlite"


class ArchiveNotFound(CatalogError):
    """The archive folder or its catalog does not exist."""


def open_catalog(archive: Path, *, create: bool = False, read_only: bool = False) -> Catalog:
    """Open the archive's catalog; `create` makes a new archive if there is none, `read_only`
    opens it so that nothing can be written (see Catalog)."""
    path = archive / CATALOG_FILE
    if not create and not path.exists():
        raise ArchiveNotFound(
            f"{archive}: no foiarchive archive here (no {CATALOG_FILE}); "
            "ingest a production first or pass --archive"
        )
    return Catalog(path, read_only=read_only)


__all__ = [
    "BACKENDS",
    "FACET_FIELDS",
    "MAX_LIMIT",
    "ArchiveNotFound",
    "BackendError",
    "Catalog",
    "CatalogError",
    "ElasticsearchSettings",
    "Hit",
    "IndexablePage",
    "Indexer",
    "ProductionSummary",
    "QueryError",
    "SearchBackend",
    "SearchRequest",
    "SearchResults",
    "SyncReport",
    "TantivyBackend",
    "backends_in_use",
    "elasticsearch_settings",
    "open_backend",
    "open_catalog",
    "parse",
    "parse_filter",
    "pending",
    "search",
    "sync",
]
