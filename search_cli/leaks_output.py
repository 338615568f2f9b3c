"""How `foiarchive leaks` and `foiarchive audit` print findings."""

from __future__ import annotations

from typing import Any

import click

from foiarchive.search_cli.output import emit_csv, emit_json, printable

COLUMNS = ("file", "production", "document", "path", "page", "bates", "kind", "text", "how", "box")


def emit(rows: list[dict[str, Any]], output_format: str) -> None:
    if output_format == "json":
        emit_json(rows)
    elif output_format == "csv":
        emit_csv([c for c in COLUMNS if any(c in row for row in rows)] or COLUMNS, rows)
    else:
        for row in rows:
            where = row.get("file") or row.get("path", "")
            page = f" p. {row['page']}" if row.get("page") else ""
            bates = f" [{row['bates']}]" if row.get("bates") else ""
            click.echo(
                f"{printable(str(where))}{page}{bates}: {row['kind']}: "
                f"{printable(row['text'])!r} ({printable(row['how'])})"
            )
