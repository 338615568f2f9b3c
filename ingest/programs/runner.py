"""Run an external program the one way ingest runs them all.

The program starts in a session (and so a process group) of its own. On a timeout, or when
the caller is interrupted (KeyboardInterrupt), the whole group is killed, not just the
process we started: LibreOffice forks, and a killed `soffice` would otherwise leave its
`soffice.bin` running. Whatever of the group is still alive when the program itself exits
is killed too, so nothing outlives the call.

A program in its own session no longer gets the terminal's Ctrl-C itself: the caller gets it
as KeyboardInterrupt and kills the group. (In a pool worker, which ignores SIGINT and leaves
Ctrl-C to its parent, programs inherited that and ignored Ctrl-C before too: they finish.)

Output goes to anonymous temporary files rather than pipes: a child that keeps a pipe open
after the program exits cannot make us wait, and no output size can deadlock us.

Every failure is one `ProgramError` (an IngestError) whose message is one line: the program's
name and what went wrong, never a traceback or a page of stderr. Callers put the file's name
beside it, as they do for every IngestError.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from foiarchive.ingest.errors import IngestError

#: Longest stderr line quoted in an error message.
MAX_QUOTED = 300
#: Programs running now, so that a worker whose ingest died can take them down with it.
_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


class ProgramError(IngestError):
    """An external program could not do its job: missing, timed out or failed.

    Picklable with its fields: errors raised in pool workers reach the parent pickled.
    """

    def __init__(self, program: str, message: str) -> None:
        super().__init__(_one_line(message))
        self.program = program

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.program, str(self))


class ProgramMissing(ProgramError):
    """The program is not installed (not on PATH)."""


class ProgramTimedOut(ProgramError):
    def __init__(self, program: str, timeout: float) -> None:
        super().__init__(program, f"{program} did not finish within {timeout:g} s and was stopped")
        self.timeout = timeout

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.program, self.timeout)


class ProgramFailed(ProgramError):
    """The program ran and exited non-zero (or was killed by a signal)."""

    def __init__(self, program: str, returncode: int, stderr_line: str) -> None:
        if returncode < 0:
            try:
                how = f"was stopped by {signal.Signals(-returncode).name}"
            except ValueError:
                how = f"was stopped by signal {-returncode}"
        else:
            how = f"failed with exit code {returncode}"
        super().__init__(program, f"{program} {how}" + (f": {stderr_line}" if stderr_line else ""))
        self.returncode = returncode
        self.stderr_line = stderr_line

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.program, self.returncode, self.stderr_line)


def last_line(output: bytes | str) -> str:
    """The last non-blank line of a program's output, stripped and shortened."""
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    for line in reversed(text.splitlines()):
        if line.strip():
            return _one_line(line)[:MAX_QUOTED]
    return ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Program:
    """An external program: its name for messages, the commands it goes by, how to install it."""

    name: str  # "Tesseract"
    commands: tuple[str, ...]  # looked up on PATH in this order
    install: str  # "apt-get install tesseract-ocr"
    missing: type[ProgramMissing] = ProgramMissing  # raised when none of the commands is found
    needed_for: str = ""  # "; install it or ingest with --ocr never"

    def path(self) -> str:
        """The program's path on PATH, or `missing` saying how to install it."""
        for command in self.commands:
            found = shutil.which(command)
            if found:
                return found
        raise self.missing(
            self.name, f"{self.name} is not installed (Debian: {self.install}){self.needed_for}"
        )

    def run(
        self,
        args: Sequence[str | os.PathLike[str]],
        *,
        timeout: float,
        prefix: Sequence[str] = (),
        **options: Any,
    ) -> subprocess.CompletedProcess[bytes]:
        """`run([this program, *args])`, optionally behind a command prefix (`unshare -rn`)."""
        return run([*prefix, self.path(), *args], timeout=timeout, name=self.name, **options)


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
    name: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a program to completion within `timeout` seconds and capture its output.

    Raises ProgramMissing when it cannot be started, ProgramTimedOut when it (or anything it
    started) was killed for running too long, and, with `check`, ProgramFailed when it exits
    non-zero. `name` is the program's name in messages (default: the command's file name).
    """
    command = [os.fspath(arg) for arg in args]
    program = name or Path(command[0]).name
    with _spool(input) as stdin, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process: subprocess.Popen[bytes] | None = None
        try:
            with _interrupts_held() as interrupted:
                process = _start(command, program, stdin, out, err, cwd, env)
                with _RUNNING_LOCK:
                    _RUNNING.add(process)
            if interrupted:
                raise KeyboardInterrupt
            _wait_for_exit(process, timeout)
        except subprocess.TimeoutExpired:
            assert process is not None
            _kill_group(process)
            raise ProgramTimedOut(program, timeout) from None
        except BaseException:  # KeyboardInterrupt above all: leave nothing running
            if process is not None:
                _kill_group(process)
            raise
        finally:
            if process is not None:
                with _RUNNING_LOCK:
                    _RUNNING.discard(process)
        _kill_group(process)  # whatever it left behind: nothing outlives the call
        returncode = process.returncode
        stdout, stderr = _read(out), _read(err)
    if check and returncode != 0:
        raise ProgramFailed(program, returncode, last_line(stderr))
    return subprocess.CompletedProcess(command, returncode, stdout, stderr)


def kill_running() -> None:
    """SIGKILL the process group of every program running now (they run in sessions of their
    own, so nothing else would ever stop them): for a process about to exit abruptly."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        if process.returncode is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def _start(
    command: list[str],
    program: str,
    stdin: IO[bytes] | None,
    out: IO[bytes],
    err: IO[bytes],
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and exc.filename == command[0]:
            reason = f"{program} is not installed ({command[0]} not found)"
        else:
            reason = f"cannot run {program}: {exc.strerror or exc}: {exc.filename}"
        raise ProgramMissing(program, reason) from None


@contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """Hold back Ctrl-C while the program starts; the list says whether one came meanwhile.

    A KeyboardInterrupt raised inside Popen, after the fork, would lose the child's pid and
    leave it running; held, it is raised once the pid is known. (Only the main thread gets
    signals; a process that ignores SIGINT keeps ignoring it.)
    """
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield held
        return
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _spool(data: bytes | None) -> Iterator[IO[bytes] | None]:
    if data is None:
        yield None
        return
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.seek(0)
        yield handle


def _read(handle: IO[bytes]) -> bytes:
    handle.seek(0)
    return handle.read()


def _wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until the program exits, without reaping it (TimeoutExpired after `timeout` s).

    Unreaped, the program keeps its pid, and so the id of its process group, from being
    reused: killing the group afterwards cannot reach anyone else's processes. A pidfd wakes
    us the moment it exits (Popen.wait with a timeout polls, up to 50 ms late).
    """
    try:
        handle = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: wait the portable way (and reap)
        process.wait(timeout)
        return
    try:
        poller = select.poll()
        poller.register(handle, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))):
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(handle)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group the program leads (its pgid is its pid), then reap it."""
    if process.returncode is None:  # not yet reaped: the group id is still ours
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
