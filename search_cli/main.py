"""The `foiarchive` command line."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from foiarchive import index
from foiarchive.archive import Archive
from foiarchive.schemas import Production, load_manifest, validate_production
from foiarchive.schemas.errors import EXIT_ERROR, FoiarchiveError
from foiarchive.search_cli import research, team
from foiarchive.search_cli.options import (
    _archive,
    _backend_option,
    _format_option,
    _friendly_errors,
)
from foiarchive.search_cli.output import emit_csv, emit_json, printable, table, terminal_snippet

if TYPE_CHECKING:
    from foiarchive import ingest

EXIT_FILES_FAILED = 3
EXIT_INDEX_BEHIND = 4
EXIT_INTERRUPTED = 130


class OutputError(FoiarchiveError):
    """The report cannot be written where the user asked."""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  foiarchive sample ./release-1
  foiarchive --archive A ingest ./release-1 --manifest ./release-1/production.json
  foiarchive --archive A search '"secure communities" AND deport*'
  foiarchive --archive A show ice-2017-r1.1a3fe391e1 --page 2

\b
Exit codes: 0 success; 1 error (bad query, missing archive, ...); 2 bad arguments;
3 ingest finished but some files failed; 4 ingest finished but a search backend could not
be updated (the catalog has everything; reindex catches up); 130 interrupted.""",
)
@click.option(
    "--archive",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FOIARCHIVE_ARCHIVE",
    default=Path("foiarchive-archive"),
    show_default=True,
    help="The archive folder (or set FOIARCHIVE_ARCHIVE).",
)
@click.option(
    "--es-url",
    envvar="FOIARCHIVE_ES_URL",
    metavar="URL",
    help="Also index into, and search, this Elasticsearch cluster (or set FOIARCHIVE_ES_URL, "
    "or [elasticsearch] url in ARCHIVE/config.toml).",
)
@click.version_option(package_name="foiarchive")
@click.pass_context
def cli(ctx: click.Context, archive: Path, es_url: str | None) -> None:
    """foiarchive: ingest, preserve and search FOIA productions.

    Every original is kept, every page is read (OCR where there is no good text layer), and
    the full text of all productions is searchable down to the page and Bates number.
    """
    ctx.obj = Archive(archive, es_url=es_url)


_notify_option = click.option(
    "--notify-command",
    default="",
    metavar="CMD",
    help="After the watches run, call CMD (split as a shell would, run without one) with their "
    "new hits as JSON on stdin; see 'foiarchive watch'.",
)


def _jobs_option(help_text: str) -> Callable[[Any], Any]:
    return click.option(
        "--jobs",
        type=click.IntRange(1, 256),
        default=os.cpu_count() or 1,
        show_default=True,
        help=help_text,
    )


