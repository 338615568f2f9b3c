"""Choosing and opening search backends, and keeping all of an archive's backends current."""

from __future__ import annotations

from pathlib import Path

from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.catalog import Catalog
from foiarchive.index.settings import elasticsearch_settings
from foiarchive.index.sync import SyncReport, sync
from foiarchive.index.tantivy_backend import TantivyBackend

BACKENDS = ("tantivy", "elasticsearch")
SEARCH_DIR = "search"


def resolve_backend(archive: Path, name: str = "auto", *, es_url: str | None = None) -> str:
    """Which backend `name` means for this archive, without connecting to anything."""
    if name == "auto":
        return "elasticsearch" if elasticsearch_settings(archive, url=es_url) else "tantivy"
    return name


def open_backend(
    archive: Path, name: str = "auto", *, writable: bool = False, es_url: str | None = None
) -> SearchBackend:
    """One search backend: `auto` is Elasticsearch when one is configured, else Tantivy."""
    settings = elasticsearch_settings(archive, url=es_url)
    if resolve_backend(archive, name, es_url=es_url) == "elasticsearch":
        if settings is None:
            raise BackendError(
                "no Elasticsearch configured: pass --es-url, set FOIARCHIVE_ES_URL or add "
                "[elasticsearch] url to the archive's config.toml"
            )
        from foiarchive.index.es_backend import (
            ElasticsearchBackend,  # the client costs 0.25 s to import
        )

        return ElasticsearchBackend(settings, writable=writable)
    if name not in ("auto", "tantivy"):
        raise BackendError(f"unknown search backend {name!r} (choose from {', '.join(BACKENDS)})")
    return TantivyBackend(archive / SEARCH_DIR, writable=writable)


def backends_in_use(archive: Path, *, es_url: str | None = None) -> list[str]:
    """The backends kept current on ingest: always Tantivy, and Elasticsearch when configured."""
    configured = elasticsearch_settings(archive, url=es_url) is not None
    return ["tantivy", "elasticsearch"] if configured else ["tantivy"]


class Indexer:
    """Keeps several backends current with one catalog; a failing backend is reported, not fatal.

    The catalog stays the source of truth: a backend that fails (a cluster that is down or
    goes away mid-run) is left alone for the rest of the run, and the catalog's index queue
    lets the next ingest or `reindex` catch it up.
    """

    def __init__(
        self,
        archive: Path,
        catalog: Catalog,
        *,
        names: list[str] | None = None,
        es_url: str | None = None,
    ) -> None:
        self.archive, self.catalog, self.es_url = archive, catalog, es_url
        self.names = names or backends_in_use(archive, es_url=es_url)
        self.failures: dict[str, str] = {}
        self._open: dict[str, SearchBackend] = {}

    def sync(self, *, full: bool = False) -> dict[str, SyncReport]:
        reports = {}
        for name in self.names:
            if name in self.failures:
                continue
            try:
                if name not in self._open:
                    self._open[name] = open_backend(
                        self.archive, name, writable=True, es_url=self.es_url
                    )
                reports[name] = sync(self.catalog, self._open[name], full=full)
            except BackendError as exc:
                self.failures[name] = str(exc)
                self._close(name)
        return reports

    def warning(self) -> str:
        """One line for the user, or "" when every backend is current."""
        return "; ".join(
            f"{name}: {reason}; run 'foiarchive reindex --backend {name}' when it is back"
            for name, reason in self.failures.items()
        )

    def _close(self, name: str) -> None:
        backend = self._open.pop(name, None)
        if backend is not None:
            try:
                backend.close()
            except BackendError as exc:
                self.failures.setdefault(name, str(exc))

    def close(self) -> None:
        for name in list(self._open):
            self._close(name)
