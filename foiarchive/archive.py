"""`Archive`: one archive folder, its layout and settings, and the catalog and search in it.

    from foiarchive import Archive, index

    archive = Archive("foiarchive-archive")               # or Archive(path, es_url=...)
    with archive.catalog() as catalog, archive.backend() as backend:
        hits = index.search(catalog, backend, index.SearchRequest("detainer"))

Settings are resolved once, from the archive's config.toml, then the environment
(FOIARCHIVE_ES_URL, FOIARCHIVE_CLUSTER, ...), then the options given here, each overriding the
one before. The Dask cluster that ingest sends page work to, when there is one:

    [cluster]
    scheduler = "tcp://scheduler.example.org:8786"   # or FOIARCHIVE_CLUSTER, or --cluster
    shared_paths = ["/mnt/foia"]   # folders the workers read at the same path (or --shared-path)
    timeout = 60                   # seconds to reach the scheduler and wait for a first worker
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.backends import Indexer, backends_in_use, open_backend, resolve_backend
from foiarchive.index.catalog import Catalog, CatalogError
from foiarchive.index.settings import ElasticsearchSettings, elasticsearch_settings
from foiarchive.index.workspace import Workspace
from foiarchive.schemas.errors import FoiarchiveError
from foiarchive.schemas.layout import Layout

DEFAULT_PATH = Path("foiarchive-archive")
CLUSTER_VARIABLE = "FOIARCHIVE_CLUSTER"


class SettingsError(FoiarchiveError):
    """config.toml or an option holds a setting that cannot be used."""


@dataclass(frozen=True)
class ClusterSettings:
    """A Dask scheduler to send ingest's page work to (see ingest.cluster)."""

    scheduler: str
    #: Folders every worker reads at the same path (a shared mount): files under them are sent
    #: to workers as paths; every other file is sent once by content.
    shared_paths: tuple[Path, ...] = ()
    timeout: float = 60.0

    def shared(self, path: Path) -> bool:
        return any(path.is_relative_to(folder) for folder in self.shared_paths)


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

    def cluster(
        self, scheduler: str | None = None, shared_paths: tuple[Path, ...] = ()
    ) -> ClusterSettings | None:
        """The Dask cluster for ingest: `scheduler` and `shared_paths` (the command line's) over
        FOIARCHIVE_CLUSTER over config.toml's [cluster]; None when there is none."""
        section = _cluster_section(self.layout.config_file)
        address = scheduler or os.environ.get(CLUSTER_VARIABLE) or section.get("scheduler")
        if not address:
            return None
        if "://" not in address or not address.split("://", 1)[1]:
            raise SettingsError(
                f"Dask scheduler {address!r}: give protocol, host and port, "
                "such as tcp://scheduler.example.org:8786"
            )
        folders = shared_paths or tuple(Path(p) for p in section.get("shared_paths", ()))
        return ClusterSettings(
            address,
            tuple(folder.resolve() for folder in folders),
            float(section.get("timeout", 60.0)),
        )

    def exists(self) -> bool:
        return self.layout.catalog_file.exists()

    def catalog(self, *, create: bool = False, read_only: bool = False) -> Catalog:
        """The catalog (a context manager); `create` makes a new archive if there is none,
        `read_only` opens it so that nothing can be written (see Catalog)."""
        if not create:
            self._require()
        return Catalog(self.layout.catalog_file, read_only=read_only)

    def workspace(self) -> Workspace:
        """workspace.sqlite (a context manager): watches, the team's accounts and groups
        (index.team.Team), notes, tags, stars and reads (index.marks.Marks). Only beside a
        catalog: a mistyped --archive must not leave a workspace of its own."""
        self._require()
        return Workspace(self.layout.workspace_file)

    def _require(self) -> None:
        if not self.exists():
            raise ArchiveNotFound(
                f"{self.path}: no foiarchive archive here (no {self.layout.catalog_file.name}); "
                "ingest a production first or pass --archive"
            )

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


def _cluster_section(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        section = tomllib.loads(path.read_text("utf-8")).get("cluster", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the configuration: {exc}") from None
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [cluster] must be a table")
    unknown = sorted(set(section) - {"scheduler", "shared_paths", "timeout"})
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting cluster.{unknown[0]} "
            "(known: scheduler, shared_paths, timeout)"
        )
    if not isinstance(section.get("scheduler", ""), str):
        raise SettingsError(f"{path}: cluster.scheduler must be text (in quotes)")
    paths = section.get("shared_paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise SettingsError(f"{path}: cluster.shared_paths must be a list of folders")
    timeout = section.get("timeout", 60)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise SettingsError(f"{path}: cluster.timeout must be a number of seconds")
    return section


__all__ = [
    "DEFAULT_PATH",
    "Archive",
    "ArchiveNotFound",
    "BackendError",
    "ClusterSettings",
    "SettingsError",
]