# -- ingest ---------------------------------------------------------------------------------
@cli.command(
    "ingest",
    epilog="""\b
Examples:
  foiarchive ingest ./release-1 --id ice-2017-r1 --agency ICE \\
      --request-number 2017-ICFO-12345 --released 2017-06-08 --title "Secure Communities"
  foiarchive ingest ./release-1 --manifest production.json --jobs 2
  foiarchive ingest ./letters --id nist-2023 --ocr never --format json
  foiarchive ingest ./fbi --id fbi-2019 --split ./fbi/inventory.csv   # merged PDF + index
  foiarchive ingest ./release-1 --id ice-2017-r1 --cluster tcp://scheduler:8786

\b
Running the same command again skips files already ingested (same path and sha256) and
finishes any run that was interrupted; --reread reads them again.""",
)
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Production manifest (JSON, see schemas/production.schema.json).",
)
@click.option("--id", "production_id", help="Production id, a slug such as ice-2017-r1.")
@click.option("--title")
@click.option("--agency")
@click.option("--component")
@click.option("--request-number")
@click.option("--released", "release_date", help="Release date, YYYY-MM-DD.")
@click.option("--release-label", help='E.g. "Interim release 3".')
@click.option("--requester")
@click.option("--case-court")
@click.option("--case-docket")
@click.option("--access", type=click.Choice(["public", "restricted"]))
@click.option(
    "--ocr",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="auto: OCR pages without a good text layer.",
)
@click.option(
    "--lang",
    "languages",
    default="eng",
    show_default=True,
    help="Tesseract languages, e.g. eng+spa.",
)
@_jobs_option("Worker processes.")
@_format_option(["text", "json"], "text")
@click.option(
    "--split",
    metavar="auto|INVENTORY.csv",
    default="",
    help="Cut merged PDFs into records: by page signals (auto: Bates restarts, printed email "
    "headers, 'Page 1 of N', page size) or by the agency's inventory of Bates ranges.",
)
@click.option(
    "--reread",
    is_flag=True,
    help="Read unchanged files again too (OCR comes from the cache): after an upgrade, to "
    "bring the production up to this version's reading, such as OCR word boxes for the viewer.",
)
@click.option(
    "--cluster",
    metavar="tcp://HOST:8786",
    help="Read pages on this Dask cluster's workers (see `foiarchive worker`); this machine "
    "stays the only writer. Or FOIARCHIVE_CLUSTER, or [cluster] scheduler in config.toml.",
)
@click.option(
    "--shared-path",
    "shared_paths",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder every worker reads at the same path (a shared mount): its files are sent "
    "as paths, not content. Repeatable.",
)
@_notify_option
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.pass_context
@_friendly_errors
def ingest_command(
    ctx: click.Context,
    source: Path,
    manifest: Path | None,
    output_format: str,
    quiet: bool,
    ocr: str,
    languages: str,
    jobs: int,
    split: str,
    reread: bool,
    cluster: str | None,
    shared_paths: tuple[Path, ...],
    notify_command: str,
    **fields: str | None,
) -> None:
    """Ingest every file under SOURCE as one production.

    Born-digital PDFs, scanned PDFs, TIFF/PNG/JPEG images, text, CSV and XLSX are identified
    by content, read (OCR where needed) and cataloged page by page, then indexed. Files that
    cannot be read are reported, copied to quarantine/ with the reason, and the run goes on.
    """
    from foiarchive import ingest  # numpy, Tesseract's wrapper: only for the commands that ingest

    production = _production_from(manifest, fields)
    archive = _archive(ctx)
    options = ingest.IngestOptions(
        ocr=ocr,  # type: ignore[arg-type]
        languages=languages,
        jobs=jobs,
        split=split,
        reread=reread,
        cluster=archive.cluster(cluster, shared_paths),
        notify_command=notify_command,
    )
    exclude = {manifest} if manifest else set()
    from foiarchive.search_cli.progress import make_progress  # rich: only for ingest runs

    progress = make_progress(quiet or output_format == "json")
    try:
        with progress:
            report = ingest.ingest_production(
                archive, source, production, options, progress=progress, exclude=exclude
            )
    except ingest.Interrupted as stop:
        click.echo(
            f"\ninterrupted: {stop.report.ingested} documents were saved; "
            "run the same command again to finish",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    if output_format == "json":
        emit_json(report.to_dict())
    else:
        _print_ingest_summary(report)
    _exit_for(report)


def _exit_for(report: ingest.IngestReport) -> None:
    if report.failures:
        sys.exit(EXIT_FILES_FAILED)
    if report.index_warning:
        sys.exit(EXIT_INDEX_BEHIND)


def _production_from(manifest: Path | None, fields: dict[str, str | None]) -> Production:
    given = {k: v for k, v in fields.items() if v is not None}
    given["id"] = given.pop("production_id", "") or ""
    if manifest is not None:
        production = load_manifest(manifest)
        data = production.to_dict()
        data.update({k: v for k, v in given.items() if v})
        return validate_production(
            {k: v for k, v in data.items() if v not in ("", [], None) and k != "ingested_at"},
            source=str(manifest),
        )
    if not given["id"]:
        raise click.UsageError("give the production an --id (or a --manifest)")
    return validate_production({k: v for k, v in given.items() if v}, source="options")


def _print_ingest_summary(report: ingest.IngestReport) -> None:
    click.echo(
        f"{report.production}: ingested {report.ingested} documents, {report.pages} pages "
        f"({report.pages_ocr} OCR'd, {report.pages_ocr_cached} from the OCR cache) "
        f"in {report.seconds:.1f} s; {report.skipped} unchanged; {len(report.failures)} failed."
        + (f" Bag: {report.bag_files} originals." if report.bag_files else "")
    )
    for cut in report.splits:
        segments = cut["segments"]
        click.echo(f"{printable(cut['path'])}: split into {len(segments)} records:")
        for segment in segments:
            click.echo(f"  pages {segment['first']}-{segment['last']}: {segment['reason']}")
    for warning in report.warnings:
        click.echo(f"warning: {printable(warning.path)}: {warning.reason}", err=True)
    if report.failures:
        click.echo(
            "Failed files (copies and reasons in the archive's quarantine/ folder):", err=True
        )
        for failure in report.failures:
            click.echo(f"  {printable(failure.path)}: {failure.reason}", err=True)
    if report.index_warning:
        click.echo(f"warning: search index: {report.index_warning}", err=True)
    if report.bag_warning:
        click.echo(f"warning: preservation: {report.bag_warning}", err=True)
    for line in report.watches:
        click.echo(printable(line))
    if report.watch_warning:
        click.echo(f"warning: watches: {report.watch_warning}", err=True)


# -- search ---------------------------------------------------------------------------------
@cli.command(
    "search",
    epilog="""\b
Query language (Lucene-like; words match exactly, lowercased, no stemming):
  deportation "secure communities"   both (AND is the default)
  detainer OR warrant, NOT juvenile, -juvenile, ( ... )
  deport*                            words starting with deport
  "secure communities"~5             the words within 5 positions
  agency:ICE production:ice-2017-r1 type:pdf source:ocr title:memo
  released:[2017-01-01 TO 2017-06-30]   released:>=2017   released:2017-06

\b
Examples:
  foiarchive search 'deportation AND "secure communities"'
  foiarchive search 'detainer* agency:ICE' --facets --limit 5
  foiarchive search 'exemption:b7e' --by-document
  foiarchive search '' --filter agency:ICE --filter year:2017 --facets
  foiarchive search 'released:2017 warrant' --format csv > hits.csv
  foiarchive --es-url http://localhost:9200 search 'detainer' --backend elasticsearch""",
)
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, index.MAX_LIMIT), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.option(
    "--sort",
    type=click.Choice(["relevance", "released", "-released"]),
    default="relevance",
    show_default=True,
)
@click.option(
    "--facets",
    is_flag=True,
    help="Also count hits by agency, production, exemption, year and media type.",
)
@click.option(
    "--by-document",
    is_flag=True,
    help="One result per document: its best pages first, with the count of matching pages.",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="FACET:VALUE",
    help="Narrow to a facet value as --facets reports it (agency:ICE, year:2017); repeatable. "
    "With filters the query may be empty ('').",
)
@_backend_option("auto", "Search engine; auto is Elasticsearch when one is configured.")
@_format_option(["table", "json", "csv"], "table")
@team.AS_OPTION
@click.pass_context
@_friendly_errors
def search_command(
    ctx: click.Context,
    query: str,
    limit: int,
    offset: int,
    sort: str,
    facets: bool,
    by_document: bool,
    filters: tuple[str, ...],
    backend: str,
    output_format: str,
    as_account: str,
) -> None:
    """Search the full text of every production; hits are pages. tag:, note:, starred: and
    read: search the team's workspace."""
    archive = _archive(ctx)
    request = index.SearchRequest(
        query=query,
        limit=limit,
        offset=offset,
        sort=sort,  # type: ignore[arg-type]
        facets=tuple(index.FACET_FIELDS) if facets else (),
        by_document=by_document,
        filters=tuple(index.parse_filter(item) for item in filters),
    )
    with (
        archive.catalog() as catalog,
        archive.backend(backend) as engine,
        team.seen_as(archive, catalog, request, as_account) as (request, _, _),
    ):
        results = index.search(catalog, engine, request)
        behind = index.pending(catalog, engine)
    if behind:
        click.echo(
            f"warning: the {engine.name} index is behind the catalog ({behind} changes); "
            f"run 'foiarchive reindex --backend {engine.name}'",
            err=True,
        )
    if output_format == "json":
        emit_json(results.to_dict())
    elif output_format == "csv":
        columns = ["production", "document", "path", "page", "row", "bates", "score", "snippet"]
        if results.documents is None:
            emit_csv(columns, (h.to_dict() for h in results.hits))
        else:
            emit_csv(
                [*columns, "matching_pages"],
                (
                    {**d.pages[0].to_dict(), "matching_pages": d.matching_pages}
                    for d in results.documents
                ),
            )
    elif results.documents is not None:
        _print_documents(results)
    else:
        _print_hits(results)


