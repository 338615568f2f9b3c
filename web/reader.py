"""What one request may read of an archive: everything, less restricted productions unless the
request may see them. Every route reads through a Reader, so none can forget the rule.

Catalog connections (read-only) and search backends are opened once per server thread: SQLite
connections cannot be shared between threads, and opening one per request would cost more than
most requests.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import IO, Literal

from fastapi.concurrency import run_in_threadpool

from foiarchive.archive import Archive
from foiarchive.disclosure import tabular
from foiarchive.disclosure.diff import Diff, diff_productions
from foiarchive.disclosure.pixel_cache import PixelCache
from foiarchive.disclosure.report import Report, disclosure_report
from foiarchive.index import batch
from foiarchive.index import watches as saved_searches
from foiarchive.index.analysis import normalize_keyword
from foiarchive.index.backend import SearchBackend
from foiarchive.index.catalog import Catalog, ProductionSummary
from foiarchive.index.export import export_rows
from foiarchive.index.highlight import marked_text, match_spans, word_boxes_at
from foiarchive.index.marks import DocumentMarks, Marks
from foiarchive.index.query import QueryError, highlight_terms, parse
from foiarchive.index.search import (
    SearchRequest,
    SearchResults,
    matching_pages,
    parse_filter,
    search,
)
from foiarchive.index.team import Team, Viewer
from foiarchive.index.workspace import Watch, Workspace, WorkspaceError
from foiarchive.preservation.rendition import (
    PageImages,
    PageSource,
    delivered_file,
    page_source,
    pdf_text_boxes,
    render_into,
)
from foiarchive.schemas import Box, Document, Page, Production

#: How much lower than the server's the render processes' CPU priority is (nice(2)'s scale).
#: Measured with 20 clients without pause (bench/web.py, mixed): at 0 cached images waited
#: behind renders (p95 73 ms), at 2 and more renders starved (p95 700-1100 ms); at 1 searches
#: and cached images keep p95 36-48 ms and 27-36 ms.
RENDER_NICENESS = 1
#: Seconds between two access-log lines for the same account and document.
LOG_EVERY = 60.0


class Served:
    """One archive served: which backend answers, where page images are cached."""

    def __init__(
        self,
        archive: Archive,
        *,
        backend: str = "auto",
        image_cache: Path | None = None,
        render_processes: int = 0,
    ) -> None:
        """`render_processes` > 0 renders new page images in that many worker processes at a
        lower CPU priority, so that searches and cached images, which people wait on most, keep
        their speed while pages render; 0 renders in this process's threads."""
        self.archive = archive
        self.backend_name = archive.backend_name(backend)
        self.images = PageImages(image_cache or archive.layout.page_cache_dir)
        self.render_processes = render_processes
        self._renderer: ProcessPoolExecutor | None = None
        self._local = threading.local()
        self.catalog()  # fail at start, not on the first request, if there is none
        #: Whether the workspace has accounts: then they sign in and the single credential is
        #: not used. Decided when the server starts (adding the first account needs a restart).
        self.accounts = self.team().has_accounts()
        #: (account, document) -> when its opening was last written to the access log.
        self._logged: dict[tuple[str, str], float] = {}
        if self.searches_in_process:
            self.backend()  # likewise for a missing or unreadable embedded index

    def catalog(self) -> Catalog:
        catalog = getattr(self._local, "catalog", None)
        if catalog is None:
            catalog = self._local.catalog = self.archive.catalog(read_only=True)
        return catalog

    def workspace(self) -> Workspace:
        """This thread's connection to workspace.sqlite (kept open, like the catalog's)."""
        workspace = getattr(self._local, "workspace", None)
        if workspace is None:
            workspace = self._local.workspace = self.archive.workspace()
        return workspace

    def team(self) -> Team:
        return Team(self.workspace())

    def marks(self) -> Marks:
        return Marks(self.workspace())

    def log_access(self, user: str, document: Document, route: str) -> None:
        """One line of the access log per account, document and minute: a document's page
        images would otherwise write one each."""
        now = time.monotonic()
        if now - self._logged.get((user, document.id), -LOG_EVERY) < LOG_EVERY:
            return
        self._logged[(user, document.id)] = now
        if len(self._logged) > 10_000:
            self._logged.clear()
        self.team().log_access(user, document.production_id, document.id, route)

    def backend(self) -> SearchBackend:
        """This thread's backend; a cluster that cannot be reached is tried again next time, so
        searches come back by themselves when it does (documents and pages never need it)."""
        backend = getattr(self._local, "backend", None)
        if backend is None:
            backend = self.archive.backend(self.backend_name)
            self._local.backend = backend
        return backend

    async def render(self, source: PageSource, width: int) -> Path:
        """A new page image, rendered off the event loop (in a worker process if configured)."""
        if not self.render_processes:
            return await run_in_threadpool(render_into, self.images.cache, source, width)
        if self._renderer is None:
            self._renderer = ProcessPoolExecutor(
                self.render_processes,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_lower_priority,
            )
        future = self._renderer.submit(render_into, self.images.cache, source, width)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.shutdown(cancel_futures=True)

    @property
    def searches_in_process(self) -> bool:
        """The embedded index computes in this process; Elasticsearch answers over the network."""
        return self.backend_name == "tantivy"

    def reader(self, viewer: Viewer, route: str = "") -> Reader:
        return Reader(self, viewer, route)


