"""Choosing and opening search backends, and keeping all of an archive's backends current."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.catalog import Catalog
from foiarchive.index.settings import ElasticsearchSettings
from foiarchive.index.sync import SyncReport, sync
from foiarchive.index.tantivy_backend import TantivyBackend

BACKENDS = ("tantivy", "elasticsearch")


def resolve_backend(name: str, elasticsearch: ElasticsearchSettings | None) -> str:
    """Which backend `name` means, without connecting to anything: `auto` is Elasticsearch when
    one is configured, else the embedded Tantivy index."""
    if name == "auto":
        return "elasticsearch" if elasticsearch else "tantivy"
    if name not in BACKENDS:
        raise BackendError(f"unknown search backend {name!r} (choose from {', '.join(BACKENDS)})")
    return name


def open_backend(
    search_dir: Path,
    elasticsearch: ElasticsearchSettings | None,
    name: str = "auto",
    *,
    writable: bool = False,
) -> SearchBackend:
    """One search backend: the Tantivy index in `search_dir`, or the configured cluster."""
    if resolve_backend(name, elasticsearch) == "elasticsearch":
        if elasticsearch is None:
            raise BackendError(
                "no Elasticsearch configured: pass --es-url, set FOIARCHIVE_ES_URL or add "
                "[elasticsearch] url to the archive's config.toml"
            )
        from foiarchive.index.es_backend import ElasticsearchBackend  # the client costs 0.25 s

        return ElasticsearchBackend(elasticsearch, writable=writable)
    return TantivyBackend(search_dir, writable=writable)


def backends_in_use(elasticsearch: ElasticsearchSettings | None) -> list[str]:
    """The backends kept current on ingest: always Tantivy, and Elasticsearch when configured."""
    return ["tantivy", "elasticsearch"] if elasticsearch is not None else ["tantivy"]


class Indexer:
    """Keeps several backends current with one catalog; a failing backend is reported, not fatal.

    The catalog stays the source of truth: a backend that fails (a cluster that is down or
    goes away mid-run) is left alone for the rest of the run, and the catalog's index queue
    lets the next ingest or `reindex` catch it up. `open_writer` opens a backend by name for
    writing (`foiarchive.Archive.backend` with writable=True).
    """

    def __init__(
        self, catalog: Catalog, open_writer: Callable[[str], SearchBackend], names: list[str]
    ) -> None:
        self.catalog, self.open_writer, self.names = catalog, open_writer, names
        self.failures: dict[str, str] = {}
        self._open: dict[str, SearchBackend] = {}

    def sync(self, *, full: bool = False) -> dict[str, SyncReport]:
        reports = {}
        for name in self.names:
            if name in self.failures:
                continue
            try:
                if name not in self._open:
                    self._open[name] = self.open_writer(name)
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
