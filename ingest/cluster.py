"""Page work on a Dask cluster: the executor the ingest scheduler uses with `--cluster`.

The machine that runs `ingest` (the coordinator) plans, and alone writes the catalog, the bags,
the OCR cache and the search index; reading pages (text layers, rendering, OCR, marks, Office
renditions, tables) runs on the cluster's workers. A source file reaches the workers by content:
its bytes are scattered once under their sha256 and each task that reads it names them, so Dask
moves them to a worker the first time it needs them (from the coordinator, or from a worker that
has them) and a worker keeps them on disk (ingest.cluster_worker). Files under a shared mount
(`shared_paths`) go as paths. Results come back small: text, word boxes, marks.

Faults: Dask runs a dead worker's tasks on another; a task that killed workers three times
fails its file (KilledWorker). When the only copy of a source dies with its worker, the file's
tasks fail with SourceLost and the scheduler runs the file again (sent anew). When the Dask
scheduler goes away, every future fails at once with ClusterError: the ingest stops, with the
completed documents in the catalog, and the same command resumes from the OCR cache.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import CancelledError, Executor, Future, InvalidStateError
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from distributed import Client
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from foiarchive import preservation
from foiarchive.archive import ClusterSettings
from foiarchive.ingest import cluster_worker
from foiarchive.ingest.errors import ClusterError, IngestError, OcrUnavailable, SourceLost
from foiarchive.ingest.ocr import PIPELINE_VERSION
from foiarchive.ingest.scheduler import CRASHED

#: The Dask client logs every reconnection attempt with a traceback: the one-line ClusterError
#: says it all.
QUIET_LOGGERS = (
    "distributed.client",
    "distributed.core",
    "distributed.comm",
    "distributed.batched",
)


@dataclass(frozen=True)
class Sent:
    """A source file's bytes on the cluster, under the name a worker stores them by."""

    name: str  # sha256 + the original suffix (LibreOffice and others go by it)
    future: Any  # distributed.Future of the bytes


@dataclass
class _Scattered:
    sent: Sent
    users: int = 0  # jobs that hold it