def _print_hits(results: index.SearchResults) -> None:
    if not results.total:
        click.echo(f"No pages match {results.query!r}.")
        return
    for rank, hit in enumerate(results.hits, start=results.offset + 1):
        where = f"p. {hit.page}" + (f" row {hit.row}" if hit.row else "")
        where += f"  {hit.bates}" if hit.bates else ""
        click.echo(
            click.style(f"{rank}. ", bold=True)
            + f"{hit.production}  {click.style(printable(hit.path), fg='cyan')}  {where}"
            + click.style(f"  [{hit.document}]", dim=True)
        )
        click.echo(f"   {terminal_snippet(hit.snippet)}")
    shown_to = results.offset + len(results.hits)
    more = f"; next page: --offset {shown_to}" if shown_to < results.total else ""
    click.echo(f"\n{results.offset + 1}-{shown_to} of {results.total} pages{more}")
    _print_facets(results)


def _print_documents(results: index.SearchResults) -> None:
    documents = results.documents or []
    if not documents:
        click.echo(f"No documents match {results.query!r}.")
        return
    for rank, group in enumerate(documents, start=results.offset + 1):
        pages = "page" if group.matching_pages == 1 else "pages"
        click.echo(
            click.style(f"{rank}. ", bold=True)
            + f"{group.production}  {click.style(printable(group.path), fg='cyan')}  "
            + f"{group.matching_pages} matching {pages}"
            + click.style(f"  [{group.document}]", dim=True)
        )
        for hit in group.pages:
            where = f"p. {hit.page}" + (f" row {hit.row}" if hit.row else "")
            where += f" {hit.bates}" if hit.bates else ""
            click.echo(f"   {where}: {terminal_snippet(hit.snippet)}")
    shown_to = results.offset + len(documents)
    more = f"; next page: --offset {shown_to}" if shown_to < results.total_documents else ""
    click.echo(
        f"\n{results.offset + 1}-{shown_to} of {results.total_documents} documents "
        f"({results.total} pages){more}"
    )
    _print_facets(results)


def _print_facets(results: index.SearchResults) -> None:
    for name, buckets in results.facets.items():
        if buckets:
            counts = ", ".join(f"{b['value']} ({b['count']})" for b in buckets)
            click.echo(f"{name}: {counts}")


