"""Research at scale in the browser: a term list uploaded and searched at once (the table of
`foiarchive batch-search`), and watches added from a results page, listed and run on demand
(`foiarchive watch`). The work is index.batch's and index.watches', through the Reader."""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from foiarchive.disclosure import tabular
from foiarchive.index import QueryError, batch
from foiarchive.index.workspace import WorkspaceError
from foiarchive.web.context import reader, render
from foiarchive.web.forms import posted_form

#: A term list the web takes, so one request holds a server thread for about a second: 1,000
#: terms took 0.5-0.67 s through POST /batch on the test archive (Tantivy), and more on a big
#: archive. The command line takes batch.MAX_TERMS from a file.
MAX_TERMS = 1_000
MAX_UPLOAD_BYTES = 256 * 1024
#: Room for the other fields and the multipart framing around the list.
MAX_BATCH_FORM = 2 * MAX_UPLOAD_BYTES + 16 * 1024
MAX_WATCH_FORM = 16 * 1024
FORMATS = ("table", "csv", "xlsx")

router = APIRouter(include_in_schema=False)


# -- batch search ---------------------------------------------------------------------------
@router.get("/batch", response_class=HTMLResponse)
def batch_form(request: Request) -> Response:
    reader(request)
    return render(request, "batch.html", **_batch_context())


@router.post("/batch")
async def batch_upload(request: Request) -> Response:
    """Upload (or pasted text) -> the batch table as a page, CSV or XLSX."""
    form = await posted_form(request, max_bytes=MAX_BATCH_FORM, max_files=1)
    try:
        name, data = await _term_list(form)
        field_name = str(form.get("field") or "")
        wanted = str(form.get("format") or "table")
    finally:
        await form.close()
    context = _batch_context(name=name, text=data.decode("utf-8", "replace"), field=field_name)
    try:
        if wanted not in FORMATS:
            raise batch.TermListError(f"format {wanted!r}: choose one of {', '.join(FORMATS)}")
        terms = batch.read_terms(
            name, data, field_name, max_terms=MAX_TERMS, max_bytes=MAX_UPLOAD_BYTES
        )
    except batch.TermListError as exc:
        return render(request, "batch.html", 400, error=str(exc), **context)
    results = await run_in_threadpool(reader(request).batch, terms)
    rows = list(batch.batch_rows(results))
    if wanted == "table":
        return render(request, "batch.html", **{**context, "rows": rows})
    return _download(rows, wanted)


async def _term_list(form: FormData) -> tuple[str, bytes]:
    """The uploaded file, else the text field (pasted, or carried by the table's download
    buttons with the name of the file it came from, which says whether it is CSV)."""
    upload = form.get("terms")
    if isinstance(upload, UploadFile) and upload.filename:
        return _safe_name(upload.filename), await upload.read(MAX_UPLOAD_BYTES + 1)
    text = form.get("text")
    name = form.get("name")
    return (
        _safe_name(name if isinstance(name, str) and name else "pasted terms.txt"),
        (text if isinstance(text, str) else "").encode("utf-8"),
    )


def _safe_name(name: str) -> str:
    """The base name only, for messages and the .csv test; never used as a path."""
    base = PurePath(name.replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable())[:120] or "terms.txt"


def _batch_context(**values: Any) -> dict[str, Any]:
    return {
        "columns": batch.BATCH_COLUMNS,
        "fields": batch.TERM_FIELDS,
        "max_terms": MAX_TERMS,
        "max_kb": MAX_UPLOAD_BYTES // 1024,
        "rows": None,
        "name": "",
        "text": "",
        "field": "",
        **values,
    }


def _download(rows: list[dict[str, Any]], output_format: str) -> Response:
    if output_format == "xlsx":
        buffer = io.BytesIO()
        tabular.write_xlsx(buffer, batch.BATCH_COLUMNS, rows, title="batch search")
        body = buffer.getvalue()
    else:
        body = b"".join(tabular.text_chunks("csv", batch.BATCH_COLUMNS, rows))
    return Response(
        body,
        media_type=tabular.MEDIA_TYPES[output_format],
        headers={
            "Content-Disposition": f'attachment; filename="foiarchive-batch.{output_format}"',
            "Cache-Control": "private",
        },
    )


# -- watches --------------------------------------------------------------------------------
@router.get("/watches", response_class=HTMLResponse)
async def watches_page(
    request: Request, added: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    read = reader(request)
    watches = await run_in_threadpool(read.watches)
    return render(request, "watches.html", watches=watches, added=added)


@router.post("/watches")
async def watch_add(request: Request) -> Response:
    """From a results page's "Watch this search": its query and filters, under a name."""
    form = await posted_form(request, max_bytes=MAX_WATCH_FORM, writes=True)
    name, query = str(form.get("name") or "").strip(), str(form.get("q") or "")
    filters = [str(f) for f in form.getlist("filter")]
    read = reader(request)
    try:
        await run_in_threadpool(read.add_watch, name, query, filters)
    except (QueryError, WorkspaceError) as exc:
        watches = await run_in_threadpool(read.watches)
        return render(request, "watches.html", 400, watches=watches, error=str(exc))
    return RedirectResponse("/watches?" + urlencode({"added": name}), status_code=303)


@router.post("/watches/run", response_class=HTMLResponse)
async def watch_run(request: Request) -> Response:
    """Run one watch (or all): the pages new since its last run, which it then remembers."""
    form = await posted_form(request, max_bytes=MAX_WATCH_FORM, writes=True)
    read = reader(request)
    try:
        runs = await run_in_threadpool(read.run_watches, str(form.get("name") or ""))
    except (QueryError, WorkspaceError) as exc:
        watches = await run_in_threadpool(read.watches)
        return render(request, "watches.html", 400, watches=watches, error=str(exc))
    watches = await run_in_threadpool(read.watches)
    return render(request, "watches.html", watches=watches, runs=runs)


@router.post("/watches/remove")
async def watch_remove(request: Request) -> Response:
    form = await posted_form(request, max_bytes=MAX_WATCH_FORM, writes=True)
    read = reader(request)
    try:
        await run_in_threadpool(read.remove_watch, str(form.get("name") or ""))
    except WorkspaceError as exc:
        watches = await run_in_threadpool(read.watches)
        return render(request, "watches.html", 400, watches=watches, error=str(exc))
    return RedirectResponse("/watches", status_code=303)
