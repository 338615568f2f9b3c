"""Research at scale: every hit of a query exported, a list of terms searched at once, and
watches (saved searches that report what each new release adds)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

import click

from foiarchive import index
from foiarchive.disclosure import tabular
from foiarchive.index import batch, export, watches
from foiarchive.index.search import prepare
from foiarchive.search_cli.options import (
    _archive,
    _backend_option,
    _format_option,
    _friendly_errors,
)
from foiarchive.search_cli.output import emit_json, printable
from foiarchive.search_cli.team import AS_OPTION, seen_as

_FILTER = click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="FACET:VALUE",
    help="Narrow to a facet value (agency:ICE, production:ice-2017-r1); repeatable.",
)


class OutputFileError(index.CatalogError):
    """The output cannot be written where the user asked."""


@contextlib.contextmanager
def _binary_output(output: Path | None) -> Iterator[IO[bytes]]:
    if output is None:
        yield sys.stdout.buffer
        return
    try:
        with output.open("wb") as stream:
            yield stream
    except OSError as exc:
        raise OutputFileError(f"{output}: cannot write: {exc.strerror}") from None


def _write(
    output_format: str,
    columns: tuple[str, ...],
    rows: Iterable[dict[str, Any]],
    output: Path | None,
) -> int:
    with _binary_output(output) as stream:
        if output_format == "xlsx" and output is None and sys.stdout.isatty():
            raise click.UsageError("--format xlsx writes a file: give --output F.xlsx")
        count = tabular.write_rows(stream, output_format, columns, rows)  # type: ignore[arg-type]
        stream.flush()
        return count


# -- export-hits ------------------------------------------------------------------------------
@click.command(
    "export-hits",
    epilog="""\b
Examples:
  foiarchive export-hits 'detainer' --output detainer.csv
  foiarchive export-hits '"secure communities"' --format xlsx --output sc.xlsx --by-document
  foiarchive export-hits 'exemption:b7e' --format jsonl --base-url https://foia.example.org

\b
Unlike search, there is no --limit: every matching page (or document) is written, streamed
from the index in document and page order.""",
)
@click.argument("query")
@click.option(
    "--format", "output_format", type=click.Choice(["csv", "jsonl", "xlsx"]), default="csv"
)
@click.option("--by-document", is_flag=True, help="One row per document with its matching pages.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@click.option("--base-url", default="", metavar="URL", help="Add a link column to this web viewer.")
@click.option(
    "--with-files",
    type=click.Path(path_type=Path),
    metavar="DIR|ZIP",
    help="Also copy the original file of every hit (each once) there, with a manifest.csv.",
)
@_FILTER
@_backend_option("auto", "Search engine; auto is Elasticsearch when one is configured.")
@AS_OPTION
@click.pass_context
@_friendly_errors
def export_hits_command(
    ctx: click.Context,
    query: str,
    output_format: str,
    by_document: bool,
    output: Path | None,
    base_url: str,
    with_files: Path | None,
    filters: tuple[str, ...],
    backend: str,
    as_account: str,
) -> None:
    """Write every page (or document) matching QUERY as CSV, JSON Lines or XLSX, with the
    tags, notes and stars the team keeps on each row's document."""
    archive = _archive(ctx)
    request = index.SearchRequest(
        query, filters=tuple(index.parse_filter(item) for item in filters)
    )
    with (
        archive.catalog() as catalog,
        archive.backend(backend) as engine,
        seen_as(archive, catalog, request, as_account) as (request, viewer, kept),
    ):
        prepare(catalog, engine, request)  # a bad query fails here, before a file is written
        columns, rows = export.export_rows(
            catalog,
            engine,
            request,
            by_document=by_document,
            base_url=base_url,
            marks=partial(kept.summary, viewer) if kept else lambda documents: {},
        )
        documents: dict[str, None] = {}  # the hits' documents, in order, each once
        _write(output_format, columns, _noting(rows, documents), output)
        if with_files is not None:
            from foiarchive.ingest.hit_files import write_hit_files

            count = write_hit_files(archive, catalog, documents, with_files)
            click.echo(f"{count} original files in {with_files} (see its manifest.csv)", err=True)


def _noting(rows: Iterable[dict[str, Any]], documents: dict[str, None]) -> Iterator[dict[str, Any]]:
    for row in rows:
        documents[row["document"]] = None
        yield row