# -- productions and documents --------------------------------------------------------------
@cli.command(
    "productions",
    epilog="\b\nExamples:\n  foiarchive productions\n  foiarchive productions --format json",
)
@_format_option(["table", "json", "csv"], "table")
@click.pass_context
@_friendly_errors
def productions_command(ctx: click.Context, output_format: str) -> None:
    """List the productions in the archive with their document and page counts."""
    with _archive(ctx).catalog() as catalog:
        summaries = catalog.productions()
    rows = [
        {**s.production.to_dict(), "documents": s.documents, "pages": s.pages, "failed": s.failed}
        for s in summaries
    ]
    if output_format == "json":
        emit_json(rows)
    elif output_format == "csv":
        emit_csv(
            [
                "id",
                "agency",
                "title",
                "request_number",
                "release_date",
                "documents",
                "pages",
                "failed",
            ],
            rows,
        )
    elif not rows:
        click.echo("No productions yet. Ingest one: foiarchive ingest SOURCE --id ID")
    else:
        click.echo(
            table(
                [
                    [
                        r["id"],
                        r["agency"],
                        r["release_date"],
                        r["request_number"],
                        str(r["documents"]),
                        str(r["pages"]),
                        str(r["failed"]),
                        printable(r["title"])[:50],
                    ]
                    for r in rows
                ],
                ["id", "agency", "released", "request", "docs", "pages", "failed", "title"],
            )
        )


@cli.command(
    "show",
    epilog="""\b
Examples:
  foiarchive show ice-2017-r1.1a3fe391e1            metadata and a page list
  foiarchive show ice-2017-r1.1a3fe391e1 --page 2   the text of page 2
  foiarchive show 'ice-2017-r1/scans/memo.pdf' --format json""",
)
@click.argument("document")
@click.option("--page", type=click.IntRange(1), help="Print this page's text.")
@_format_option(["text", "json"], "text")
@click.pass_context
@_friendly_errors
def show_command(ctx: click.Context, document: str, page: int | None, output_format: str) -> None:
    """Show a document's metadata and pages (DOCUMENT: its id, an id prefix, or PRODUCTION/PATH)."""
    with _archive(ctx).catalog() as catalog:
        matches = catalog.find_documents(document)
        if not matches:
            raise index.CatalogError(f"no document {document!r} (see ids in search results)")
        if len(matches) > 1:
            names = ", ".join(m.id for m in matches[:5])
            raise index.CatalogError(f"{document!r} names {len(matches)} documents: {names} ...")
        doc = matches[0]
        pages = catalog.pages(doc.id)
    if page is not None and page > len(pages):
        raise index.CatalogError(f"{doc.id} has {len(pages)} pages; there is no page {page}")
    selected = [pages[page - 1]] if page else pages
    if output_format == "json":
        emit_json({"document": doc.to_dict(), "pages": [p.to_dict() for p in selected]})
        return
    for name, value in doc.to_dict().items():
        if isinstance(value, dict):  # email headers, load-file fields: one line each
            for key, item in value.items():
                click.echo(f"{name + '.' + key:>15}: {printable(str(item))}")
        elif value not in ("", None, [], 0) or name == "page_count":
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            click.echo(f"{name:>15}: {printable(shown)}")
    if page:
        p = selected[0]
        conf = f", OCR confidence {p.ocr_confidence:.0f}" if p.ocr_confidence is not None else ""
        click.echo(click.style(f"\n--- page {p.number} ({p.text_source}{conf}) ---", bold=True))
        click.echo(p.text)
    else:
        click.echo(
            "\npages: "
            + ", ".join(f"{p.number} ({p.text_source}, {len(p.text)} chars)" for p in pages[:50])
            + (" ..." if len(pages) > 50 else "")
        )


@cli.command(
    "reindex",
    epilog="""\b
Examples:
  foiarchive reindex
  foiarchive reindex --full
  foiarchive --es-url http://localhost:9200 reindex --backend elasticsearch --full

\b
On Elasticsearch a full rebuild fills a new index and then moves the alias to it in one step:
searches keep answering from the old index meanwhile.""",
)
@click.option("--full", is_flag=True, help="Rebuild the index from scratch from the catalog.")
@_backend_option("all", "Which index; all means Tantivy, and Elasticsearch when configured.")
@click.pass_context
@_friendly_errors
def reindex_command(ctx: click.Context, full: bool, backend: str) -> None:
    """Bring the search indexes up to date with the catalog (or rebuild them with --full)."""
    archive = _archive(ctx)
    names = None if backend == "all" else [backend]
    with archive.catalog() as catalog:
        indexer = archive.indexer(catalog, names)
        try:
            reports = indexer.sync(full=full)
        finally:
            indexer.close()
    for name, report in reports.items():
        action = "rebuilt" if report.rebuilt else "updated"
        click.echo(f"{name} index {action}: {report.documents} documents, {report.pages} pages")
    if indexer.failures:
        raise index.BackendError(indexer.warning())


