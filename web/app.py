"""The read-only web app: server-rendered pages for people, the same data as JSON under /api/.

Routes only parse the request, ask a Reader (which applies the access rule) and format the
answer; what a page shows is decided in `index`, `preservation` and web.reader.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index import BackendError, CatalogError, QueryError
from index.diff import exemption_label, summarize
from index.fields import FACET_FIELDS
from index.search import MAX_LIMIT, MAX_WINDOW, SearchRequest, parse_filter
from preservation.rendition import DEFAULT_WIDTH, WIDTHS, RenditionError
from schemas import Document
from web.access import COOKIE, ENV_CREDENTIAL, AccessPolicy
from web.charts import diff_charts, percent, report_charts
from web.reader import Archive, Reader

HERE = Path(__file__).parent
T = TypeVar("T")
RESULTS_PER_PAGE = (20, 10, 50, 100)  # the first is the default
FACET_SIZE = 10
MAX_LOGIN_BODY = 4096

#: What a browser may load and run: only this server's own files, nothing inline.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # queries are in URLs; never hand them to other sites
    "X-Frame-Options": "DENY",
}


class Problem(BaseModel):
    """Every error answer of the API: one line saying what is wrong."""

    error: str


#: The error answers an API route can give, for its OpenAPI description.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A query or parameter the caller must fix"},
    404: {"model": Problem, "description": "No such thing here (or not visible to the caller)"},
    503: {"model": Problem, "description": "The search engine or catalog is unavailable"},
}

Filters = Annotated[
    list[str],
    Query(
        description="facet:value pairs that narrow the search, as the facets report them "
        "(agency:ICE, year:2019, type:application/pdf); repeat to combine",
    ),
]


def create_app(archive: Archive, access: AccessPolicy | None = None) -> FastAPI:
    """The app for one archive. `access` None: restricted productions are shown to nobody."""
    access = access or AccessPolicy()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        archive.close()

    app = FastAPI(
        lifespan=lifespan,
        title="foiarchive",
        summary="Search FOIA productions page by page; read what was released and withheld.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; the JSON is enough
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(exemption_label=exemption_label, percent=percent, widths=WIDTHS)
    templates.env.filters["exemption_label"] = exemption_label
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)

    def reader(request: Request) -> Reader:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        allowed = access.accepts(
            bearer=token.strip() if scheme.lower() == "bearer" else None,
            cookie=request.cookies.get(COOKIE),
        )
        request.state.signed_in = allowed
        return archive.reader(allowed)

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
        context.setdefault("signed_in", getattr(request.state, "signed_in", False))
        context.setdefault("can_sign_in", access.configured)
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    # -- errors: one line, as JSON under /api/, as a page elsewhere --------------------------
    def error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "error.html", status, status=status, message=message)

    @app.exception_handler(StarletteHTTPException)  # also Starlette's own 404 and 405
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return error(request, 400, f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(BackendError)
    async def backend_down(request: Request, exc: BackendError) -> Response:
        return error(request, 503, f"search is unavailable: {exc}")

    @app.exception_handler(CatalogError)
    async def catalog_error(request: Request, exc: CatalogError) -> Response:
        return error(request, 503, f"the catalog is unavailable: {exc}")

    async def searching(function: Callable[[SearchRequest], T], wanted: SearchRequest) -> T:
        """Run a search on the event loop when it only computes (the embedded index), in the
        thread pool when it waits on a server (Elasticsearch).

        In one process, threads doing Python work only take turns at the GIL: 20 clients
        searching got p95 72-80 ms on the loop against 97-106 ms through threads (bench/web.py).
        """
        if archive.searches_in_process:
            return function(wanted)
        return await run_in_threadpool(function, wanted)

    def not_found(what: str) -> HTTPException:
        return HTTPException(404, f"no {what} here")

    def visible_document(request: Request, document_id: str) -> tuple[Reader, Document]:
        read = reader(request)
        document = read.document(document_id)
        if document is None:
            raise not_found(f"document {document_id!r}")
        return read, document

    # -- JSON API ------------------------------------------------------------------------------
    def search_request(
        q: str,
        filters: list[str],
        *,
        offset: int,
        limit: int,
        sort: str,
        facets: list[str],
        by_document: bool,
    ) -> SearchRequest:
        return SearchRequest(
            q,
            limit=limit,
            offset=offset,
            sort=sort,  # type: ignore[arg-type]
            facets=tuple(facets),
            facet_size=FACET_SIZE,
            by_document=by_document,
            filters=tuple(parse_filter(item) for item in filters),
        )

    @app.get("/api/search", tags=["search"], responses=ERRORS)
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
        results = await searching(reader(request).search, wanted)
        return results.to_dict()

    @app.get("/api/productions", tags=["productions"], responses=ERRORS)
    def api_productions(request: Request) -> list[dict[str, Any]]:
        """Every production the caller may see, with its counts."""
        return [
            {**s.production.to_dict(), "documents": s.documents, "pages": s.pages}
            for s in reader(request).productions()
        ]

    @app.get("/api/productions/{production_id}", tags=["productions"], responses=ERRORS)
    def api_production(request: Request, production_id: str) -> dict[str, Any]:
        production = reader(request).production(production_id)
        if production is None:
            raise not_found(f"production {production_id!r}")
        return production.to_dict()

    @app.get("/api/productions/{production_id}/documents", tags=["productions"], responses=ERRORS)
    def api_production_documents(request: Request, production_id: str) -> list[dict[str, Any]]:
        read = reader(request)
        if read.production(production_id) is None:
            raise not_found(f"production {production_id!r}")
        return [d.to_dict() for d in read.documents(production_id)]

    @app.get("/api/productions/{production_id}/report", tags=["productions"], responses=ERRORS)
    def api_report(request: Request, production_id: str) -> dict[str, Any]:
        """The disclosure report: what was redacted, withheld and cited, page by page."""
        report = reader(request).report(production_id)
        if report is None:
            raise not_found(f"production {production_id!r}")
        return report.to_dict()

    @app.get("/api/diff", tags=["productions"], responses=ERRORS)
    def api_diff(
        request: Request,
        old: Annotated[str, Query(description="the earlier release's production id")],
        new: Annotated[str, Query(description="the later release's production id")],
    ) -> dict[str, Any]:
        """What changed between two releases: the JSON of `foiarchive diff --format json`."""
        diff = reader(request).diff(old, new)
        if diff is None:
            raise not_found("such pair of productions")
        return diff.to_dict()

    @app.get("/api/documents/{document_id}", tags=["documents"], responses=ERRORS)
    def api_document(request: Request, document_id: str) -> dict[str, Any]:
        read, document = visible_document(request, document_id)
        return {**document.to_dict(), "has_original": read.original(document) is not None}

    @app.get("/api/documents/{document_id}/pages/{number}", tags=["documents"], responses=ERRORS)
    def api_page(
        request: Request,
        document_id: str,
        number: Annotated[int, PathParameter(ge=1, le=1_000_000)],
        q: Annotated[str, Query(max_length=2000)] = "",
    ) -> dict[str, Any]:
        """A page's text and marks; with `q`, where its matches are on the page image (boxes as
        fractions of the page: x0, y0, x1, y1) and which pages of the document match."""
        read, document = visible_document(request, document_id)
        view = read.page_view(document, number, q)
        if view is None:
            raise not_found(f"page {number} in this document")
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

    @app.get(
        "/api/documents/{document_id}/pages/{number}/image",
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
            Literal[tuple(str(w) for w in WIDTHS)],  # type: ignore[misc]
            Query(description="pixels: a phone, a laptop, zoomed in"),
        ] = str(DEFAULT_WIDTH),
    ) -> Response:
        """The page as an image, rendered from the preserved file the first time it is asked."""
        # A cached image is answered on the event loop (two catalog lookups and a stat), so it
        # never queues behind searches and renders in the thread pool.
        read, document = visible_document(request, document_id)
        if not 1 <= number <= document.page_count:
            raise not_found(f"page {number} in this document")
        source = read.page_source(document, number)
        if source is None:
            raise not_found("image of this page (no file of its own in the bag)")
        path = read.archive.images.cached(source, int(width))
        try:
            if path is None:
                path = await read.archive.render(source, int(width))
            data = path.read_bytes()  # ~100 kB from the page cache: cheaper than streaming
        except RenditionError as exc:
            raise HTTPException(422, str(exc)) from None
        return Response(
            data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
        )

    @app.get(
        "/api/documents/{document_id}/original",
        tags=["documents"],
        response_class=FileResponse,
        responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    )
    def api_original(request: Request, document_id: str) -> Response:
        """The file as the agency delivered it, bit for bit, as a download."""
        read, document = visible_document(request, document_id)
        path = read.original(document)
        if path is None:
            raise not_found("file of its own for this document (it is inside another)")
        return FileResponse(
            path,
            media_type=document.media_type or "application/octet-stream",
            filename=Path(document.path).name,
            content_disposition_type="attachment",
            # a delivered HTML or SVG file must never run as part of this site
            headers={"Content-Security-Policy": "sandbox", "Cache-Control": "private"},
        )

    # -- pages for people ------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def search_page(
        request: Request,
        q: Annotated[str, Query(max_length=2000)] = "",
        filter: Filters = [],  # noqa: B006
        page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_WINDOW)] = 1,
        sort: Literal["relevance", "released", "-released"] = "relevance",
        per_page: Literal[tuple(str(n) for n in RESULTS_PER_PAGE)] = str(RESULTS_PER_PAGE[0]),  # type: ignore[misc]
    ) -> Response:
        read = reader(request)
        size = int(per_page)
        context: dict[str, Any] = {
            "q": q,
            "filters": filter,
            "sort": sort,
            "per_page": size,
            "results": None,
        }
        if not q.strip() and not filter:
            context["productions"] = read.productions()
            return page(request, "search.html", **context)
        offset = (page_number - 1) * size
        if offset + size > MAX_WINDOW:
            raise QueryError(f"results can be paged only to {MAX_WINDOW:,}; narrow the query")
        try:
            wanted = search_request(
                q,
                filter,
                offset=offset,
                limit=size,
                sort=sort,
                facets=list(FACET_FIELDS),
                by_document=True,
            )
            results = await searching(read.search, wanted)
        except QueryError as exc:
            context["query_error"] = str(exc)
            return page(request, "search.html", 400, **context)
        pages = max(1, math.ceil(results.total_documents / size))
        context.update(
            results=results,
            page_number=page_number,
            page_count=min(pages, MAX_WINDOW // size),
            link=_link_maker(q, filter, sort, size),
            sizes=RESULTS_PER_PAGE,
        )
        return page(request, "search.html", **context)

    @app.get("/documents/{document_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(
        request: Request,
        document_id: str,
        page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
        q: Annotated[str, Query(max_length=2000)] = "",
    ) -> Response:
        read, document = visible_document(request, document_id)
        view = read.page_view(document, page_number, q)
        if view is None:
            raise not_found(f"page {page_number} in this document")
        earlier = [n for n in view.hit_pages if n < page_number]
        later = [n for n in view.hit_pages if n > page_number]
        return page(
            request,
            "document.html",
            view=view,
            document=document,
            production=read.production(document.production_id),
            container=read.container(document),
            has_original=read.original(document) is not None,
            q=q,
            previous_hit=earlier[-1] if earlier else None,
            next_hit=later[0] if later else None,
            page_count=max(document.page_count, 1),
        )

    @app.get("/productions/{production_id}", response_class=HTMLResponse, include_in_schema=False)
    def production_page(request: Request, production_id: str) -> Response:
        read = reader(request)
        production = read.production(production_id)
        report = read.report(production_id)
        if production is None or report is None:
            raise not_found(f"production {production_id!r}")
        others = [s.production for s in read.productions() if s.production.id != production_id]
        return page(
            request,
            "production.html",
            production=production,
            report=report,
            charts=report_charts(report),
            documents=read.documents(production_id),
            others=others,
        )

    @app.get("/diff", response_class=HTMLResponse, include_in_schema=False)
    def diff_page(
        request: Request,
        old: Annotated[str, Query(max_length=200)],
        new: Annotated[str, Query(max_length=200)],
    ) -> Response:
        diff = reader(request).diff(old, new)
        if diff is None:
            raise not_found("such pair of productions")
        return page(
            request, "diff.html", diff=diff, summary=summarize(diff), charts=diff_charts(diff)
        )

    # -- signing in to see restricted productions ------------------------------------------
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request) -> Response:
        reader(request)
        return page(request, "login.html")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_LOGIN_BODY:
            raise HTTPException(413, "the form is too large")
        fields = parse_qs(body.decode("utf-8", "replace"))
        credential = (fields.get("credential") or [""])[0]
        if not access.accepts(bearer=credential):
            return page(request, "login.html", 403, failed=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, access.cookie_value(), httponly=True, samesite="strict")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return app


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response that does not set its own. Plain ASGI: Starlette's
    BaseHTTPMiddleware costs about a millisecond a request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _link_maker(q: str, filters: list[str], sort: str, per_page: int) -> Callable[..., str]:
    """Links that keep the current search and change one thing: a filter added or removed, or
    the results page."""

    def link(*, add: str | None = None, remove: str | None = None, page: int | None = None) -> str:
        kept = [f for f in filters if f != remove]
        if add is not None and add not in kept:
            kept.append(add)
        params: list[tuple[str, str]] = [("q", q)] + [("filter", f) for f in kept]
        if sort != "relevance":
            params.append(("sort", sort))
        if per_page != RESULTS_PER_PAGE[0]:
            params.append(("per_page", str(per_page)))
        if page is not None and page > 1:
            params.append(("page", str(page)))
        return "/?" + urlencode(params)

    return link


#: How `foiarchive serve` hands its settings to server processes (uvicorn starts each worker
#: by importing app_from_environment, so they travel in the environment).
ENV_ARCHIVE = "FOIARCHIVE_SERVE_ARCHIVE"
ENV_BACKEND = "FOIARCHIVE_SERVE_BACKEND"
ENV_IMAGE_CACHE = "FOIARCHIVE_SERVE_IMAGE_CACHE"
ENV_RENDER_PROCESSES = "FOIARCHIVE_SERVE_RENDER_PROCESSES"


def app_from_environment() -> FastAPI:
    """The app for uvicorn's factory mode, configured by `foiarchive serve`."""
    cache = os.environ.get(ENV_IMAGE_CACHE)
    archive = Archive(
        Path(os.environ[ENV_ARCHIVE]),
        backend=os.environ.get(ENV_BACKEND, "auto"),
        es_url=os.environ.get("FOIARCHIVE_ES_URL") or None,
        image_cache=Path(cache) if cache else None,
        render_processes=int(os.environ.get(ENV_RENDER_PROCESSES, "0")),
    )
    credential = os.environ.get(ENV_CREDENTIAL) or None
    return create_app(archive, AccessPolicy(credential))
