"""Bring a search backend up to date with the catalog, from the catalog's index queue.

Replays are idempotent (a document's pages are dropped before they are added), so a crash
between the backend's commit and the catalog's record of it only means the same documents
are indexed again next time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from foiarchive.index.backend import SearchBackend
from foiarchive.index.catalog import Catalog

BATCH_DOCUMENTS = 200


@dataclass
class SyncReport:
    documents: int = 0
    pages: int = 0
    rebuilt: bool = False


def pending(catalog: Catalog, backend: SearchBackend) -> int:
    """How many queued document changes the backend has not seen (0 when up to date)."""
    synced, generation = catalog.sync_state(backend.name)
    if generation != backend.generation:
        return max(1, catalog.queue_position())
    return catalog.queue_position() - synced


def sync(
    catalog: Catalog,
    backend: SearchBackend,
    *,
    full: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Index every document changed since the last sync (everything when `full` or new)."""
    report = SyncReport()
    synced, generation = catalog.sync_state(backend.name)
    if full or generation != backend.generation:
        backend.begin_rebuild()
        report.rebuilt = True
        target = catalog.queue_position()
        ids = [d.id for d in catalog.documents()]
        for start in range(0, len(ids), BATCH_DOCUMENTS):
            _index_batch(catalog, backend, ids[start : start + BATCH_DOCUMENTS], report)
            if on_progress:
                on_progress(report.documents, len(ids))
        backend.commit()
        catalog.set_sync_state(backend.name, target, backend.generation)
        synced = target
    while entries := catalog.queued_since(synced, BATCH_DOCUMENTS):
        ids = list(dict.fromkeys(document_id for _, document_id in entries))
        _index_batch(catalog, backend, ids, report)
        backend.commit()
        synced = entries[-1][0]
        catalog.set_sync_state(backend.name, synced, backend.generation)
        if on_progress:
            on_progress(report.documents, report.documents)
    return report


def _index_batch(
    catalog: Catalog, backend: SearchBackend, document_ids: list[str], report: SyncReport
) -> None:
    pages = [p for document_id in document_ids for p in catalog.indexable_pages(document_id)]
    backend.replace(document_ids, pages)
    report.documents += len(document_ids)
    report.pages += len(pages)
