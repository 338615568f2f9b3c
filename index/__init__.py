"""The catalog (SQLite, the source of truth) and the search backends derived from it.

Reached through `foiarchive.Archive`, which knows where an archive keeps them:

    from foiarchive import Archive, index

    archive = Archive("foiarchive-archive")
    with archive.catalog() as catalog, archive.backend() as backend:
        results = index.search(catalog, backend, index.SearchRequest('"secure communities"'))
"""

from __future__ import annotations

from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.backends import (
    BACKENDS,
    Indexer,
    backends_in_use,
    open_backend,
    resolve_backend,
)
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

__all__ = [
    "BACKENDS",
    "FACET_FIELDS",
    "MAX_LIMIT",
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
    "parse",
    "parse_filter",
    "pending",
    "resolve_backend",
    "search",
    "sync",
]
