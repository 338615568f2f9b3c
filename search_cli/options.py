"""Options and wrappers every command shares."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from foiarchive import index
from foiarchive.archive import Archive
from foiarchive.schemas.errors import FoiarchiveError


def _friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Anything a user can cause ends in one line on stderr and its exit code, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FoiarchiveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _format_option(choices: list[str], default: str) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def _archive(ctx: click.Context) -> Archive:
    archive: Archive = ctx.find_root().obj
    return archive


def _backend_option(default: str, help_text: str) -> Callable[[Any], Any]:
    return click.option(
        "--backend",
        type=click.Choice([default, *index.BACKENDS]),
        default=default,
        show_default=True,
        help=help_text,
    )
