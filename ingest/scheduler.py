"""Running an ingest's page-sized tasks on any `concurrent.futures`-style executor.

The scheduler knows nothing of files, pages or Tesseract: it starts jobs from a queue, keeps a
bounded number of tasks in flight, hands each result to the handler its task was submitted
with, and calls `finish` when a job has no task left. A local process pool is the default
executor; anything with `submit` and `shutdown` (a thread pool, a Dask client's executor) fits.

When a worker dies (a segfault in a PDF library, the out-of-memory killer) the executor breaks
and every task in flight is lost with it: the scheduler starts a new executor and runs the
jobs that were in flight again, from the start. A job in flight during two such crashes is the
likely culprit and fails instead of breaking the run a third time. An executor that survives
its workers' deaths (Dask) raises `rerun_errors` for the one job whose work was lost: that job
alone runs again, counted the same way. `fatal_errors` (the cluster itself is gone) end the run.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import KW_ONLY, dataclass
from typing import Any, Generic, TypeVar

from foiarchive.ingest.errors import IngestError

#: How many crashes with a job in flight make it the culprit.
CRASHES_TO_FAIL = 2
CRASHED = "a reader process crashed on this file"

Item = TypeVar("Item")
Handler = Callable[[Any, Any], None]


@dataclass
class Job(Generic[Item]):
    """The tasks of one queued item (a file): how many are still out, and the first error."""

    item: Item
    _: KW_ONLY
    outstanding: int = 0
    error: str = ""


J = TypeVar("J", bound="Job[Any]")


class Scheduler(Generic[J]):
    """Runs the tasks of queued items with at most `max_inflight` tasks out at once.

    `start(item)` makes the item's job and submits its first tasks (through `submit`); each
    handler may submit more. `finish(job)` is called once per job when none of its tasks is out
    (with `job.error` set if one failed); `crashed(item)` when the item fails for crashing
    workers; `retried(job)` when a job is thrown away to be run again after a crash.
    """

    def __init__(
        self,
        new_executor: Callable[[], Executor],
        *,
        start: Callable[[Any], J],
        finish: Callable[[J], None],
        crashed: Callable[[Any, str], None],
        retried: Callable[[J], None] = lambda job: None,
        max_inflight: int = 8,
        crash_errors: tuple[type[BaseException], ...] = (BrokenProcessPool,),
        rerun_errors: tuple[type[BaseException], ...] = (),
        fatal_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._new_executor = new_executor
        self._start, self._finish, self._crashed, self._retried = start, finish, crashed, retried
        self.max_inflight = max_inflight
        self.crash_errors = crash_errors
        self.rerun_errors, self.fatal_errors = rerun_errors, fatal_errors
        self.inflight: dict[Future[Any], tuple[J, Handler]] = {}
        self.queue: deque[Any] = deque()
        self.crashes: Counter[int] = Counter()  # by id() of the item
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = self._new_executor()
        return self._executor

    def warm_up(self, task: Callable[[], Any], workers: int) -> None:
        """Start the executor's workers now, so they get ready while the caller plans."""
        for _ in range(workers):
            self.executor.submit(task)

    def submit(self, job: J, handler: Handler, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` for `job`; `handler(job, result)` gets its result."""
        job.outstanding += 1
        self.inflight[self.executor.submit(fn, *args)] = (job, handler)

    def run(self, items: Iterable[Any]) -> None:
        """Run every item's tasks to the end."""
        self.queue.extend(items)
        while self.queue or self.inflight:
            while self.queue and len(self.inflight) < self.max_inflight:
                job = self._start(self.queue.popleft())
                if job.outstanding == 0:
                    self._finish(job)
            if not self.inflight:
                continue
            done, _ = wait(list(self.inflight), return_when=FIRST_COMPLETED)
            for future in done:
                self._completed(future)

    def _completed(self, future: Future[Any]) -> None:
        entry = self.inflight.pop(future, None)
        if entry is None:
            return  # its job was thrown away after a crash and runs again
        job, handler = entry
        job.outstanding -= 1
        try:
            result = future.result()
        except self.fatal_errors:
            raise
        except self.crash_errors:
            self._recover(job)
            return
        except self.rerun_errors:
            self._rerun(job)
            return
        except IngestError as exc:
            job.error = job.error or str(exc)
        except Exception as exc:  # a library bug on odd input must not end the batch
            job.error = job.error or f"unexpected error: {type(exc).__name__}: {exc}"
        else:
            if not job.error:
                handler(job, result)
        if job.outstanding == 0:
            self._finish(job)

    def _recover(self, job: J) -> None:
        """A new executor; the jobs that were in flight run again or, crashing twice, fail."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        suspects = {id(job): job} | {id(j): j for j, _ in self.inflight.values()}
        self.inflight.clear()
        for suspect in suspects.values():
            self.crashes[id(suspect.item)] += 1
            if self.crashes[id(suspect.item)] >= CRASHES_TO_FAIL:
                self._crashed(suspect.item, CRASHED)
            else:
                self._retried(suspect)
                self.queue.appendleft(suspect.item)

    def _rerun(self, job: J) -> None:
        """Only this job's work was lost: its other tasks are dropped and it runs again."""
        for future in [f for f, (j, _) in self.inflight.items() if j is job]:
            del self.inflight[future]
            future.cancel()
        self._retried(job)
        self.crashes[id(job.item)] += 1
        if self.crashes[id(job.item)] >= CRASHES_TO_FAIL:
            self._crashed(job.item, CRASHED)
        else:
            self.queue.appendleft(job.item)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