@cli.command(
    "serve",
    epilog="""\b
Examples:
  foiarchive --archive A serve                      http://127.0.0.1:8000/
  foiarchive --archive A serve --port 8080 --workers 2
  foiarchive --archive A serve --credential-file ~/.foiarchive-credential
  curl 'http://127.0.0.1:8000/api/search?q=detainer&facet=agency&by_document=true'

\b
The JSON API is described at /api/openapi.json. With accounts in the workspace ('foiarchive
users add'), people sign in and see the restricted productions granted to their groups
('foiarchive access grant'); nothing is readable before signing in unless --public. Without
accounts, restricted productions stay invisible unless a credential is configured and the
request carries it (the sign-in page, or a header 'Authorization: Bearer CREDENTIAL').""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=min(4, os.cpu_count() or 1),
    show_default="the cores, at most 4",
    help="Server processes. New page images render in helper processes at a lower CPU "
    "priority (the cores shared among the servers), so searches stay quick meanwhile.",
)
@_backend_option("auto", "Search engine; auto is Elasticsearch when one is configured.")
@click.option(
    "--credential-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Show restricted productions to requests carrying this file's first line (or set "
    "FOIARCHIVE_WEB_CREDENTIAL); at least 16 characters.",
)
@click.option(
    "--image-cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where rendered page images are kept [default: ARCHIVE/cache/pages].",
)
@click.option(
    "--public",
    is_flag=True,
    help="With accounts: let people who are not signed in read the public productions.",
)
@click.option(
    "--session-hours",
    type=click.FloatRange(0.01, 24 * 30),
    default=12.0,
    show_default=True,
    help="With accounts: how long a sign-in lasts at most.",
)
@click.option(
    "--idle-minutes",
    type=click.FloatRange(0.1, 24 * 60),
    default=120.0,
    show_default=True,
    help="With accounts: a sign-in ends after this long without a request.",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Addresses of a TLS proxy whose X-Forwarded-Proto and X-Forwarded-For are believed "
    "(sign-in cookies are then Secure, throttling counts the client's address); comma-separated.",
)
@click.pass_context
@_friendly_errors
def serve_command(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    backend: str,
    credential_file: Path | None,
    image_cache: Path | None,
    public: bool,
    session_hours: float,
    idle_minutes: float,
    forwarded_allow_ips: str,
) -> None:
    """Serve the archive read-only in a browser: search, page viewer, reports, JSON API."""
    from foiarchive import web

    archive = _archive(ctx)
    policy = web.AccessPolicy.load(credential_file)
    cache = image_cache or archive.layout.page_cache_dir
    _check_writable(cache)
    _check_listenable(host, port)
    archive.catalog().close()  # brings an older catalog to this version's schema
    served = web.Served(archive, backend=backend, image_cache=cache)
    try:
        served.backend()
    except index.BackendError as exc:
        click.echo(f"warning: {exc}; searches answer 503 until it is back", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}: anyone who can reach it can read the public "
            "productions",
            err=True,
        )
    settings = web.Serving(
        archive.path,
        backend=backend,
        es_url=archive.es_url,
        image_cache=cache,
        # new page images render in low-priority processes: the cores, shared by the servers
        render_processes=max(1, (os.cpu_count() or 1) // workers),
        credential=policy.credential,
        public=public,
        session_seconds=session_hours * 3600,
        idle_seconds=idle_minutes * 60,
    )
    if served.accounts and policy.credential:
        click.echo("warning: the workspace has accounts: the credential is not used", err=True)
    click.echo(f"foiarchive: serving {archive.path} at http://{host}:{port}/ (Ctrl-C to stop)")
    web.serve(settings, host, port, workers, forwarded_allow_ips)


def _check_listenable(host: str, port: int) -> None:
    """A taken port is a one-line error with exit code 1 (uvicorn's own exits with 3, which here
    means 'some files failed')."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise OutputError(
            f"{host}:{port}: cannot listen there ({exc.strerror or exc}); pass --host or --port"
        ) from None


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot keep page images there ({exc.strerror}); pass --image-cache"
        ) from None


@cli.command(
    "sample",
    epilog="\b\nExample:\n  foiarchive sample ./sample-production\n"
    "  foiarchive ingest ./sample-production --manifest "
    "./sample-production/production.json",
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def sample_command(folder: Path) -> None:
    """Write a realistic sample production (scans with redactions and Bates stamps, a letter,
    a form, a spreadsheet) and its manifest into FOLDER."""
    from foiarchive.ingest.sample import (
        build_sample_production,  # Pillow drawing: only this command
    )

    manifest = build_sample_production(folder)
    click.echo(f"sample production written to {folder}; manifest: {manifest}")


@cli.command(
    "diff",
    epilog="""\b
Examples:
  foiarchive diff ice-2016-r1 ice-2017-r1
  foiarchive diff ice-2016-r1 ice-2017-r1 --format html --output changes.html
  foiarchive diff ice-2016-r1 ice-2017-r1 --format csv > changes.csv

\b
Documents are matched across the releases by content (identical files, the same text
re-processed, tables with the same header), whatever their names, Bates numbers or page
order. Reported: pages added and removed, redaction boxes and area, exemption codes gained
and dropped, passages newly released and newly withheld, and for tables the columns dropped,
added, blanked or withheld. Scanned pages are compared by their images: only regions whose
pixels changed count (boxes added or lifted, text uncovered or covered, stamps changed), read
again from crops, so two OCR reads of the same scan are not a change.""",
)
@click.argument("old")
@click.argument("new")
@_format_option(["text", "json", "csv", "html"], "text")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout."
)
@click.option(
    "--images/--no-images",
    default=True,
    show_default=True,
    help="Compare matched scanned pages by their images and read the changed regions again "
    "(--no-images: from the catalog's text alone, faster, with OCR noise).",
)
@click.pass_context
@_friendly_errors
def diff_command(
    ctx: click.Context,
    old: str,
    new: str,
    output_format: str,
    output: Path | None,
    images: bool,
) -> None:
    """Compare two releases: what did the agency stop (or start) disclosing?"""
    from foiarchive.disclosure.diff import diff_productions
    from foiarchive.disclosure.html import diff_html
    from foiarchive.ingest.crops import page_comparison
    from foiarchive.search_cli import diff_output

    archive = _archive(ctx)
    with archive.catalog() as catalog:
        pixels = page_comparison(archive.layout, catalog) if images else None
        diff = diff_productions(catalog, old, new, pixels)
    with _destination(output) as stream:
        if output_format == "json":
            emit_json(diff.to_dict(), stream=stream)
        elif output_format == "csv":
            emit_csv(diff_output.CSV_COLUMNS, diff_output.csv_rows(diff), stream=stream)
        elif output_format == "html":
            stream.write(diff_html(diff) + "\n")
        else:
            stream.writelines(line + "\n" for line in diff_output.text_report(diff))
    if output is not None:
        click.echo(f"wrote {output}", err=True)


