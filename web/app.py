"""The web app: server-rendered pages for people (web.pages, web.research), the same data as
JSON under /api/ (web.api, web.team). It writes only to workspace.sqlite (watches, sessions,
notes, tags, stars, the access log), through posted forms that web.forms checks or, under
/api/, with a personal token.

Routes only parse the request, ask a Reader (which applies the access rule, web.reader) and
format the answer; what a page shows is decided in `index`, `preservation` and web.reader.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foiarchive.disclosure import html
from foiarchive.index import BackendError, CatalogError, QueryError
from foiarchive.index.team import Forbidden, TeamError
from foiarchive.preservation.rendition import WIDTHS
from foiarchive.schemas.findings import KINDS, SEEN
from foiarchive.web import api, pages, research, team
from foiarchive.web.access import AccessPolicy
from foiarchive.web.context import error
from foiarchive.web.reader import Served

HERE = Path(__file__).parent

#: What a browser may load and run: only this server's own files, nothing inline; images may
#: also be data: URIs, which the diff's before/after crops of changed regions are.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # queries are in URLs; never hand them to other sites
    "X-Frame-Options": "DENY",
}


def create_app(served: Served, access: AccessPolicy | None = None) -> FastAPI:
    """The app for one archive. `access` None: restricted productions are shown to nobody."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        served.close()

    app = FastAPI(
        lifespan=lifespan,
        title="foiarchive",
        summary="Search FOIA productions page by page; read what was released and withheld.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; the JSON is enough
        redoc_url=None,
    )
    templates = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(HERE / "templates"), html.template_loader()]
            ),
            autoescape=True,
        )
    )
    html.add_helpers(templates.env)
    templates.env.globals.update(widths=WIDTHS, leak_kinds=KINDS, leak_seen=SEEN)
    app.state.served, app.state.access = served, access or AccessPolicy()
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)
    app.include_router(api.router)
    app.include_router(team.api)
    app.include_router(pages.router)
    app.include_router(research.router)
    app.include_router(team.pages)
    _one_line_errors(app)
    return app


def _one_line_errors(app: FastAPI) -> None:
    """Whatever a user can cause ends in one line: JSON under /api/, a page elsewhere."""

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

    @app.exception_handler(TeamError)
    async def team_refusal(request: Request, exc: TeamError) -> Response:
        return error(request, 403 if isinstance(exc, Forbidden) else 400, str(exc))

    @app.exception_handler(BackendError)
    async def backend_down(request: Request, exc: BackendError) -> Response:
        return error(request, 503, f"search is unavailable: {exc}")

    @app.exception_handler(CatalogError)
    async def catalog_error(request: Request, exc: CatalogError) -> Response:
        return error(request, 503, f"the catalog is unavailable: {exc}")


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