def _lower_priority() -> None:
    os.nice(RENDER_NICENESS)


@dataclass
class PageView:
    """One page as the viewer shows it."""

    document: Document
    page: Page
    text_html: str  # escaped, with the query's matches marked
    hits: list[Box] = field(default_factory=list)  # where the matches are on the page image
    hit_pages: list[int] = field(default_factory=list)  # pages of the document that match
    has_image: bool = False
    query_error: str = ""


@dataclass
class Reader:
    served: Served
    viewer: Viewer
    route: str = ""  # for the access log

    @property
    def catalog(self) -> Catalog:
        return self.served.catalog()

    @cached_property
    def restricted(self) -> frozenset[str]:
        return self.catalog.restricted_productions()

    @cached_property
    def hidden(self) -> frozenset[str]:
        return self.viewer.hidden(self.restricted)

    @property
    def may_see_restricted(self) -> bool:
        return not self.hidden

    def _request(self, request: SearchRequest) -> SearchRequest:
        """The request narrowed to what this viewer may read, its marks as this viewer sees
        them."""
        return self.served.marks().narrowed(request, self.viewer, self.restricted)

    # -- productions ----------------------------------------------------------------------
    def productions(self) -> list[ProductionSummary]:
        return [s for s in self.catalog.productions() if s.production.id not in self.hidden]

    def production(self, production_id: str) -> Production | None:
        if production_id in self.hidden:
            return None
        return self.catalog.production(production_id)

    def documents(self, production_id: str) -> list[Document]:
        return self.catalog.documents(production_id) if self.production(production_id) else []

    def report(self, production_id: str) -> Report | None:
        if self.production(production_id) is None:
            return None
        return disclosure_report(self.catalog, production_id)

    def diff(self, old_id: str, new_id: str) -> Diff | None:
        if self.production(old_id) is None or self.production(new_id) is None:
            return None
        from foiarchive.ingest.crops import page_comparison  # Tesseract: only diffs read crops

        # Rendering and reading every scanned page pair takes 1-2 s a pair: kept between
        # requests, keyed by the pages' files (disclosure.pixel_cache).
        layout = self.served.archive.layout
        cache = PixelCache(layout.diff_cache_dir, old_id, new_id)
        diff = diff_productions(
            self.catalog, old_id, new_id, page_comparison(layout, self.catalog, cache=cache)
        )
        cache.save()
        return diff

    # -- search ---------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResults:
        return search(self.catalog, self.served.backend(), self._request(request))

    def export(
        self,
        request: SearchRequest,
        output_format: Literal["csv", "jsonl", "xlsx"],
        stream: IO[bytes],
        *,
        by_document: bool = False,
        base_url: str = "",
    ) -> None:
        """Every hit the request may see into `stream`. Runs in one thread from start to end
        on connections of its own: a streamed response's iterator hops between the pool's
        threads, which a SQLite connection refuses."""
        request = self._request(request)
        archive = self.served.archive
        with (
            archive.catalog(read_only=True) as catalog,
            archive.backend(self.served.backend_name) as backend,
        ):
            columns, rows = export_rows(
                catalog,
                backend,
                request,
                by_document=by_document,
                base_url=base_url,
                marks=partial(self.served.marks().summary, self.viewer),
            )
            tabular.write_rows(stream, output_format, columns, rows)

    def marks_of(self, documents: list[str]) -> dict[str, DocumentMarks]:
        """The marker each of these documents shows in results (the viewer's team's work)."""
        if self.viewer.user is None:
            return {}
        return self.served.marks().summary(self.viewer, documents)

    # -- research: batch search and watches (the library calls of `foiarchive batch-search`
    # and `foiarchive watch`, with the productions this request may not see hidden) ----------
    def batch(self, terms: list[batch.Term]) -> list[batch.BatchResult]:
        found = batch.batch_search(
            self.catalog, self.served.backend(), terms, hidden_productions=self.hidden
        )
        return list(found)

    def watches(self) -> list[Watch]:
        """The watches this viewer keeps: an account's own (an archivist's or admin's, all)."""
        return [w for w in self.served.workspace().watches() if self.viewer.sees_watch(w.owner_id)]

    def watch(self, name: str) -> Watch:
        """The watch of that name, if this viewer keeps it: another's is "no watch" alike."""
        watch = self.served.workspace().watch(name)
        if watch is None or not self.viewer.sees_watch(watch.owner_id):
            raise WorkspaceError(f"no watch named {name!r}")
        return watch

    def add_watch(self, name: str, query: str, filters: list[str]) -> Watch:
        """A watch of this viewer's (the archive's without an account); a filter naming a
        production this viewer may not read is refused as if there were none."""
        for facet, value in map(parse_filter, filters):
            wanted = normalize_keyword(value)
            if facet == "production" and any(normalize_keyword(p) == wanted for p in self.hidden):
                raise QueryError(f"filter production:{value}: no such production")
        workspace, backend = self.served.workspace(), self.served.backend()
        owner = self.viewer.user.id if self.viewer.user is not None else None
        return saved_searches.add_watch(
            workspace, self.catalog, backend, name, query, filters, owner_id=owner
        )

    def remove_watch(self, name: str) -> None:
        self.served.workspace().remove_watch(self.watch(name).name)

    def run_watches(self, name: str = "") -> list[saved_searches.WatchRun]:
        """New pages since each of this viewer's watches last ran (one, or all it keeps),
        remembered as reported: restricted ones are neither shown nor remembered for a request
        that may not see them."""
        workspace, backend = self.served.workspace(), self.served.backend()
        watches = [self.watch(name)] if name else self.watches()
        return [
            saved_searches.run_watch(workspace, self.catalog, backend, w, hidden=self.hidden)
            for w in watches
        ]

    # -- documents, pages, files -----------------------------------------------------------
    def document(self, document_id: str) -> Document | None:
        """The document, if this viewer may read it; an account's opening of a restricted
        one is written to the access log."""
        document = self.catalog.document(document_id)
        if document is None or document.production_id in self.hidden:
            return None
        if self.viewer.user is not None and document.production_id in self.restricted:
            self.served.log_access(self.viewer.user.name, document, self.route)
        return document

    def container(self, document: Document) -> Document | None:
        return self.document(document.parent) if document.parent else None

    def page(self, document: Document, number: int) -> Page | None:
        return self.catalog.page(document.id, number)

    def page_source(self, document: Document, number: int) -> PageSource | None:
        container = self.container(document)
        image = ""
        if document.fields and not document.size:  # a load-file record: pages are images
            image = self.catalog.page_image(document.id, number)
        return page_source(self.served.archive.layout, document, number, container, image)

    def original(self, document: Document) -> Path | None:
        """The file as delivered: the bag's, or the unpacked copy of a ZIP or email member."""
        return delivered_file(self.served.archive.layout, document)

    def page_view(self, document: Document, number: int, query: str = "") -> PageView | None:
        page = self.page(document, number)
        if page is None:
            return None
        source = self.page_source(document, number)
        view = PageView(document, page, marked_text(page.text, set()), has_image=bool(source))
        if not query.strip():
            return view
        try:
            words, prefixes = highlight_terms(parse(query))
            marks = self._request(SearchRequest(query)).marks
            view.hit_pages = matching_pages(
                self.catalog, self.served.backend(), query, document.id, self.hidden, marks
            )
        except QueryError as exc:
            view.query_error = str(exc)
            return view
        view.text_html = marked_text(page.text, words, prefixes)
        if page.word_boxes:
            spans = match_spans(page.text, words, prefixes)
            view.hits = word_boxes_at(page.text, page.boxes(), spans)
        elif source is not None and source.kind == "pdf" and (words or prefixes):
            view.hits = pdf_text_boxes(source, lambda text: match_spans(text, words, prefixes))
        return view