@contextlib.contextmanager
def _destination(output: Path | None) -> Iterator[TextIO]:
    """stdout, or a file written whole or not at all."""
    if output is None:
        yield sys.stdout
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputError(f"{output}: cannot write: {exc.strerror or exc}") from None


@cli.command(
    "report",
    epilog="""\b
Examples:
  foiarchive report ice-2017-r1
  foiarchive report ice-2017-r1 --format json > disclosure.json""",
)
@click.argument("production")
@_format_option(["text", "json"], "text")
@click.pass_context
@_friendly_errors
def report_command(ctx: click.Context, production: str, output_format: str) -> None:
    """The disclosure profile of a production: redactions, withheld pages, exemptions cited,
    Bates ranges and gaps, OCR confidence."""
    from foiarchive.disclosure.report import disclosure_report

    with _archive(ctx).catalog() as catalog:
        if catalog.production(production) is None:
            raise index.CatalogError(f"no production {production!r} in this archive")
        report = disclosure_report(catalog, production)
    if output_format == "json":
        emit_json(report.to_dict())
        return
    share = report.pages_with_redactions / report.pages if report.pages else 0
    lines = [
        f"{production}: {report.documents} documents, {report.pages} pages "
        f"({report.pages_ocr} OCR'd); {report.failed_documents} files could not be read",
        f"redactions: {report.redaction_boxes} boxes on {report.pages_with_redactions} pages "
        f"({share:.0%} of pages), covering {report.redacted_area_pages:.2f} pages' worth "
        "of area"
        + (
            f"; {report.uncertain_boxes} more found in page images are uncertain (no code "
            "beside them or on their page)"
            if report.uncertain_boxes
            else ""
        ),
        f"withheld in full: {report.pages_withheld_in_full} placeholder pages; "
        f"{report.pages_listed_withheld} pages listed on deleted page sheets"
        + (f" ({_counts(report.withheld_reasons)})" if report.withheld_reasons else ""),
        "exemptions cited (pages): " + (_counts(report.exemptions_by_code) or "none"),
        *(
            ["exemptions cited (table cells): " + _counts(report.exemption_cells_by_code)]
            if report.exemption_cells_by_code
            else []
        ),
    ]
    if report.other_citations:
        lines.append("other citations (pages): " + _counts(report.other_citations))
    for path, codes in report.exemptions_by_document.items():
        lines.append(f"  {printable(path)}: {_counts(codes)}")
    for bates in report.bates_ranges:
        lines.append(f"Bates {bates.first} .. {bates.last}  {printable(bates.path)}")
    for gap in report.bates_gaps:
        lines.append(
            f"Bates gap: {gap['prefix']} {gap['from']}..{gap['to']} "
            f"({gap['missing']} numbers missing)"
        )
    for leak in report.pages_with_leaks:
        lines.append(
            f"LEAK: {printable(leak['path'])} p. {leak['page']}: "
            f"{leak['characters_under_boxes']} characters of text under redaction boxes"
        )
    if report.leaks:
        lines.append("leaks (findings): " + _counts(report.leaks_by_kind))
    for row in report.leaks:
        stamp = f" [{row['bates']}]" if row["bates"] else ""
        lines.append(
            f"  {printable(row['path'])} p. {row['page']}{stamp}: {row['kind']}: "
            f"{printable(row['text'])[:120]!r}"
        )
    if report.ocr_confidence:
        lines.append("OCR confidence (pages): " + _counts(report.ocr_confidence))
    click.echo("\n".join(lines))


