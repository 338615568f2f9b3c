"""What every route needs from its request: the Reader its credential allows, the document it
names, a page rendered from a template, a one-line error, where a search should run, and the
session the token of its forms is tied to. Who a request acts as (its Viewer) is decided here
and nowhere else."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from foiarchive.index.search import SearchRequest, parse_filter
from foiarchive.index.team import ANONYMOUS, CREDENTIAL_HOLDER, OPEN_SERVER, Viewer
from foiarchive.schemas import Document
from foiarchive.web.access import COOKIE, SESSION_COOKIE, SESSION_SECONDS, AccessPolicy
from foiarchive.web.reader import Reader, Served

T = TypeVar("T")
FACET_SIZE = 10
_SESSION = re.compile(r"[0-9a-f]{32}")

Filters = Annotated[
    list[str],
    Query(
        description="facet:value pairs that narrow the search, as the facets report them "
        "(agency:ICE, year:2019, type:application/pdf); repeat to combine",
    ),
]


def served_of(request: Request) -> Served:
    return request.app.state.served


def access_of(request: Request) -> AccessPolicy:
    return request.app.state.access


def viewer(request: Request) -> Viewer:
    """Who this request acts as (the one place that is decided), from an `Authorization:
    Bearer` header or the sign-in cookie: with accounts, a personal API token or a live
    session; without, the server's single credential. `request.state.by_token` says whether
    an account's personal token decided it (the API writes only then)."""
    known = getattr(request.state, "viewer", None)
    if known is not None:
        return known
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    cookie = request.cookies.get(COOKIE)
    served, access = served_of(request), access_of(request)
    found = ANONYMOUS
    request.state.by_token = False
    if served.accounts:
        team = served.team()
        user = team.token_user(bearer) if bearer else None
        request.state.by_token = user is not None
        if user is None and cookie and bearer is None:  # a blank or wrong token is nobody
            user = team.session_user(cookie, access.idle_seconds, time.time())
        found = team.viewer(user) if user is not None else ANONYMOUS
    elif access.accepts(bearer=bearer, cookie=cookie):
        found = CREDENTIAL_HOLDER
    elif not access.configured:
        found = OPEN_SERVER
    request.state.viewer = found
    request.state.signed_in = found.signed_in
    return found


def reader(request: Request) -> Reader:
    """The archive as this request may read it: restricted productions only those its viewer
    was granted (all of them with the single credential). With accounts and without --public,
    nothing at all before signing in."""
    seen_as = viewer(request)
    if served_of(request).accounts and not seen_as.signed_in and not access_of(request).public:
        raise HTTPException(401, "sign in to read this archive")
    return served_of(request).reader(seen_as, request.url.path)


def accounts_in_use(request: Request) -> bool:
    return served_of(request).accounts


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"no {what} here")


def found(value: T | None, what: str) -> T:
    """`value`, or a 404 naming `what`: a Reader answers None for what does not exist and for
    what the request may not see alike, so nothing tells the two apart."""
    if value is None:
        raise not_found(what)
    return value


def visible_document(request: Request, document_id: str) -> tuple[Reader, Document]:
    read = reader(request)
    return read, found(read.document(document_id), f"document {document_id!r}")


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


async def searching(
    request: Request, function: Callable[[SearchRequest], T], wanted: SearchRequest
) -> T:
    """Run a search on the event loop when it only computes (the embedded index), in the
    thread pool when it waits on a server (Elasticsearch).

    In one process, threads doing Python work only take turns at the GIL: 20 clients
    searching got p95 72-80 ms on the loop against 97-106 ms through threads (bench/web.py).
    """
    if served_of(request).searches_in_process:
        return function(wanted)
    return await run_in_threadpool(function, wanted)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page for people, from web/templates."""
    templates: Jinja2Templates = request.app.state.templates
    context.setdefault("signed_in", getattr(request.state, "signed_in", False))
    context.setdefault("can_sign_in", access_of(request).configured or accounts_in_use(request))
    context.setdefault("viewer", viewer(request))
    context.setdefault("csrf", form_token(request))
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    keep_session(request, response)
    return response


def error(request: Request, status: int, message: str) -> Response:
    """One line: as JSON under /api/, as a page elsewhere."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", status, status=status, message=message)


# -- the session a form token is tied to (web.forms checks it) -----------------------------
def form_session(request: Request) -> tuple[str, bool]:
    """The session a form token is tied to: the browser's random session cookie, and with it
    the sign-in cookie while that is valid (two sign-ins in the same second get the same one);
    True with a new session cookie the response must set."""
    browser = request.cookies.get(SESSION_COOKIE, "")
    fresh = not _SESSION.fullmatch(browser)
    if fresh:
        browser = getattr(request.state, "new_session", None) or _new_session(request)
    signed_in = request.cookies.get(COOKIE)
    if signed_in and viewer(request).signed_in:
        return f"{browser} {signed_in}", fresh
    return browser, fresh


def _new_session(request: Request) -> str:
    request.state.new_session = secrets.token_hex(16)
    return request.state.new_session


def form_token(request: Request) -> str:
    return access_of(request).form_token(form_session(request)[0])


def keep_session(request: Request, response: Response) -> None:
    """Set the session cookie if this request made one up for its forms."""
    session, fresh = form_session(request)
    if fresh:
        response.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
