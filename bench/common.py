"""Helpers for the benchmarks: timed subprocesses with their peak memory, and tables."""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
ROOT = Path(__file__).resolve().parent.parent
FOIARCHIVE = [sys.executable, "-c", "from foiarchive.search_cli.main import main; main()"]


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float
    stdout: str
    #: CPU seconds of the command and every process it waited for (workers, Tesseract runs):
    #: unlike wall time, nearly the same whether or not the machine is busy with other work.
    cpu_seconds: float = 0.0


def children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's finished, waited-for children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: Sequence[str | Path], env: dict[str, str] | None = None) -> Timed:
    """Run a command; wall time, the peak RSS of its largest process and the CPU time of all its
    processes (via wait4)."""
    _adopt_orphans()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(c) for c in command],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime + _reap_orphans()
    if process.returncode not in (0, 3):
        raise SystemExit(f"benchmark command failed ({process.returncode}): {command}")
    return Timed(seconds, usage.ru_maxrss / 1024, output, cpu)


def _adopt_orphans() -> None:
    """Make this process the reaper of its descendants' orphans (Linux), so that their CPU time
    is counted: ingest's pool workers are children of multiprocessing's fork server, which
    outlives the command by a moment and would otherwise be reaped by init, with all the
    workers' and Tesseract runs' time."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans(wait: float = 10.0) -> float:
    """CPU seconds of the orphans adopted during a command, waiting for them to end."""
    cpu, deadline = 0.0, time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break  # none left
        if pid == 0:
            time.sleep(0.05)  # some still running
            continue
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def parallel(commands: list[list[str]], jobs: int, env: dict[str, str] | None = None) -> float:
    """Wall time to run independent commands `jobs` at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        for result in pool.map(
            lambda c: subprocess.run(c, env=env, capture_output=True, check=False), commands
        ):
            if result.returncode != 0:
                raise SystemExit(f"baseline failed: {result.args}: {result.stderr[:300]!r}")
    return time.perf_counter() - started


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