@cli.command(
    "leaks",
    epilog="""\b
Examples:
  foiarchive leaks                      every finding in the archive
  foiarchive leaks ice-2017-r1 --format csv > leaks.csv""",
)
@click.argument("production", required=False)
@_format_option(["text", "json", "csv"], "text")
@click.pass_context
@_friendly_errors
def leaks_command(ctx: click.Context, production: str | None, output_format: str) -> None:
    """What the releases still carry that their redactors meant to remove: text under boxes,
    images and annotations, invisible text, earlier revisions, attachments, hidden sheets, ...
    with the production, document, page and Bates number of each."""
    from foiarchive.disclosure.leaks import archive_leaks
    from foiarchive.search_cli import leaks_output

    with _archive(ctx).catalog() as catalog:
        if production is not None and catalog.production(production) is None:
            raise index.CatalogError(f"no production {production!r} in this archive")
        rows = archive_leaks(catalog, production)
    leaks_output.emit(rows, output_format)


@cli.command(
    "audit",
    epilog="""\b
Examples:
  foiarchive audit release/*.pdf        a redactor's check before release
  foiarchive audit memo.docx --format json

\b
Exit codes: 0 no findings; 1 some findings (or a file could not be read); 2 bad usage.""",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_format_option(["text", "json", "csv"], "text")
def audit_command(files: tuple[Path, ...], output_format: str) -> None:
    """Look for leaks in FILES outside any archive (PDF, Word, PowerPoint, Excel; Office files
    also through their LibreOffice rendition): the same detectors ingest runs."""
    from foiarchive.ingest.leaks.audit import audit
    from foiarchive.search_cli import leaks_output

    rows: list[dict[str, Any]] = []
    failed = False
    for path in files:
        try:
            if not path.is_file():
                raise FoiarchiveError("no such file" if not path.exists() else "not a file")
            found = audit(path)
        except FoiarchiveError as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            failed = True
            continue
        rows += [{"file": str(path), **f.to_dict()} for f in found]
    leaks_output.emit(rows, output_format)
    sys.exit(1 if rows or failed else 0)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items())


# -- preservation ---------------------------------------------------------------------------
@cli.command(
    "verify",
    epilog="""\b
Examples:
  foiarchive verify                       every bag, every checksum
  foiarchive verify ice-2017-r1 --fast    completeness and Payload-Oxum only
  foiarchive verify --older-than 90       only bags not fully verified for 90 days
  foiarchive verify --package exports/ice-2017-r1.zip""",
)
@click.argument("productions", nargs=-1)
@click.option("--fast", is_flag=True, help="Completeness and Payload-Oxum, no checksums.")
@click.option(
    "--older-than",
    type=click.FloatRange(0),
    metavar="DAYS",
    help="Only bags without a full verification in the last DAYS days.",
)
@click.option(
    "--package",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verify an exported tar or zip (its .sha256 and the bag inside) instead.",
)
@_jobs_option("Files hashed in parallel.")
@_format_option(["text", "json"], "text")
@click.pass_context
@_friendly_errors
def verify_command(
    ctx: click.Context,
    productions: tuple[str, ...],
    fast: bool,
    older_than: float | None,
    package: Path | None,
    jobs: int,
    output_format: str,
) -> None:
    """Audit the fixity of bags: every missing, extra or altered file is reported by path.

    Each audit is recorded as a PREMIS fixity-check event. Exits 1 if any bag fails."""
    from foiarchive.ingest import preserve

    if package is not None:
        problems = preserve.verify_package(package, workers=jobs)
        results: list[dict[str, Any]] = [
            {
                "production": package.name,
                "valid": not problems,
                "problems": [str(p) for p in problems],
            }
        ]
    else:
        archive = _archive(ctx)
        with archive.catalog() as catalog:
            audits = preserve.audit(
                archive,
                catalog,
                list(productions),
                fast=fast,
                older_than=older_than,
                workers=jobs,
            )
        results = [a.to_dict() for a in audits]
    if output_format == "json":
        emit_json(results)
    else:
        if not results:
            click.echo("Nothing to verify.")
        for result in results:
            status = (
                click.style("valid", fg="green")
                if result["valid"]
                else click.style("INVALID", fg="red", bold=True)
            )
            size = (
                f" ({result['files']} files, {result['bytes']:,} bytes, {result['checked']})"
                if "files" in result
                else ""
            )
            click.echo(f"{result['production']}: {status}{size}")
            for problem in result["problems"]:
                click.echo(f"  {printable(problem)}")
    if not all(r["valid"] for r in results):
        sys.exit(EXIT_ERROR)


@cli.command(
    "export",
    epilog="""\b
Examples:
  foiarchive export ice-2017-r1 --to exports/ --format zip
  foiarchive export ice-2017-r1 --to /mnt/transfer/ice-2017-r1""",
)
@click.argument("production")
@click.option(
    "--to",
    "destination",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder to write into, or the exact target path.",
)
@click.option(
    "--format",
    "package_format",
    type=click.Choice(["dir", "tar", "zip"]),
    default="dir",
    show_default=True,
)
@click.pass_context
@_friendly_errors
def export_command(
    ctx: click.Context, production: str, destination: Path, package_format: str
) -> None:
    """Export a production's bag (validated before it is reported done)."""
    from foiarchive.ingest import preserve

    archive = _archive(ctx)
    with archive.catalog() as catalog:
        result = preserve.export(archive, catalog, production, destination, package_format)  # type: ignore[arg-type]
    click.echo(f"exported {production} to {result.path} (valid bag)")
    if result.checksum_file:
        click.echo(f"package sha256 {result.sha256} in {result.checksum_file}")


