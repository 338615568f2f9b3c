"""Output formats shared by the commands: table (for people), JSON and CSV (for programs)."""

from __future__ import annotations

import csv
import html
import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import click

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def emit_json(data: Any, stream: TextIO | None = None) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False), file=stream)


def emit_csv(
    columns: Sequence[str], rows: Iterable[dict[str, Any]], stream: TextIO | None = None
) -> None:
    writer = csv.DictWriter(
        stream or sys.stdout, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(row)


def terminal_snippet(snippet: str) -> str:
    """A snippet's <mark>ed words in bold, the rest as plain text."""
    parts = []
    position = 0
    for match in _MARK.finditer(snippet):
        parts.append(html.unescape(snippet[position : match.start()]))
        parts.append(click.style(html.unescape(match.group(1)), bold=True, fg="yellow"))
        position = match.end()
    parts.append(html.unescape(snippet[position:]))
    return "".join(parts)


def printable(value: str) -> str:
    """A path or title safe to print on one line (control characters escaped)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)
