"""The work done in the pool's processes, kept in a module that imports only what it needs.

Workers start from a forkserver that has already imported this module, so a new worker costs
a fork, not a second round of imports.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foiarchive.ingest import images, ocr, office, pdf
from foiarchive.ingest import textual as textual_pages
from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.identify import XLSX
from foiarchive.ingest.leaks import audit as leak_audit
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.ocr import OcrResult, OcrSettings, ReadPage
from foiarchive.ingest.ocr import ocr_image as ocr_image_file
from foiarchive.ingest.programs.runner import kill_running
from foiarchive.schemas.findings import Finding

#: How often a worker without pidfds looks whether its ingest is still there.
_POLL_SECONDS = 1.0


def worker_init(ingest_pid: int | None = None) -> None:
    # One thread per Tesseract process: parallelism comes from the pool, and OpenMP threads
    # fighting over the same cores made one page take 29 s instead of 5.7 s.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if ingest_pid is not None:
        _exit_with(ingest_pid)


def _exit_with(ingest_pid: int) -> None:
    """End this worker, and the program it runs, the moment the ingest process dies.

    A SIGKILLed ingest (or one the OOM killer took) cannot shut its pool down, and nothing
    else would: each worker blocks on a task queue whose write end it holds itself, and holds
    the forkserver's "alive" pipe, so the forkserver and the resource tracker wait for the
    workers in turn (measured: 4 processes, ~240 MB, left running for good). A parent-death
    signal would not do: a worker's parent is the forkserver, not the ingest. A pidfd of the
    ingest becomes readable when it exits; where there are none, a poll every second.
    """
    try:
        handle: int | None = os.pidfd_open(ingest_pid)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _alive(ingest_pid):
                time.sleep(_POLL_SECONDS)
        kill_running()  # Tesseract or LibreOffice, in a session of its own
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-ingest", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ready() -> None:
    """A no-op the pool runs once per worker at start-up, so workers exist before work arrives."""


def text_layer(
    path: Path, first: int, last: int, with_metadata: bool, ocr_follows: bool = True
) -> tuple[Any, Any]:
    metadata = pdf.read_metadata(path) if with_metadata else None
    pages = pdf.read_text_layer(path, first, last, ocr_follows)
    if metadata is not None:
        # What the whole file keeps (revisions, attachments, ...) is looked for once, with the
        # first chunk; a bookmark is compared with the words that chunk's pages hide.
        found = [Finding.from_dict(d) for page in pages for d in page.leaks]
        texts = functools.partial(leak_audit.pdf_texts, path)
        metadata.leaks = [f.to_dict() for f in leak_audit.document_leaks(path, found, texts)]
    return pages, metadata


def original_leaks(path: Path, media_type: str) -> list[dict[str, Any]]:
    """What an Office original or workbook keeps out of sight; [] when it cannot be read
    (the rendition's reader reports that file's problems)."""
    try:
        return [f.to_dict() for f in leak_audit.original_leaks(path, media_type)]
    except IngestError:
        return []


def ocr_pdf_page(path: Path, number: int, settings: OcrSettings, limits: Limits) -> OcrResult:
    image, dpi = pdf.render_page(
        path, number, settings.dpi, limits, native_from=ocr.UPSCALE_BELOW_DPI
    )
    return ocr_image_file(image, settings, dpi=dpi, limits=limits)


def ocr_image(path: Path, number: int, settings: OcrSettings, limits: Limits) -> OcrResult:
    image, dpi = images.load_frame(path, number, limits)
    return ocr_image_file(image, settings, dpi=dpi, limits=limits)


def ocr_pages(
    ocr: Callable[[Path, int, OcrSettings, Limits], OcrResult],
    path: Path,
    numbers: tuple[int, ...],
    settings: OcrSettings,
    limits: Limits,
) -> list[ReadPage]:
    """Pages of one file read by `ocr` (ocr_pdf_page or ocr_image), each made ready for the
    ingest here (ReadPage). A cluster sends several pages a task: see pipeline.PAGES_PER_TASK."""
    return [ReadPage.of(ocr(path, number, settings, limits)) for number in numbers]


def render_office(source: Path, target: Path, fmt: str, limits: Limits) -> tuple[Path, int]:
    """An Office file's rendition (see ingest.office), and its page count when a PDF."""
    path = office.render(source, target, fmt)
    return path, pdf.page_count(path, limits) if fmt == "pdf" else 0


def textual(path: Path, media_type: str, encoding: str, limits: Limits) -> textual_pages.Table:
    if media_type == "text/csv":
        return textual_pages.csv_pages(path, encoding, limits)
    if media_type == XLSX:
        return textual_pages.xlsx_pages(path, limits)
    return textual_pages.Table(textual_pages.text_pages(path, encoding), [])