@cli.command(
    "import",
    epilog="""\b
Examples:
  foiarchive import transfer/ice-2017-r1.zip
  foiarchive import received-bag/ --id doj-2019-r2 --agency DOJ""",
)
@click.argument("bag", type=click.Path(exists=True, path_type=Path))
@click.option("--id", "production_id", help="Production id (default: from the bag).")
@click.option("--agency", help="Agency (default: from the bag).")
@click.option("--profile", is_flag=True, help="Also require foiarchive's BagIt profile.")
@_jobs_option("Worker processes.")
@_notify_option
@click.pass_context
@_friendly_errors
def import_command(
    ctx: click.Context,
    bag: Path,
    production_id: str | None,
    agency: str | None,
    profile: bool,
    jobs: int,
    notify_command: str,
) -> None:
    """Validate an outside bag (folder, tar or zip) and ingest its payload as a production."""
    from foiarchive import ingest

    archive = _archive(ctx)
    try:
        report = ingest.import_bag(
            archive,
            bag,
            production_id=production_id,
            agency=agency,
            require_profile=profile,
            jobs=jobs,
            notify_command=notify_command,
        )
    except ingest.InvalidBag as invalid:
        click.echo(f"error: {bag}: not a valid bag; nothing was imported:", err=True)
        for problem in invalid.problems[:50]:
            click.echo(f"  {printable(str(problem))}", err=True)
        sys.exit(EXIT_ERROR)
    _print_ingest_summary(report)
    _exit_for(report)


@cli.command(
    "rebuild",
    epilog="\b\nExamples:\n  foiarchive --archive A rebuild\n"
    "  foiarchive --archive A rebuild --skip-invalid",
)
@click.option("--skip-invalid", is_flag=True, help="Leave out bags that fail their check.")
@click.pass_context
@_friendly_errors
def rebuild_command(ctx: click.Context, skip_invalid: bool) -> None:
    """Recreate the catalog and the search index from the bags alone."""
    from foiarchive.ingest import preserve

    report = preserve.rebuild(_archive(ctx), skip_invalid=skip_invalid)
    click.echo(
        f"catalog rebuilt from {report.productions} bags: {report.documents} documents, "
        f"{report.pages} pages; search index rebuilt"
    )
    if report.index_warning:
        click.echo(f"warning: search index: {report.index_warning}", err=True)
    if report.backup:
        click.echo(f"the previous catalog is kept as {report.backup}")
    for skipped in report.skipped:
        click.echo(f"warning: skipped {skipped}", err=True)


# -- worker ---------------------------------------------------------------------------------
@cli.command(
    "worker",
    context_settings={"ignore_unknown_options": True},
    epilog="""\b
Examples:
  foiarchive worker tcp://scheduler.example.org:8786
  foiarchive worker tcp://scheduler.example.org:8786 --nworkers 16 --lang eng+spa
  foiarchive worker tcp://10.0.0.5:8786 --nworkers 8 --memory-limit 4GB   # dask worker options

\b
Any option this command does not know goes to `dask worker` as it is. Plain `dask worker`
works too (the coordinator sets OCR to one thread on every worker it finds).""",
)
@click.argument("scheduler")
@click.option(
    "--nworkers",
    type=click.IntRange(1, 4096),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Worker processes on this machine, one thread each.",
)
@click.option(
    "--lang",
    "languages",
    default="eng",
    show_default=True,
    help="Tesseract languages the ingests will ask for: checked now.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds to wait for the scheduler to answer (it may still be starting).",
)
@click.argument("dask_options", nargs=-1, type=click.UNPROCESSED)
@_friendly_errors
def worker_command(
    scheduler: str,
    nworkers: int,
    languages: str,
    connect_timeout: float,
    dask_options: tuple[str, ...],
) -> None:
    """Start Dask workers for cluster ingests: one thread each, OCR on one thread, Tesseract
    and its languages checked first; the coordinator checks that the versions match."""
    from foiarchive.ingest.ocr import check_languages, tesseract_version

    tesseract = tesseract_version()  # OcrUnavailable says how to install it
    check_languages(languages)
    try:
        from foiarchive.ingest.cluster import reach_scheduler
    except ImportError:
        raise click.ClickException(
            "Dask distributed is not installed: pip install 'foiarchive[cluster]'"
        ) from None
    reach_scheduler(scheduler, timeout=connect_timeout)
    command = [
        sys.executable, "-m", "distributed.cli.dask_worker", scheduler,
        "--nworkers", str(nworkers), "--nthreads", "1", "--no-dashboard", *dask_options,
    ]  # fmt: skip
    click.echo(
        f"foiarchive worker: {nworkers} workers x 1 thread for {scheduler} "
        f"(Tesseract {tesseract}, {languages})",
        err=True,
    )
    # One Tesseract thread per task: OpenMP threads fighting over the cores made a page 5x slower.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


research.register(cli)
team.register(cli)


def main() -> None:
    cli()
