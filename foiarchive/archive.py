"""`Archive`: one archive folder, its layout and settings, and the catalog and search in it.

    from foiarchive import Archive, index

    archive = Archive("foiarchive-archive")               # or Archive(path, es_url=...)
    with archive.catalog() as catalog, archive.backend() as backend:
        hits = index.search(catalog, backend, index.SearchRequest("detainer"))

Settings are resolved once, from the archive's config.toml, then the environment
(FOIARCHIVE_ES_URL, ...), then the options given here, each overriding the one before.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.backends import Indexer, backends_in_use, open_backend, resolve_backend
from foiarchive.index.catalog import Catalog, CatalogError
from foiarchive.index.settings import ElasticsearchSettings, elasticsearch_settings
from foiarchive.schemas.layout import Layout

DEFAULT_PATH = Path("foiarchive-archive")


class ArchiveNotFound(CatalogError):
    """The archive folder or its catalog does not exist."""


class Archive:
    """An archive folder: where its parts are (`layout`), how it is configured, and the catalog,
    search backends and indexer it holds. Every library entry point takes one."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_PATH, *, es_url: str | None = None):
        self.path = Path(path)
        self.layout = Layout(self.path)
        self.es_url = es_url  # given explicitly; config.toml and the environment are read later

    def __repr__(self) -> str:
        return f"Archive({str(self.path)!r})"

    @cached_property
    def elasticsearch(self) -> ElasticsearchSettings | None:
        """The configured cluster, or None when the archive searches only its embedded index.
        A bad config.toml or URL raises BackendError (on first use, so commands that never
        search do not need a valid one)."""
        return elasticsearch_settings(self.layout.config_file, url=self.es_url)

    def exists(self) -> bool:
        return self.layout.catalog_file.exists()

    def catalog(self, *, create: bool = False, read_only: bool = False) -> Catalog:
        """The catalog (a context manager); `create` makes a new archive if there is none,
        `read_only` opens it so that nothing can be written (see Catalog)."""
        if not create and not self.exists():
            raise ArchiveNotFound(
                f"{self.path}: no foiarchive archive here (no {self.layout.catalog_file.name}); "
                "ingest a production first or pass --archive"
            )
        return Catalog(self.layout.catalog_file, read_only=read_only)

    def backend_name(self, name: str = "auto") -> str:
        """Which backend `name` means here: `auto` is Elasticsearch when one is configured."""
        return resolve_backend(name, self.elasticsearch)

    def backend(self, name: str = "auto", *, writable: bool = False) -> SearchBackend:
        """A search backend (a context manager): `auto`, `tantivy` or `elasticsearch`."""
        return open_backend(self.layout.search_dir, self.elasticsearch, name, writable=writable)

    def backends_in_use(self) -> list[str]:
        """The backends kept current on ingest: Tantivy, and Elasticsearch when configured."""
        return backends_in_use(self.elasticsearch)

    def indexer(self, catalog: Catalog, names: list[str] | None = None) -> Indexer:
        """Keeps `names` (default: every backend in use) current with `catalog`."""
        return Indexer(catalog, self._writer, names or self.backends_in_use())

    def _writer(self, name: str) -> SearchBackend:
        return self.backend(name, writable=True)


__all__ = ["DEFAULT_PATH", "Archive", "ArchiveNotFound", "BackendError"]
