"""A live progress display for ingest runs (rich), and a quiet one for pipes and logs."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} pages/s" if speed else "- pages/s", style="cyan")


class LiveProgress:
    """Files and pages done, pages per second and time left, redrawn in place on a terminal."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("pages · files {task.fields[files]}"),
            _Rate(),
            TextColumn("{task.fields[workers]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._task = self._bar.add_task("ingest", total=None, files="0/?", workers="")
        self._files_total = 0
        self._files_done = 0

    def __enter__(self) -> LiveProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def planned(self, files: int, pages: int) -> None:
        self._files_total = files
        self._bar.update(self._task, total=pages, files=f"0/{files}")

    def advance(self, pages: int) -> None:
        self._bar.advance(self._task, pages)

    def workers(self, count: int) -> None:
        self._bar.update(self._task, workers=f"· {count} workers")

    def file_done(self, path: str, error: str | None) -> None:
        self._files_done += 1
        self._bar.update(self._task, files=f"{self._files_done}/{self._files_total}")
        if error:
            self._bar.console.print(Text(f"error: {path}: {error}", style="red"))


class LineProgress:
    """For non-terminals: one line per failed file, nothing else (the summary follows)."""

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def planned(self, files: int, pages: int) -> None:
        pass

    def advance(self, pages: int) -> None:
        pass

    def workers(self, count: int) -> None:
        pass

    def file_done(self, path: str, error: str | None) -> None:
        if error:
            click.echo(f"error: {path}: {error}", err=True)


def make_progress(quiet: bool) -> LiveProgress | LineProgress:
    if quiet or not sys.stderr.isatty():
        return LineProgress()
    return LiveProgress()
