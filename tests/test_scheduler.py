"""The ingest scheduler on fake task sets: real executors, no Tesseract, no files."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.scheduler import CRASHED, Job, Scheduler


@dataclass
class PageJob(Job[str]):
    results: list[Any] = field(default_factory=list)


def square(n: int) -> int:
    time.sleep(0.001)
    return n * n


def ask_more() -> str:
    return "more"


def refuse(reason: str) -> None:
    raise IngestError(reason)


def divide(n: int) -> float:
    return 1 / n


def crash_once(marker: str) -> str:
    """Kills its worker process the first time it runs (as a segfault would), then succeeds."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return "survived"


def always_crash() -> None:
    os._exit(1)


class Recorder:
    """Starts each item's tasks as `plan[item]` says and records what the scheduler reports."""

    def __init__(self, plan: dict[str, list[tuple[Any, ...]]]) -> None:
        self.plan = plan
        self.finished: dict[str, PageJob] = {}
        self.crashed: dict[str, str] = {}
        self.retried: list[str] = []
        self.most_inflight = 0
        self.scheduler: Scheduler[PageJob] | None = None

    def attach(self, new_executor: Any, max_inflight: int) -> Scheduler[PageJob]:
        self.scheduler = Scheduler(
            new_executor,
            start=self.start,
            finish=self.finish,
            crashed=lambda item, reason: self.crashed.setdefault(item, reason),
            retried=lambda job: self.retried.append(job.item),
            max_inflight=max_inflight,
        )
        return self.scheduler

    def start(self, item: str) -> PageJob:
        assert self.scheduler is not None
        job = PageJob(item)
        for fn, *args in self.plan[item]:
            self.scheduler.submit(job, self.collect, fn, *args)
        self.most_inflight = max(self.most_inflight, len(self.scheduler.inflight))
        return job

    def collect(self, job: PageJob, result: Any) -> None:
        job.results.append(result)
        if result == "more":  # a handler may submit follow-up work (OCR after a text layer)
            assert self.scheduler is not None
            self.scheduler.submit(job, self.collect, square, 10)

    def finish(self, job: PageJob) -> None:
        assert job.item not in self.finished, "finished twice"
        assert job.outstanding == 0
        self.finished[job.item] = job


def test_results_reach_their_jobs_and_follow_up_tasks_run() -> None:
    plan = {f"file-{i}": [(square, n) for n in range(i)] for i in range(12)}
    plan["file-3"].append((ask_more,))
    recorder = Recorder(plan)
    with ThreadPoolExecutor(4) as pool:
        scheduler = recorder.attach(lambda: pool, max_inflight=6)
        scheduler.run(plan)
    assert set(recorder.finished) == set(plan)
    assert sorted(recorder.finished["file-5"].results) == [0, 1, 4, 9, 16]
    assert sorted(map(str, recorder.finished["file-3"].results)) == ["0", "1", "100", "4", "more"]
    assert recorder.finished["file-0"].results == []  # no task: finished at once
    assert not recorder.crashed and not recorder.retried
    assert recorder.most_inflight <= 6 + 11  # a job's own tasks go out together
    assert all(not job.error for job in recorder.finished.values())


def test_the_number_of_tasks_out_is_bounded() -> None:
    out = 0
    most = 0
    lock = threading.Lock()

    class Counting(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            nonlocal out, most
            with lock:
                out += 1
                most = max(most, out)
            future = super().submit(fn, *args, **kwargs)

            def done(_: Any) -> None:
                nonlocal out
                with lock:
                    out -= 1

            future.add_done_callback(done)
            return future

    plan = {f"file-{i}": [(square, i)] for i in range(40)}
    recorder = Recorder(plan)
    with Counting(8) as pool:
        recorder.attach(lambda: pool, max_inflight=3).run(plan)
    assert len(recorder.finished) == 40
    assert 1 <= most <= 3


def test_a_failing_task_fails_its_job_alone_with_a_one_line_reason() -> None:
    plan = {
        "good": [(square, 3)],
        "refused": [(square, 1), (refuse, "encrypted PDF")],
        "bug": [(divide, 0)],
    }
    recorder = Recorder(plan)
    with ThreadPoolExecutor(2) as pool:
        recorder.attach(lambda: pool, max_inflight=4).run(plan)
    assert recorder.finished["good"].error == ""
    assert recorder.finished["refused"].error == "encrypted PDF"
    assert recorder.finished["bug"].error == "unexpected error: ZeroDivisionError: division by zero"
    assert recorder.finished["bug"].results == []  # no handler ran for the failed task


def _process_pool() -> Executor:
    return ProcessPoolExecutor(2, multiprocessing.get_context("forkserver"))


def test_a_dead_worker_costs_nothing_its_jobs_run_again(tmp_path: Path) -> None:
    plan = {
        "crashes-once": [(crash_once, str(tmp_path / "crashed"))],
        **{f"file-{i}": [(square, i), (square, i + 1)] for i in range(6)},
    }
    recorder = Recorder(plan)
    scheduler = recorder.attach(_process_pool, max_inflight=4)
    try:
        scheduler.run(plan)
    finally:
        scheduler.close()
    assert set(recorder.finished) == set(plan)
    assert recorder.finished["crashes-once"].results == ["survived"]
    assert "crashes-once" in recorder.retried
    assert not recorder.crashed
    for i in range(6):  # every job in flight at the crash was run again, none twice
        assert sorted(recorder.finished[f"file-{i}"].results) == [i * i, (i + 1) ** 2]


def test_a_job_in_flight_at_two_crashes_fails_and_the_rest_goes_on() -> None:
    plan = {"poison": [(always_crash,)], "after": [(square, 7)]}
    recorder = Recorder(plan)
    scheduler = recorder.attach(_process_pool, max_inflight=1)
    try:
        scheduler.run(["poison", "after"])
    finally:
        scheduler.close()
    assert recorder.crashed == {"poison": CRASHED}
    assert recorder.retried == ["poison"]
    assert "poison" not in recorder.finished
    assert recorder.finished["after"].results == [49]