class ClusterExecutor(Executor):
    """A `concurrent.futures` executor over a Dask client, for the ingest scheduler."""

    def __init__(self, settings: ClusterSettings, client: Any, tesseract: str) -> None:
        self.settings = settings
        self.client = client
        self.tesseract = tesseract  # the workers' Tesseract: part of the OCR cache key
        self._scattered: dict[str, _Scattered] = {}
        self._digests: dict[Path, str] = {}  # derived files, hashed when first sent
        self._running: dict[str, Any] = {}  # key -> distributed.Future, to cancel on shutdown
        self._lock = threading.Lock()
        self.bytes_sent = 0
        self.files_sent = 0
        self.tasks = 0

    # connecting --------------------------------------------------------------------------
    @classmethod
    def connect(cls, settings: ClusterSettings, languages: str, ocr: bool) -> ClusterExecutor:
        """Reach the scheduler, wait for a first worker, check the workers, install Readiness."""
        client = _client(settings.scheduler, settings.timeout)
        try:
            tesseract = _check_workers(client, settings, languages, ocr)
        except BaseException:
            client.close(timeout=5)
            raise
        return cls(settings, client, tesseract)

    # sources -----------------------------------------------------------------------------
    def source(self, path: Path, sha256: str = "") -> Path | Sent:
        """What a task is given to read `path`: the path itself under a shared mount, else its
        bytes, scattered once while any job holds them (see `release`)."""
        if self.settings.shared(path.resolve()):
            return path
        if not sha256:
            sha256 = self._digests.get(path) or preservation.file_digest(path)
            self._digests[path] = sha256
        name = sha256 + path.suffix.lower()[:16]
        entry = self._scattered.get(name)
        if entry is None or entry.sent.future.status != "finished":
            data = path.read_bytes()
            # A key of its own each time: one lost with a worker stays cancelled in the client.
            key = f"foiarchive-source-{name}-{self.files_sent}"
            future = self._call(lambda: self.client.scatter({key: data}, hash=False)[key])
            self.bytes_sent += len(data)
            self.files_sent += 1
            entry = self._scattered[name] = _Scattered(Sent(name, future))
        entry.users += 1
        return entry.sent

    def release(self, sent: Sent) -> None:
        """A job is done with a source: its bytes leave the cluster when no job holds them."""
        entry = self._scattered.get(sent.name)
        if entry is not None and entry.sent is sent:
            entry.users -= 1
            if entry.users <= 0:
                del self._scattered[sent.name]

    # the executor ------------------------------------------------------------------------
    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        names = tuple(a.name if isinstance(a, Sent) else None for a in args)
        plain = [a.future if isinstance(a, Sent) else a for a in args]
        local: Future[Any] = Future()
        if any(isinstance(a, Sent) and a.future.status != "finished" for a in args):
            local.set_exception(SourceLost("its source was lost with a worker"))
            return local
        remote = self._call(
            lambda: self.client.submit(cluster_worker.run, fn, names, *plain, pure=False)
        )
        self.tasks += 1
        with self._lock:
            self._running[remote.key] = remote
        remote.add_done_callback(lambda done: self._settle(done, local))
        return local

    def _settle(self, remote: Any, local: Future[Any]) -> None:
        """Hand a Dask future's outcome to the scheduler's future, errors translated."""
        with self._lock:
            self._running.pop(remote.key, None)
        outcome: Any = None
        error: BaseException | None = None
        try:
            outcome = remote.result()
        except KilledWorker:
            error = IngestError(f"{CRASHED} (Dask workers died on it repeatedly)")
        except FutureCancelledError as exc:
            error = self._cancelled(exc.reason)
        except CancelledError:
            error = self._cancelled("")
        except BaseException as exc:  # the task's own error (IngestError, ...) goes as it is
            error = exc
        with contextlib.suppress(InvalidStateError):  # its job was thrown away meanwhile
            if error is None:
                local.set_result(outcome)
            else:
                local.set_exception(error)

    def _cancelled(self, reason: str) -> Exception:
        """A task cancelled by Dask: its source's only copy died with a worker ('lost
        dependencies', 'already forgotten'), or the scheduler is gone."""
        if self.client.status == "running" and reason != "scheduler-connection-lost":
            return SourceLost(reason)
        return ClusterError(
            f"lost the Dask scheduler at {self.settings.scheduler} ({reason or 'cancelled'}); "
            "every completed document is in the catalog: run the same command again to resume"
        )

    def _call(self, action: Any) -> Any:
        try:
            return action()
        except (OSError, TimeoutError, CancelledError) as exc:
            raise ClusterError(
                f"lost the Dask scheduler at {self.settings.scheduler}: {exc or type(exc).__name__}"
            ) from None

    def workers(self) -> tuple[int, int]:
        """Workers and their threads, as the scheduler knows them now."""
        # Totals only: the list of every worker is a large message on a large cluster.
        info = self._call(lambda: self.client.scheduler_info(n_workers=0))
        return int(info.get("n_workers", 0)), int(info.get("total_threads", 0))

    def stats(self) -> dict[str, Any]:
        return {
            "scheduler": self.settings.scheduler,
            "tasks": self.tasks,
            "files_sent": self.files_sent,
            "bytes_sent": self.bytes_sent,
        }

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is still queued or running on the cluster (Ctrl-C, an error), then
        leave it; the scattered sources go with the client."""
        with self._lock:
            running = list(self._running.values())
            self._running.clear()
        self._scattered.clear()
        with contextlib.suppress(OSError, TimeoutError, CancelledError):
            # the scheduler may be gone: then there is nothing left to cancel there
            if self.client.status == "running" and running:
                self.client.cancel(running, force=True)
            self.client.close(timeout=5 if self.client.status == "running" else 1)


def _check_workers(client: Any, settings: ClusterSettings, languages: str, ocr: bool) -> str:
    """Wait for a first worker; refuse workers of another version; the workers' Tesseract."""
    try:
        client.wait_for_workers(1, timeout=settings.timeout)
        found = client.run(cluster_worker.identity)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"no worker joined the Dask scheduler at {settings.scheduler} within "
            f"{settings.timeout:.0f} s ({exc or 'timed out'}); start some with "
            f"`foiarchive worker {settings.scheduler}`"
        ) from None
    expected = {"foiarchive": package_version("foiarchive"), "pipeline": PIPELINE_VERSION}
    tesseracts = sorted({own["tesseract"] for own in found.values()})
    expected["tesseract"] = tesseracts[-1] if ocr else ""
    for address, own in sorted(found.items()):
        problem = cluster_worker.mismatch(expected, own)
        if problem:
            raise ClusterError(f"worker {address} refused: {problem}")
        missing = [lang for lang in languages.split("+") if lang not in own["languages"]]
        if ocr and missing:
            raise OcrUnavailable(
                f"worker {address}: Tesseract language data missing: {', '.join(missing)} "
                f"(Debian: apt-get install tesseract-ocr-{missing[0]})"
            )
    try:
        client.register_plugin(cluster_worker.Readiness(expected))
    except cluster_worker.WorkerRefused as exc:
        raise ClusterError(str(exc)) from None
    return expected["tesseract"]


def _client(address: str, timeout: float) -> Client:
    """A client of the scheduler at `address`, or ClusterError in one line when it cannot be
    reached within `timeout` seconds (Dask retries a refused connection until then)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def reach_scheduler(address: str, timeout: float) -> None:
    """Check that the scheduler at `address` answers (ClusterError if not): what `foiarchive
    worker` does before starting workers, whose own failure to connect is a traceback."""
    _client(address, timeout).close(timeout=5)
