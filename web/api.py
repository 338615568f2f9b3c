"""The JSON API under /api/: the command line's JSON shapes, described at /api/openapi.json."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel

from foiarchive.disclosure import tabular
from foiarchive.index.fields import FACET_FIELDS
from foiarchive.index.search import MAX_LIMIT, MAX_WINDOW
from foiarchive.preservation.rendition import DEFAULT_WIDTH, WIDTHS, RenditionError
from foiarchive.web.context import (
    Filters,
    found,
    not_found,
    reader,
    search_request,
    searching,
    visible_document,
)


class Problem(BaseModel):
    """Every error answer of the API: one line saying what is wrong."""

    error: str


#: The error answers an API route can give, for its OpenAPI description.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A query or parameter the caller must fix"},
    404: {"model": Problem, "description": "No such thing here (or not visible to the caller)"},
    503: {"model": Problem, "description": "The search engine or catalog is unavailable"},
}

router = APIRouter(prefix="/api")


@router.get("/search", tags=["search"], responses=ERRORS)
async def api_search(
    request: Request,
    q: Annotated[str, Query(max_length=2000, description="a query in foiarchive's language")],
    filter: Filters = [],  # noqa: B006 - FastAPI copies defaults per request
    facet: Annotated[list[Literal[tuple(FACET_FIELDS)]], Query()] = [],  # type: ignore[valid-type]  # noqa: B006
    offset: Annotated[int, Query(ge=0, le=MAX_WINDOW)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    sort: Literal["relevance", "released", "-released"] = "relevance",
    by_document: bool = False,
) -> dict[str, Any]:
    """Pages (or documents) matching a query: the JSON of `foiarchive search --format json`."""
    wanted = search_request(
        q, filter, offset=offset, limit=limit, sort=sort, facets=facet, by_document=by_document
    )
    results = await searching(request, reader(request).search, wanted)
    return results.to_dict()


@router.get(
    "/export",
    tags=["search"],
    responses={**ERRORS, 200: {"content": {t: {} for t in tabular.MEDIA_TYPES.values()}}},
)
async def api_export(
    request: Request,
    q: Annotated[str, Query(max_length=2000, description="a query in foiarchive's language")],
    filter: Filters = [],  # noqa: B006
    format: Literal["csv", "jsonl", "xlsx"] = "csv",
    by_document: bool = False,
) -> Response:
    """Every page (or document) matching a query, without a limit, as a download: the rows of
    `foiarchive export-hits`. Restricted productions only with the credential."""
    wanted = search_request(
        q, filter, offset=0, limit=1, sort="relevance", facets=[], by_document=False
    )
    read = reader(request)
    await run_in_threadpool(read.search, wanted)  # a bad query answers 400 before any download
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _chunks; rows go to disk
    try:
        await run_in_threadpool(
            read.export,
            wanted,
            format,
            spool,
            by_document=by_document,
            base_url=str(request.base_url),
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    name = "foiarchive-" + ("documents" if by_document else "pages") + f".{format}"
    return StreamingResponse(
        _chunks(spool),
        media_type=tabular.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private",
        },
    )


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(256 * 1024):
            yield chunk


@router.get("/productions", tags=["productions"], responses=ERRORS)
def api_productions(request: Request) -> list[dict[str, Any]]:
    """Every production the caller may see, with its counts."""
    return [
        {**s.production.to_dict(), "documents": s.documents, "pages": s.pages}
        for s in reader(request).productions()
    ]


@router.get("/productions/{production_id}", tags=["productions"], responses=ERRORS)
def api_production(request: Request, production_id: str) -> dict[str, Any]:
    production = reader(request).production(production_id)
    return found(production, f"production {production_id!r}").to_dict()


@router.get("/productions/{production_id}/documents", tags=["productions"], responses=ERRORS)
def api_production_documents(request: Request, production_id: str) -> list[dict[str, Any]]:
    read = reader(request)
    found(read.production(production_id), f"production {production_id!r}")
    return [d.to_dict() for d in read.documents(production_id)]


@router.get("/productions/{production_id}/report", tags=["productions"], responses=ERRORS)
def api_report(request: Request, production_id: str) -> dict[str, Any]:
    """The disclosure report: what was redacted, withheld and cited, page by page."""
    report = reader(request).report(production_id)
    return found(report, f"production {production_id!r}").to_dict()


@router.get("/diff", tags=["productions"], responses=ERRORS)
def api_diff(
    request: Request,
    old: Annotated[str, Query(description="the earlier release's production id")],
    new: Annotated[str, Query(description="the later release's production id")],
) -> dict[str, Any]:
    """What changed between two releases: the JSON of `foiarchive diff --format json`."""
    return found(reader(request).diff(old, new), "such pair of productions").to_dict()


@router.get("/documents/{document_id}", tags=["documents"], responses=ERRORS)
def api_document(request: Request, document_id: str) -> dict[str, Any]:
    read, document = visible_document(request, document_id)
    return {**document.to_dict(), "has_original": read.original(document) is not None}


@router.get("/documents/{document_id}/pages/{number}", tags=["documents"], responses=ERRORS)
def api_page(
    request: Request,
    document_id: str,
    number: Annotated[int, PathParameter(ge=1, le=1_000_000)],
    q: Annotated[str, Query(max_length=2000)] = "",
) -> dict[str, Any]:
    """A page's text and marks; with `q`, where its matches are on the page image (boxes as
    fractions of the page: x0, y0, x1, y1) and which pages of the document match."""
    read, document = visible_document(request, document_id)
    view = found(read.page_view(document, number, q), f"page {number} in this document")
    data = view.page.to_dict()
    del data["word_boxes"]
    data.update(
        document=document.id,
        image=view.has_image,
        hits=[list(b) for b in view.hits],
        hit_pages=view.hit_pages,
    )
    if view.query_error:
        data["query_error"] = view.query_error
    return data


@router.get(
    "/documents/{document_id}/pages/{number}/image",
    tags=["documents"],
    response_class=FileResponse,
    responses={
        **ERRORS,
        200: {"content": {"image/jpeg": {}}},
        422: {"model": Problem, "description": "The preserved file cannot be rendered"},
    },
)
async def api_page_image(
    request: Request,
    document_id: str,
    number: Annotated[int, PathParameter(ge=1, le=1_000_000)],
    width: Annotated[
        Literal[tuple(str(w) for w in WIDTHS)],  # type: ignore[valid-type]
        Query(description="pixels: a phone, a laptop, zoomed in"),
    ] = str(DEFAULT_WIDTH),
) -> Response:
    """The page as an image, rendered from the preserved file the first time it is asked."""
    # A cached image is answered on the event loop (two catalog lookups and a stat), so it
    # never queues behind searches and renders in the thread pool.
    read, document = visible_document(request, document_id)
    if not 1 <= number <= document.page_count:
        raise not_found(f"page {number} in this document")
    source = found(
        read.page_source(document, number), "image of this page (no file of its own in the bag)"
    )
    path = read.served.images.cached(source, int(width))
    try:
        if path is None:
            path = await read.served.render(source, int(width))
        data = path.read_bytes()  # ~100 kB from the page cache: cheaper than streaming
    except RenditionError as exc:
        raise HTTPException(422, str(exc)) from None
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get(
    "/documents/{document_id}/original",
    tags=["documents"],
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def api_original(request: Request, document_id: str) -> Response:
    """The file as the agency delivered it, bit for bit, as a download."""
    read, document = visible_document(request, document_id)
    path = found(
        read.original(document), "file of its own for this document (it is inside another)"
    )
    return FileResponse(
        path,
        media_type=document.media_type or "application/octet-stream",
        filename=Path(document.path).name,
        content_disposition_type="attachment",
        # a delivered HTML or SVG file must never run as part of this site
        headers={"Content-Security-Policy": "sandbox", "Cache-Control": "private"},
    )
