"""What runs on a Dask worker for a cluster ingest (see ingest.cluster for the coordinator's side).

A task arrives as `run(fn, names, *args)`: each argument that `names` marks is a source file's
bytes, which Dask fetched for the task (from the coordinator once, then from whichever worker
holds them). The bytes are written once into this worker's own folder under their sha256 and
`fn` gets that path, as it gets the original path in a local ingest: the readers never know
where they run. `Readiness`, a plugin the coordinator installs on every worker, present and
future, sets OCR to one thread and refuses a worker whose foiarchive, OCR pipeline or
Tesseract differ from the coordinator's (the OCR cache is keyed by them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from distributed import Reschedule, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from foiarchive.ingest import office, pdf
from foiarchive.ingest.errors import IngestError, OcrUnavailable
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.ocr import PIPELINE_VERSION
from foiarchive.ingest.programs import tesseract

logger = logging.getLogger("distributed.foiarchive")  # printed the way Dask prints its own
#: Source files a worker keeps on disk: a few files' pages are in flight on one worker at once,
#: so older files are removed; one coming back is fetched again.
SOURCES_KEPT = 16


def identity() -> dict[str, Any]:
    """This worker's foiarchive, OCR pipeline, Tesseract and languages (empty when missing)."""
    try:
        found, languages = tesseract.version(), sorted(tesseract.languages())
    except OcrUnavailable:
        found, languages = "", []
    return {
        "foiarchive": package_version("foiarchive"),
        "pipeline": PIPELINE_VERSION,
        "tesseract": found,
        "languages": languages,
    }


def mismatch(expected: dict[str, Any], own: dict[str, Any]) -> str:
    """Why a worker `own` cannot work for a coordinator that expects `expected`, or ''."""
    for key, label in (("foiarchive", "foiarchive"), ("pipeline", "OCR pipeline version")):
        if own[key] != expected[key]:
            return (
                f"this worker runs {label} {own[key]}, the coordinator {expected[key]}: "
                f"install foiarchive {expected['foiarchive']} on every worker"
            )
    if expected.get("tesseract") and own["tesseract"] != expected["tesseract"]:
        return (
            f"this worker has Tesseract {own['tesseract'] or '(none)'}, the cluster "
            f"{expected['tesseract']}: OCR results would differ between machines"
        )
    return ""


_refused: list[str] = []  # why this worker refused its coordinator, while it closes


class WorkerRefused(RuntimeError):
    """A worker that cannot do this coordinator's work; it closes itself."""


class Readiness(WorkerPlugin):
    """Installed by each coordinator: OCR on one thread, and the worker's versions checked."""

    name = "foiarchive"

    def __init__(self, expected: dict[str, Any]) -> None:
        self.expected = expected

    async def setup(self, worker: Any) -> None:
        # One Tesseract thread per task: parallelism comes from the workers, and OpenMP threads
        # fighting over the same cores made one page take 29 s instead of 5.7 s.
        os.environ["OMP_THREAD_LIMIT"] = "1"
        problem = mismatch(self.expected, identity())
        _refused[:] = [problem] if problem else []
        if problem:
            logger.error("foiarchive worker %s refused: %s", worker.address, problem)
            closing = worker.close(nanny=True, reason="foiarchive version mismatch")
            asyncio.get_running_loop().call_soon(asyncio.ensure_future, closing)
            raise WorkerRefused(f"worker {worker.address} refused: {problem}")


def run(fn: Any, names: tuple[str | None, ...], *args: Any) -> Any:
    """`fn(*args)`, with each source's bytes (where `names` has its stored name) as a path."""
    if _refused:
        raise Reschedule()  # a refused worker, closing: the task runs on another
    if any(names):
        folder = Path(get_worker().local_directory) / "foiarchive-sources"
        args = tuple(
            _stored(folder, name, data) if name else data
            for name, data in zip(names, args, strict=True)
        )
    return fn(*args)


def _stored(folder: Path, name: str, data: bytes) -> Path:
    """The file `name` ('<sha256><suffix>') in `folder`, written once, its content checked."""
    path = folder / name
    if path.exists():
        os.utime(path)  # recently used: kept longest
        return path
    if hashlib.sha256(data).hexdigest() != name[:64]:
        raise IngestError("the source arrived damaged on a worker (sha256 differs)")
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".partial")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)
    kept = sorted(folder.glob("*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[SOURCES_KEPT:]:
        old.unlink(missing_ok=True)
    return path


def render_office(source: Path, fmt: str, limits: Limits) -> tuple[bytes, int, str]:
    """An Office file's rendition made on the worker and sent back whole (it is a derivative
    the coordinator keeps), with its page count and the LibreOffice that made it."""
    with tempfile.TemporaryDirectory(prefix="foiarchive-rendition-") as scratch:
        path = office.render(source, Path(scratch) / f"rendition.{fmt}", fmt)
        pages = pdf.page_count(path, limits) if fmt == "pdf" else 0
        return path.read_bytes(), pages, office.version()