# -- batch-search -----------------------------------------------------------------------------
@click.command(
    "batch-search",
    epilog="""\b
TERMS is a .txt file (one query a line) or a .csv file (queries in the first column); each
line is a query in the normal language: names, phrases, "John Smith"~2, agency:ICE ... A line
that is not a query gives one row with its error; the rest of the batch goes on.

\b
Examples:
  foiarchive batch-search names.txt --format xlsx --output names.xlsx
  foiarchive batch-search people.csv --field from --format json""",
)
@click.argument("terms", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--field",
    "field_name",
    type=click.Choice(batch.TERM_FIELDS),
    help="Search each line in this field only (title, from, ...).",
)
@_format_option(["csv", "xlsx", "json"], "csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@_backend_option("auto", "Search engine; auto is Elasticsearch when one is configured.")
@click.pass_context
@_friendly_errors
def batch_search_command(
    ctx: click.Context,
    terms: Path,
    field_name: str | None,
    output_format: str,
    output: Path | None,
    backend: str,
) -> None:
    """Search every query of a term list; counts of pages and documents per production."""
    archive = _archive(ctx)
    queries = batch.read_term_file(terms, field_name or "")
    with archive.catalog() as catalog, archive.backend(backend) as engine:
        results = batch.batch_search(catalog, engine, queries)
        if output_format == "json":
            data = [r.to_dict() for r in results]
            with _binary_output(output) as stream:
                stream.write(json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n")
            return
        _write(output_format, batch.BATCH_COLUMNS, batch.batch_rows(results), output)


# -- watch ------------------------------------------------------------------------------------
@click.group(
    "watch",
    epilog="""\b
Examples:
  foiarchive watch add 'detainer policy' '"detainer policy" OR detainer*'
  foiarchive watch add sc '"secure communities"' --filter agency:ICE
  foiarchive watch run                       # what is new since the last run
  foiarchive watch run sc --since 2026-01-01 --format json
  foiarchive watch list
  foiarchive watch remove sc

\b
Every ingest and import runs the watches and prints what they found new; with
--notify-command CMD it also hands that JSON to CMD, and [watches] webhook = "https://..."
in ARCHIVE/config.toml posts it there. Watches live in ARCHIVE/workspace.sqlite and
survive 'foiarchive rebuild'.""",
)
def watch_group() -> None:
    """Saved searches that report the pages each new release adds."""


@watch_group.command("add")
@click.argument("name")
@click.argument("query")
@_FILTER
@_backend_option("auto", "Search engine; auto is Elasticsearch when one is configured.")
@click.pass_context
@_friendly_errors
def watch_add(
    ctx: click.Context, name: str, query: str, filters: tuple[str, ...], backend: str
) -> None:
    """Save QUERY as watch NAME; what it matches now counts as seen."""
    archive = _archive(ctx)
    with (
        archive.catalog() as catalog,
        archive.backend(backend) as engine,
        archive.workspace() as workspace,
    ):
        watches.add_watch(workspace, catalog, engine, name, query, filters)
    click.echo(f"watching {name!r}: {query}")


@watch_group.command("list")
@_format_option(["text", "json"], "text")
@click.pass_context
@_friendly_errors
def watch_list(ctx: click.Context, output_format: str) -> None:
    """The saved watches."""
    with _archive(ctx).workspace() as workspace:
        found = workspace.watches()
    if output_format == "json":
        emit_json([w.to_dict() for w in found])
        return
    if not found:
        click.echo("No watches; add one with 'foiarchive watch add NAME QUERY'.")
    for watch in found:
        narrowed = "".join(f" {f}:{v}" for f, v in watch.filters)
        ran = watch.last_run or "never"
        click.echo(f"{printable(watch.name)}: {printable(watch.query)}{narrowed}  (run: {ran})")


@watch_group.command("remove")
@click.argument("name")
@click.pass_context
@_friendly_errors
def watch_remove(ctx: click.Context, name: str) -> None:
    """Forget watch NAME and what it has seen."""
    with _archive(ctx).workspace() as workspace:
        workspace.remove_watch(name)
    click.echo(f"removed watch {name!r}")


@watch_group.command("run")
@click.argument("name", required=False, default="")
@click.option(
    "--since",
    default="LAST",
    show_default=True,
    metavar="LAST|YYYY-MM-DD",
    help="New since the last run (and remembered), or in documents ingested since a date.",
)
@_format_option(["text", "json", "csv"], "text")
@click.option("--base-url", default="", metavar="URL", help="Add links to this web viewer.")
@_backend_option("auto", "Search engine; auto is Elasticsearch when one is configured.")
@click.pass_context
@_friendly_errors
def watch_run(
    ctx: click.Context, name: str, since: str, output_format: str, base_url: str, backend: str
) -> None:
    """Report the pages new to each watch (or to watch NAME), by production and document."""
    archive = _archive(ctx)
    with (
        archive.catalog() as catalog,
        archive.backend(backend) as engine,
        archive.workspace() as workspace,
    ):
        runs = watches.run_watches(
            workspace,
            catalog,
            engine,
            name,
            since="" if since.upper() == "LAST" else since,
            base_url=base_url,
        )
    if output_format == "json":
        emit_json([r.to_dict() for r in runs])
    elif output_format == "csv":
        rows = ({"watch": r.watch.name, **row.to_dict()} for r in runs for row in r.new)
        with _binary_output(None) as stream:
            for chunk in tabular.text_chunks("csv", ("watch", *export.PAGE_COLUMNS), rows):
                stream.write(chunk)
    else:
        _print_runs(runs)


def _print_runs(runs: list[watches.WatchRun]) -> None:
    if not runs:
        click.echo("No watches; add one with 'foiarchive watch add NAME QUERY'.")
    for run in runs:
        if not run.new:
            click.echo(f"watch {run.watch.name!r}: nothing new")
            continue
        for line, documents in zip(run.summary(), run.by_production().values(), strict=True):
            click.echo(printable(line))
            for rows in documents.values():
                pages = ", ".join(f"p. {r.page}" + (f" {r.bates}" if r.bates else "") for r in rows)
                click.echo(f"  {printable(rows[0].path)}: {pages}")


def register(cli: click.Group) -> None:
    for command in (export_hits_command, batch_search_command, watch_group):
        cli.add_command(command)
