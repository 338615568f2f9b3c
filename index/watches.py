"""Saved searches that say what each new release adds.

A watch is a query (and filters) kept in workspace.sqlite with the pages it has already
reported. Adding one records what it matches now, so its first run reports only what arrives
later; each run then reports the matching pages it has not reported before, grouped by
production and document, and remembers them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from foiarchive.index.backend import SearchBackend
from foiarchive.index.catalog import Catalog
from foiarchive.index.export import EXPORT_BATCH, PageRow, dress_pages
from foiarchive.index.search import SearchRequest, parse_filter, prepare
from foiarchive.index.workspace import Watch, Workspace, WorkspaceError


@dataclass
class WatchRun:
    watch: Watch
    new: list[PageRow] = field(default_factory=list)
    since: str = ""  # "" for "since the last run", else the date asked

    def by_production(self) -> dict[str, dict[str, list[PageRow]]]:
        """production -> document -> its new pages, in page order."""
        grouped: dict[str, dict[str, list[PageRow]]] = {}
        for row in self.new:
            grouped.setdefault(row.production, {}).setdefault(row.document, []).append(row)
        return grouped

    def summary(self) -> list[str]:
        """One line per production: "watch 'detainer policy': 14 new pages in ice-2017-r3"."""
        lines = []
        for production, documents in self.by_production().items():
            pages = sum(len(rows) for rows in documents.values())
            noun = "page" if pages == 1 else "pages"
            lines.append(f"watch {self.watch.name!r}: {pages} new {noun} in {production}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.watch.to_dict(),
            "since": self.since or "last run",
            "new_pages": len(self.new),
            "productions": [
                {
                    "production": production,
                    "new_pages": sum(len(rows) for rows in documents.values()),
                    "documents": [
                        {
                            "document": document,
                            "path": rows[0].path,
                            "pages": [
                                {"page": r.page, "bates": r.bates, "snippet": r.snippet}
                                for r in rows
                            ],
                        }
                        for document, rows in documents.items()
                    ],
                }
                for production, documents in self.by_production().items()
            ],
        }


def watch_request(watch: Watch, hidden: frozenset[str] = frozenset()) -> SearchRequest:
    return SearchRequest(watch.query, filters=tuple(watch.filters), hidden_productions=hidden)


def add_watch(
    workspace: Workspace,
    catalog: Catalog,
    backend: SearchBackend,
    name: str,
    query: str,
    filters: Iterable[str] = (),
    owner_id: int | None = None,
) -> Watch:
    """Save a search (an account's, or with `owner_id` None the archive's); the pages it
    matches now count as reported (raises QueryError first for a query that is not one)."""
    watch = Watch(name, query, [parse_filter(item) for item in filters], owner_id=owner_id)
    node, _ = prepare(catalog, backend, watch_request(watch))
    workspace.add_watch(watch)
    workspace.unseen(watch, backend.scan(node, EXPORT_BATCH), remember=True)
    return watch


def run_watch(
    workspace: Workspace,
    catalog: Catalog,
    backend: SearchBackend,
    watch: Watch,
    *,
    since: str = "",
    hidden: frozenset[str] = frozenset(),
    base_url: str = "",
    remember: bool = True,
) -> WatchRun:
    """The pages new to a watch: since its last run (and remembered), or, with `since` a date
    (YYYY-MM-DD), those of documents ingested on or after it (nothing is remembered)."""
    request = watch_request(watch, hidden)
    node, highlight = prepare(catalog, backend, request)
    if since:
        ingested = catalog.documents_ingested_since(since)
        keys = [
            key
            for batch in backend.scan(node, EXPORT_BATCH)
            for key in batch
            if key.rpartition(":")[0] in ingested
        ]
    else:
        keys = workspace.unseen(watch, backend.scan(node, EXPORT_BATCH), remember=remember)
    rows: list[PageRow] = []
    for start in range(0, len(keys), EXPORT_BATCH):
        rows.extend(
            dress_pages(catalog, keys[start : start + EXPORT_BATCH], highlight, request, base_url)
        )
    return WatchRun(watch, rows, since)


def run_watches(
    workspace: Workspace,
    catalog: Catalog,
    backend: SearchBackend,
    name: str = "",
    **options: Any,
) -> list[WatchRun]:
    """Run one watch by name, or every watch."""
    if name:
        watch = workspace.watch(name)
        if watch is None:
            raise WorkspaceError(f"no watch named {name!r} (see 'foiarchive watch list')")
        watches = [watch]
    else:
        watches = workspace.watches()
    return [run_watch(workspace, catalog, backend, w, **options) for w in watches]
