"""Take a production into the archive: plan, read every page, record, bag, index.

Three parts, each in its own module: the planner (ingest.planner) finds, hashes and identifies
every file and says what to read; the scheduler (ingest.scheduler) runs the page-sized reading
tasks on an executor, a local process pool by default; this module holds the readers' handlers
and the recording. With a Dask cluster (ingest.cluster) the same tasks run on its workers, the
sources sent to them by content; this process stays the only writer. Each file becomes a job;
a PDF job first reads its text layer in chunks, then sends only the pages without good text to
OCR, one page per task (a few on a cluster), so every core stays busy across file boundaries;
the readers hand back each page's cache entry and packed word boxes ready. Results are gathered
per document and written to the catalog in one transaction when the document is complete: a
crash or Ctrl-C never leaves half a document behind, and the next run skips what is done (same
path, same sha256) and takes cached OCR for the rest.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from foiarchive import preservation
from foiarchive.archive import Archive, ClusterSettings
from foiarchive.index.catalog import Catalog, now_iso
from foiarchive.ingest import (
    containers,
    marks,
    office,
    pdf,
    preserve,
    split,
    tasks,
    watching,
)
from foiarchive.ingest.discover import Found, empty_folders
from foiarchive.ingest.errors import ClusterError, IngestError, OcrUnavailable, SourceLost
from foiarchive.ingest.identify import XLSX
from foiarchive.ingest.leaks import pages as leak_pages
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.ocr import (
    OcrCache,
    OcrSettings,
    ReadPage,
    check_languages,
    tesseract_version,
)
from foiarchive.ingest.planner import Derivative, Plan, Planned, Planner, new_document
from foiarchive.ingest.report import FileIssue, IngestReport
from foiarchive.ingest.scheduler import Job, Scheduler
from foiarchive.ingest.textual import Table
from foiarchive.preservation.layout import keep_member
from foiarchive.schemas import Document, Event, Page, Production
from foiarchive.schemas.records import unpack_word_boxes

if TYPE_CHECKING:
    from foiarchive.ingest.cluster import ClusterExecutor

OcrMode = Literal["auto", "always", "never"]
TEXT_CHUNK_PAGES = 25
#: Index what is cataloged whenever this many pages have accumulated.
SYNC_EVERY_PAGES = 500
#: Seconds between two looks at the cluster's workers (an RPC to the scheduler).
WATCH_CLUSTER_EVERY = 2.0
#: Pages of one file OCR'd in one task on a cluster: a task and its result cost the coordinator
#: ~2.5 ms of Dask messages (measured), against ~2 core-seconds of OCR a page on a worker.
#: Locally a page a task: the pool's messages are cheap and a few cores need fine-grained work.
CLUSTER_PAGES_PER_TASK = 4
AGENT = "foiarchive"


@dataclass(frozen=True)
class IngestOptions:
    ocr: OcrMode = "auto"
    languages: str = "eng"
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    dpi: int = 300
    limits: Limits = field(default_factory=Limits)
    split: str = ""  # cut merged PDFs into records: "auto" (page signals) or an inventory CSV
    #: Read files again even when unchanged (same path and sha256), OCR from the cache: what
    #: brings an archive up to what a newer foiarchive reads (marks, OCR word boxes).
    reread: bool = False
    #: Read pages on this Dask cluster's workers instead of local processes (Archive.cluster()).
    cluster: ClusterSettings | None = None
    #: Run after the watches, with their new hits as JSON on stdin (see ingest.watching).
    notify_command: str = ""


class Progress(Protocol):
    def planned(self, files: int, pages: int) -> None: ...
    def advance(self, pages: int) -> None: ...
    def file_done(self, path: str, error: str | None) -> None: ...
    def workers(self, count: int) -> None: ...  # a cluster's workers, now


class _Silent:
    def planned(self, files: int, pages: int) -> None: ...
    def advance(self, pages: int) -> None: ...
    def file_done(self, path: str, error: str | None) -> None: ...
    def workers(self, count: int) -> None: ...


class Interrupted(Exception):
    """The run was stopped (Ctrl-C); the report says what was saved."""

    def __init__(self, report: IngestReport) -> None:
        super().__init__("interrupted")
        self.report = report


def _cut(doc: Document, pages: list[Page], segment: split.Segment) -> tuple[Document, list[Page]]:
    """One record of a merged PDF: its own document, pages numbered from 1."""
    path = f"{doc.path}!/pages {segment.first}-{segment.last}"
    record = dataclasses.replace(
        doc,
        id=Document.make_id(doc.production_id, path),
        path=path,
        size=0,  # no bytes of its own: they are the merged PDF's
        parent=doc.id,
        page_offset=segment.first - 1,
        title=segment.title or doc.title,
        columns=[],
    )
    own = [
        dataclasses.replace(page, number=page.number - segment.first + 1)
        for page in pages
        if segment.first <= page.number <= segment.last
    ]
    return record, own


# -- the run ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Wanted:
    """A page to OCR: the document's page `number`, page `in_file` of the file read, with what
    its text layer holds (`fallback_text`, kept where OCR misses it) and its size in points."""

    number: int
    in_file: int
    fallback_text: str = ""
    size: tuple[float, float] | None = None
    scanned: bool = False


@dataclass
class _Job(Job[Planned]):
    """A file being read: its document and the pages read so far."""

    document: Document
    pages: dict[int, Page] = field(default_factory=dict)
    #: Scanned pages whose text layer was replaced by our OCR: (page, agreement of the two).
    replaced_layers: list[tuple[int, float]] = field(default_factory=list)
    #: The text layers replaced, by page: their citations still count (marks.annotate).
    replaced_text: dict[int, str] = field(default_factory=dict)
    #: Leaks found on each page's drawing, and in the whole file (see ingest.leaks).
    leaks: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    file_leaks: list[dict[str, Any]] = field(default_factory=list)
    #: Scanned pages' invisible text layers, word by word, until their OCR finds the boxes.
    layer_words: dict[int, list[tuple[str, tuple[float, float, float, float]]]] = field(
        default_factory=dict
    )
    #: On a cluster: the files its tasks read, as sent to the workers (see ClusterExecutor).
    sent: dict[Path, Any] = field(default_factory=dict)

    @property
    def planned(self) -> Planned:
        return self.item


class _Run:
    def __init__(
        self,
        archive: Archive,
        catalog: Catalog,
        production: Production,
        options: IngestOptions,
        progress: Progress,
        settings: OcrSettings,
        inventory: list[split.InventoryRow] | None = None,
        cluster: ClusterExecutor | None = None,
    ) -> None:
        self.archive = archive
        self.catalog = catalog
        self.production = production
        self.inventory = inventory  # the agency's list of records, for --split INVENTORY
        self.options = options
        self.progress = progress
        self.report = IngestReport(production=production.id)
        self.cache = OcrCache(archive.layout.ocr_cache_dir)
        self.settings = settings
        self.cluster = cluster
        self.scheduler: Scheduler[_Job] = Scheduler(
            self._new_pool if cluster is None else lambda: cluster,
            start=self._start,
            finish=self._finish,
            crashed=self.fail,
            retried=self._retried,
            max_inflight=max(4, options.jobs * 4),
            # Dask runs a dead worker's tasks elsewhere itself: no executor is ever replaced.
            crash_errors=() if cluster else (BrokenProcessPool,),
            rerun_errors=(SourceLost,),
            fatal_errors=(ClusterError,),
        )
        self._watched = 0.0
        self.indexer = archive.indexer(catalog)
        self._unindexed_pages = 0
        self.scratch = containers.Scratch(archive.layout.staging_dir / f"members-{os.getpid()}")
        self.planned = Plan()

    def plan(self, source: Path, exclude: set[Path] | None) -> Plan:
        """Plan the files (see ingest.planner); the readers start while it goes on."""
        planner = Planner(
            self.catalog,
            self.production.id,
            limits=self.options.limits,
            derivatives=self.archive.layout.derivatives_dir,
            scratch=self.scratch,
            reread=self.options.reread,
            work_found=self._warm_up,
        )
        self.planned = plan = planner.plan(source, exclude)
        self.report.files += plan.files
        self.report.skipped += plan.skipped
        self.report.warnings += plan.warnings
        return plan

    # scheduling ---------------------------------------------------------------------
    def _warm_up(self) -> None:
        if self.cluster is None:
            self.scheduler.warm_up(tasks.ready, self.options.jobs)
        else:
            self._watch_cluster()

    def _watch_cluster(self) -> None:
        """Show the cluster's workers; keep enough tasks out to feed every worker thread."""
        now = time.monotonic()
        if self.cluster is None or now - self._watched < WATCH_CLUSTER_EVERY:
            return
        self._watched = now
        workers, threads = self.cluster.workers()
        self.progress.workers(workers)
        self.scheduler.max_inflight = max(8, 2 * threads)

    def _source(self, job: _Job, path: Path, sha256: str = "") -> Any:
        """What a task gets to read `path`: the path, or on a cluster the file as sent there."""
        if self.cluster is None:
            return path
        if path not in job.sent:
            known = sha256 or (job.planned.sha256 if path == job.planned.found.source else "")
            job.sent[path] = self.cluster.source(path, known)
        return job.sent[path]

    def _release(self, job: _Job) -> None:
        if self.cluster is not None:
            for sent in job.sent.values():
                if not isinstance(sent, Path):
                    self.cluster.release(sent)
        job.sent.clear()

    def _submit(self, job: _Job, handler: Callable[[_Job, Any], None], fn: Any, *args: Any) -> None:
        self.scheduler.submit(job, handler, fn, *args)

    def finish_containers(self) -> None:
        """Record the containers, innermost first, now that their members are in."""
        while self.planned.held:
            held = self.planned.held.pop()
            self._finish(_Job(held.planned, held.document, held.pages))

    def harmonize_bates(self) -> None:
        """One spelling per Bates prefix across the production: the one on most pages."""
        documents = [d for d in self.catalog.documents(self.production.id) if d.bates_first]
        for document_id, spelling in marks.harmonize(documents).items():
            document = self.catalog.document(document_id)
            if document is None:
                continue
            pages = self.catalog.pages(document_id)
            for page in pages:
                page.bates = marks.respell(page.bates, spelling)
            document.bates_first, document.bates_last = marks.respell(
                [document.bates_first, document.bates_last], spelling
            )
            self.catalog.put_document(document, pages)

    def sync_index(self) -> None:
        """Index what was cataloged so far; a long ingest becomes searchable as it goes."""
        self._unindexed_pages = 0
        reports = self.indexer.sync()
        self.report.indexed_pages += max((r.pages for r in reports.values()), default=0)
        self.report.index_warning = self.indexer.warning()

    def close(self) -> None:
        self.scheduler.close()
        shutil.rmtree(self.scratch.folder, ignore_errors=True)
        self.indexer.close()

    def _new_pool(self) -> ProcessPoolExecutor:
        # A forkserver that has imported the task module forks workers that are ready at once,
        # and no worker inherits this process's open catalog or index handles.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["foiarchive.ingest.tasks"])
        return ProcessPoolExecutor(
            self.options.jobs, context, initializer=tasks.worker_init, initargs=(os.getpid(),)
        )

    def execute(self, todo: list[Planned]) -> None:
        self.scheduler.run(todo)

    def _retried(self, job: _Job) -> None:
        self.progress.advance(-len(job.pages))  # its pages are read again
        self._release(job)

    def _start(self, planned: Planned) -> _Job:
        ident = planned.identification
        assert ident is not None
        document = new_document(self.production.id, planned)
        job = _Job(planned, document)
        source = planned.source
        if planned.assembly:
            document.fields = planned.fields
            document.bates_first = planned.assembly[0][0]
            document.bates_last = planned.assembly[-1][0]
            for number, (_, image, (sha256, _)) in enumerate(planned.assembly, start=1):
                self._ocr(job, tasks.ocr_image, image, [_Wanted(number, 1)], sha256)
        elif ident.media_type == "application/pdf":
            self._read_pdf(job, source, planned.pages)
        elif ident.media_type in office.RENDITIONS:
            self._look_inside(job, source, ident.media_type)
            self._render(job, office.RENDITIONS[ident.media_type])
        elif ident.media_type.startswith("image/"):
            wanted = [_Wanted(number, number) for number in range(1, planned.pages + 1)]
            self._ocr(job, tasks.ocr_image, source, wanted)
        else:
            self._look_inside(job, source, ident.media_type)
            self._submit(
                job,
                self._on_textual,
                tasks.textual,
                self._source(job, source),
                ident.media_type,
                ident.encoding,
                self.options.limits,
            )
        return job

    def _look_inside(self, job: _Job, source: Path, media_type: str) -> None:
        """Office originals and workbooks: what they keep that their pages do not show."""
        if media_type in (office.DOCX, office.PPTX, XLSX):
            self._submit(
                job,
                self._on_file_leaks,
                tasks.original_leaks,
                self._source(job, source),
                media_type,
            )

    def _on_file_leaks(self, job: _Job, found: list[dict[str, Any]]) -> None:
        job.file_leaks += found

    def _render(self, job: _Job, fmt: str) -> None:
        """An Office file's rendition (kept in derivatives/), made where the work runs."""
        target = self.archive.layout.derivatives_dir / f"{job.planned.sha256}.{fmt}"
        limits = self.options.limits
        if self.cluster is None:
            self._submit(
                job, self._on_rendition, tasks.render_office, job.planned.source, target, fmt,
                limits,
            )  # fmt: skip
            return
        if target.exists() and target.stat().st_size:  # made by an earlier run
            self._on_rendition(job, (target, pdf.page_count(target, limits) if fmt == "pdf" else 0))
            return

        def handler(job: _Job, result: tuple[bytes, int, str]) -> None:
            data, pages, agent = result
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            partial.replace(target)
            self._on_rendition(job, (target, pages), agent)

        from foiarchive.ingest import cluster_worker  # Dask: only on cluster runs

        source = self._source(job, job.planned.source)
        self._submit(job, handler, cluster_worker.render_office, source, fmt, limits)

    def _read_pdf(self, job: _Job, source: Path, pages: int) -> None:
        """The text layer in chunks of pages; pages without real text go to OCR from there."""
        for first in range(1, pages + 1, TEXT_CHUNK_PAGES):
            last = min(pages, first + TEXT_CHUNK_PAGES - 1)
            self._submit(
                job,
                self._on_text_layer,
                tasks.text_layer,
                self._source(job, source),
                first,
                last,
                first == 1,
                self.options.ocr != "never",
            )

    def _on_rendition(self, job: _Job, result: tuple[Path, int], agent: str = "") -> None:
        """An Office file's rendition is ready: read it as the PDF or workbook it now is."""
        path, pages = result
        job.planned.derived = Derivative(
            path,
            "migration",
            f"rendered as {path.suffix[1:].upper()} by {agent or office.version()}",
        )
        if path.suffix == ".pdf":
            job.document.page_count = pages
            self._read_pdf(job, path, pages)
        else:
            self._look_inside(job, path, XLSX)  # a legacy workbook, as the .xlsx it became
            self._submit(
                job,
                self._on_textual,
                tasks.textual,
                self._source(job, path),
                XLSX,
                "",
                self.options.limits,
            )

    def _ocr(
        self, job: _Job, task: Any, source: Path, wanted: list[_Wanted], sha256: str = ""
    ) -> None:
        """OCR pages of `source`, each from the cache when this file's page was read before, the
        others in tasks of a few pages (CLUSTER_PAGES_PER_TASK). `sha256` is the source's when it
        is not the document's own file (a load-file document assembled from page images)."""
        digest = sha256 or job.document.sha256
        todo = []
        for page in wanted:
            if self.options.ocr == "never":
                self._without_ocr(job, page)
                continue
            cached = self.cache.get(digest, page.in_file, self.settings)
            if cached is None:
                todo.append(page)
                continue
            self.report.pages_ocr_cached += 1
            self._on_ocr(job, cached, page)
        per_task = 1 if self.cluster is None else CLUSTER_PAGES_PER_TASK
        count = -(-len(todo) // per_task)  # tasks as even as can be: 10 pages go as 3, 3 and 4
        for n in range(count):
            group = todo[n * len(todo) // count : (n + 1) * len(todo) // count]
            self._send_ocr(job, task, source, group, sha256)

    def _send_ocr(
        self, job: _Job, task: Any, source: Path, pages: list[_Wanted], sha256: str
    ) -> None:
        digest = sha256 or job.document.sha256

        def handler(job: _Job, reads: list[ReadPage]) -> None:
            for page, read in zip(pages, reads, strict=True):
                self.cache.put(digest, page.in_file, self.settings, read.cached)
                self._on_ocr(job, read, page)
            self._watch_cluster()

        sent = self._source(job, source, sha256)
        numbers = tuple(page.in_file for page in pages)
        limits = self.options.limits
        self._submit(job, handler, tasks.ocr_pages, task, sent, numbers, self.settings, limits)

    def _without_ocr(self, job: _Job, page: _Wanted) -> None:
        text, size = page.fallback_text, page.size
        job.pages[page.number] = Page(
            number=page.number,
            text=text,
            text_source="pdf" if text.strip() else "none",
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        self.progress.advance(1)

    # results ------------------------------------------------------------------------
    def _on_text_layer(self, job: _Job, result: tuple[list[pdf.PageText], Any]) -> None:
        page_texts, metadata = result
        if metadata is not None:
            doc = job.document
            doc.title, doc.author, doc.producer = metadata.title, metadata.author, metadata.producer
            doc.created, doc.modified = metadata.created, metadata.modified
            job.file_leaks += metadata.leaks
        ocr: list[_Wanted] = []
        for item in page_texts:
            if item.leaks:
                job.leaks[item.number] = item.leaks
            if item.layer_words:
                job.layer_words[item.number] = item.layer_words
            # A scan is read from its pixels even with a text layer: the boxes and the codes
            # beside them are only there, and someone else's OCR may be poor (see _on_ocr).
            wants_ocr = self.options.ocr == "always" or (
                self.options.ocr == "auto" and (not item.good or item.scanned)
            )
            if wants_ocr and self.options.ocr != "never":
                size = (item.width, item.height)
                ocr.append(_Wanted(item.number, item.number, item.text, size, item.scanned))
            else:
                job.pages[item.number] = Page(
                    number=item.number,
                    text=item.text.strip(),
                    text_source="pdf" if item.text.strip() else "none",
                    width=item.width,
                    height=item.height,
                    redactions=item.redactions,
                )
                self.progress.advance(1)
        if ocr:
            self._ocr(job, tasks.ocr_pdf_page, job.planned.source, ocr)

    def _on_ocr(self, job: _Job, read: ReadPage, page: _Wanted) -> None:
        result, number = read.result, page.number
        layer_text, scanned = page.fallback_text, page.scanned
        width, height = page.size if page.size else (result.width, result.height)
        self._layer_under_boxes(job, number, read)
        if scanned and layer_text.strip() and not result.text.strip():
            # Our OCR read nothing (a blank-looking image, a language not installed): the
            # layer is all the text there is.
            job.pages[number] = Page(
                number=number,
                text=layer_text.strip(),
                text_source="pdf",
                width=width,
                height=height,
                redactions=result.redactions,
            )
            self.progress.advance(1)
            return
        if layer_text.strip() and (scanned or self.options.ocr == "always"):
            # Asked to OCR every page, the layer is replaced, not merged: OCR of an OCRmyPDF file
            # whose scan sits in a form (not seen as a scan) doubled the text, 1,453 -> 2,645
            # words, by appending the layer's misreads. The layer stays evidence (marks.annotate).
            agreement = pdf.layer_agreement(layer_text, result.text)
            job.replaced_layers.append((number, round(agreement, 2)))
            job.replaced_text[number] = layer_text
            # The layer read the same pixels, worse: only its citations count (marks.annotate).
            text = result.text
        else:
            text = result.text
            extra = _words_missing(layer_text, text)
            if extra:
                # Keep what only the text layer had (digital text OCR did not find).
                text = f"{text}\n{extra}" if text else extra
        job.pages[number] = Page(
            number=number,
            text=text,
            text_source="ocr",
            ocr_confidence=result.confidence,
            width=width,
            height=height,
            redactions=result.redactions,
            word_boxes=read.boxes,
        )
        self.report.pages_ocr += 1
        self.progress.advance(1)

    def _layer_under_boxes(self, job: _Job, number: int, read: ReadPage) -> None:
        """A scan's text layer words under the solid boxes this OCR found in its image: decided
        here, where both are known, so the text layer reader renders no scan (ocr_under_box)."""
        words = job.layer_words.pop(number, None)
        if words:
            ours = list(zip(read.result.text.split(), unpack_word_boxes(read.boxes), strict=False))
            found = leak_pages.ocr_under_boxes(words, read.result.redactions, number, ours)
            job.leaks.setdefault(number, []).extend(f.to_dict() for f in found)

    def _on_textual(self, job: _Job, table: Table) -> None:
        pages = table.pages
        job.document.columns = table.columns
        if len(pages) > self.options.limits.max_pages:
            job.error = (
                f"{len(pages)} pages of text, over the limit of {self.options.limits.max_pages}"
            )
            return
        for page in pages:
            job.pages[page.number] = page
        job.document.page_count = len(pages)
        self.progress.advance(1)

    def _finish(self, job: _Job) -> None:
        doc = job.document
        self._release(job)
        if job.error:
            self.fail(job.planned, job.error)
            return
        pages = [job.pages[n] for n in sorted(job.pages)]
        if doc.parent and doc.size and not job.planned.assembly:
            # unpacked from a ZIP or an email: kept whole, to be shown and downloaded alone
            keep_member(self.archive.layout, job.planned.found.source, doc.sha256)
        for page in pages:
            marks.annotate(page, job.replaced_text.get(page.number, ""))
        _place_leaks(pages, job.leaks, job.file_leaks)
        for page, (key, image, _) in zip(pages, job.planned.assembly, strict=False):
            page.bates = [key]  # the load file's numbering is the record's
            page.image = self.planned.image_paths.get(image, "")
        segments = self._segments(doc, pages)
        if len(segments) > 1:
            self._record(doc, [])  # the merged PDF itself: its records hold the pages
            for segment in segments:
                self._record(*_cut(doc, pages, segment))
            self.report.splits.append(
                {"path": doc.path, "segments": [dataclasses.asdict(s) for s in segments]}
            )
        else:
            self._record(doc, pages)
        if job.replaced_layers:
            self.report.text_layers_replaced += len(job.replaced_layers)
            read = ", ".join(f"{n} ({share:.0%})" for n, share in job.replaced_layers)
            self.catalog.add_event(
                Event(
                    "OCR",
                    f"{doc.production_id}/{doc.path}",
                    "success",
                    f"text layer replaced by OCR on scanned pages {read} (the share of the "
                    "layer's words our OCR also read)",
                    AGENT,
                    now_iso(),
                )
            )
        derived = job.planned.derived
        if derived:
            self.catalog.add_event(
                Event(
                    derived.event,
                    f"{doc.production_id}/{doc.path}",
                    "success",
                    f"{derived.note}; read from derivatives/{derived.path.name}",
                    AGENT,
                    now_iso(),
                )
            )
        if self._unindexed_pages >= SYNC_EVERY_PAGES:
            self.sync_index()  # workers keep busy on queued tasks meanwhile
        self.progress.file_done(doc.path, None)

    def _segments(self, doc: Document, pages: list[Page]) -> list[split.Segment]:
        if not self.options.split or doc.media_type != "application/pdf" or len(pages) < 2:
            return []
        if self.inventory is not None:
            return split.by_inventory(pages, self.inventory)
        return split.by_signals(pages)

    def _record(self, doc: Document, pages: list[Page]) -> None:
        """Write a finished document with its pages."""
        if not doc.fields and (
            doc.media_type == "application/pdf" or doc.media_type.startswith("image/")
        ):
            # Stamps are on page images; a text file that mentions a range is not stamped.
            doc.bates_first, doc.bates_last = marks.assign_bates(pages)
        if pages:  # a merged PDF cut into records keeps its own count; a ZIP has none
            doc.page_count = len(pages)
        sources = {p.text_source for p in pages if p.text_source != "none"}
        doc.text_source = sources.pop() if len(sources) == 1 else ("mixed" if sources else "none")
        confidences = [p.ocr_confidence for p in pages if p.ocr_confidence is not None]
        doc.ocr_confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
        doc.ingested_at = now_iso()
        self.catalog.put_document(doc, pages)
        self.report.ingested += 1
        self.report.pages += len(pages)
        self._unindexed_pages += len(pages)

    def fail(self, planned: Planned, reason: str) -> None:
        """Record a file that could not be ingested; keep any earlier good version of it."""
        found = planned.found
        self.report.failures.append(FileIssue(found.path, reason))
        self.progress.file_done(found.path, reason)
        if self.catalog.ingested_sha256(self.production.id, found.path) is not None:
            return  # an earlier, good version stays in the archive
        if not found.problem:
            _quarantine(self.archive, self.production.id, found, reason)
        ident = planned.identification
        self.catalog.put_document(
            Document(
                id=Document.make_id(self.production.id, found.path),
                production_id=self.production.id,
                path=found.path,
                sha256=planned.sha256,
                size=found.size,
                media_type=ident.media_type if ident else "application/octet-stream",
                pronom=ident.pronom if ident else "",
                status="error",
                error=reason,
                parent=planned.parent,
                ingested_at=now_iso(),
            )
        )


def _place_leaks(
    pages: list[Page], by_page: dict[int, list[dict[str, Any]]], whole: list[dict[str, Any]]
) -> None:
    """Page findings on their pages; the whole file's on the page they name, else page 1."""
    if not pages:
        return
    numbered = {page.number: page for page in pages}
    for number, found in by_page.items():
        if number in numbered:
            numbered[number].leaks = list(found)
    for finding in whole:
        page = numbered.get(finding.get("page") or 0, pages[0])
        page.leaks.append(finding)


def _words_missing(layer_text: str, ocr_text: str) -> str:
    """Lines of the PDF text layer whose words OCR did not find (stamps added digitally)."""
    if not layer_text.strip():
        return ""
    seen = set(ocr_text.lower().split())
    extra = [
        line.strip()
        for line in layer_text.splitlines()
        if line.strip() and not all(word.lower() in seen for word in line.split())
    ]
    return "\n".join(extra)


def _quarantine(archive: Archive, production_id: str, found: Found, reason: str) -> None:
    """Copy a failed file beside a note of why, for someone to look at; the source stays put."""
    relative = Path(*[p for p in Path(found.path).parts if p not in ("..", "/")])
    target = archive.layout.quarantine_dir / production_id / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found.source, target, follow_symlinks=False)
        target.with_name(target.name + ".reason.txt").write_text(
            f"{found.path}\n{reason}\n{now_iso()}\n", encoding="utf-8"
        )
    except OSError:
        pass  # the catalog still records the failure and its reason


def ingest_production(
    archive: Archive,
    source: Path,
    production: Production,
    options: IngestOptions | None = None,
    *,
    progress: Progress | None = None,
    exclude: set[Path] | None = None,
) -> IngestReport:
    """Ingest every file under `source` as `production` into the archive, then index it.

    Raises IngestError for problems with the whole run (missing source, no Tesseract) and
    Interrupted on Ctrl-C; per-file problems are in the report.
    """
    options = options or IngestOptions()
    progress = progress or _Silent()
    started = time.monotonic()
    if not source.is_dir():
        raise IngestError(
            f"{source}: no such folder" if not source.exists() else f"{source}: not a folder"
        )
    options.limits.apply_to_pillow()
    archive.backends_in_use()  # a bad config.toml stops us here, before any work
    cluster = _connect(options)
    settings_version = cluster.tesseract if cluster else ""
    if options.ocr != "never" and cluster is None:
        settings_version = tesseract_version()
        check_languages(options.languages)
    inventory = None
    if options.split and options.split != "auto":
        inventory = split.read_inventory(Path(options.split))
        exclude = {*(exclude or ()), Path(options.split)}  # it describes records; it is none
    catalog = archive.catalog(create=True)
    settings = OcrSettings(options.languages, options.dpi, settings_version)
    try:
        run = _Run(archive, catalog, production, options, progress, settings, inventory, cluster)
    except BaseException:
        catalog.close()
        if cluster is not None:
            cluster.shutdown(cancel_futures=True)
        raise
    try:
        production_changed = catalog.put_production(production)
        plan = run.plan(source, exclude)
        progress.planned(len(plan.todo) + len(plan.failed), plan.pages)
        for planned in plan.failed:
            run.fail(planned, planned.error)
        if plan.todo:
            run.execute(plan.todo)
        if plan.todo or plan.held:
            run.finish_containers()
            run.harmonize_bates()
        changed = production_changed or run.report.ingested or run.report.failures
        if changed:
            _record_run(catalog, run.report)
        if changed or not (archive.layout.bag(production.id) / "bagit.txt").exists():
            _bag(archive, catalog, production, run, source)
        run.sync_index()
        watching.after_ingest(archive, catalog, run.report, options.notify_command)
    except KeyboardInterrupt:
        run.report.seconds = time.monotonic() - started
        raise Interrupted(run.report) from None
    finally:
        if cluster is not None:
            run.report.cluster = cluster.stats()
        run.close()
        catalog.close()
    run.report.seconds = time.monotonic() - started
    return run.report


def _connect(options: IngestOptions) -> ClusterExecutor | None:
    if options.cluster is None:
        return None
    try:
        from foiarchive.ingest.cluster import ClusterExecutor
    except ImportError:
        raise ClusterError(
            "--cluster needs Dask distributed: pip install 'foiarchive[cluster]'"
        ) from None
    return ClusterExecutor.connect(options.cluster, options.languages, options.ocr != "never")


def _bag(
    archive: Archive, catalog: Catalog, production: Production, run: _Run, source: Path
) -> None:
    try:
        outcome = preserve.preserve_production(
            archive,
            catalog,
            production,
            run.planned.sources,
            empty_folders=empty_folders(source),
            workers=run.options.jobs,
        )
    except (preservation.BagError, OSError) as exc:
        run.report.bag_warning = f"the bag was not written: {exc}; the next ingest retries"
        return
    run.report.bag_files = outcome.files
    if outcome.missing:
        run.report.bag_warning = (
            f"{len(outcome.missing)} originals ingested earlier are neither in the source folder "
            f"nor in the previous bag, e.g. {outcome.missing[0]}"
        )


def _record_run(catalog: Catalog, report: IngestReport) -> None:
    outcome: Literal["success", "warning"] = "success" if report.ok else "warning"
    catalog.add_event(
        Event(
            type="ingestion",
            object=report.production,
            outcome=outcome,
            detail=(
                f"{report.ingested} documents ingested ({report.pages} pages, {report.pages_ocr} "
                f"OCR'd), {report.skipped} unchanged, {len(report.failures)} failed"
            ),
            agent=AGENT,
        )
    )


__all__ = [
    "IngestError",
    "IngestOptions",
    "IngestReport",
    "Interrupted",
    "OcrUnavailable",
    "Progress",
    "ingest_production",
]
