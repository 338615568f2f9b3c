"""The pages for people: search, the page viewer, productions and diffs, signing in."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from foiarchive.disclosure.charts import report_charts
from foiarchive.disclosure.html import diff_context
from foiarchive.index import QueryError
from foiarchive.index.fields import FACET_FIELDS
from foiarchive.index.search import MAX_WINDOW
from foiarchive.index.team import TeamError, Throttled
from foiarchive.web import team
from foiarchive.web.access import COOKIE, SESSION_SECONDS
from foiarchive.web.context import (
    Filters,
    access_of,
    accounts_in_use,
    found,
    reader,
    render,
    search_request,
    searching,
    served_of,
    viewer,
    visible_document,
)
from foiarchive.web.forms import posted_form

RESULTS_PER_PAGE = (20, 10, 50, 100)  # the first is the default
MAX_LOGIN_BODY = 4096

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=2000)] = "",
    filter: Filters = [],  # noqa: B006
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_WINDOW)] = 1,
    sort: Literal["relevance", "released", "-released"] = "relevance",
    per_page: Literal[tuple(str(n) for n in RESULTS_PER_PAGE)] = str(RESULTS_PER_PAGE[0]),  # type: ignore[valid-type]
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
        return render(request, "search.html", **context)
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
        results = await searching(request, read.search, wanted)
    except QueryError as exc:
        context["query_error"] = str(exc)
        return render(request, "search.html", 400, **context)
    pages = max(1, math.ceil(results.total_documents / size))
    context.update(
        results=results,
        page_number=page_number,
        page_count=min(pages, MAX_WINDOW // size),
        link=_link_maker(q, filter, sort, size),
        export_params=urlencode([("q", q)] + [("filter", f) for f in filter]),
        sizes=RESULTS_PER_PAGE,
        marks=read.marks_of([d.document for d in results.documents or []]),
    )
    return render(request, "search.html", **context)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    document_id: str,
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    q: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    read, document = visible_document(request, document_id)
    view = found(read.page_view(document, page_number, q), f"page {page_number} in this document")
    earlier = [n for n in view.hit_pages if n < page_number]
    later = [n for n in view.hit_pages if n > page_number]
    return render(
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
        **team.viewer_marks(request, read, document.id, page_number),
    )


@router.get("/productions/{production_id}", response_class=HTMLResponse)
def production_page(request: Request, production_id: str) -> Response:
    read = reader(request)
    production = found(read.production(production_id), f"production {production_id!r}")
    report = found(read.report(production_id), f"production {production_id!r}")
    others = [s.production for s in read.productions() if s.production.id != production_id]
    return render(
        request,
        "production.html",
        production=production,
        report=report,
        charts=report_charts(report),
        documents=read.documents(production_id),
        others=others,
    )


@router.get("/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    old: Annotated[str, Query(max_length=200)],
    new: Annotated[str, Query(max_length=200)],
) -> Response:
    diff = found(reader(request).diff(old, new), "such pair of productions")
    return render(request, "diff.html", **diff_context(diff), links=True)


# -- signing in: an account (with accounts in the workspace) or the single credential --------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    viewer(request)
    return render(request, "login.html", accounts=accounts_in_use(request))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await posted_form(request, max_bytes=MAX_LOGIN_BODY)
    access = access_of(request)
    if accounts_in_use(request):
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        address = request.client.host if request.client else ""
        try:
            session = await run_in_threadpool(_account_session, request, name, password, address)
        except Throttled as exc:
            return render(request, "login.html", 429, accounts=True, failed=str(exc))
        except TeamError as exc:
            return render(request, "login.html", 403, accounts=True, failed=str(exc))
        lifetime = access.session_seconds
    elif access.accepts(bearer=str(form.get("credential") or "")):
        session, lifetime = access.cookie_value(), SESSION_SECONDS
    else:
        failed = "That credential is not the one configured."
        return render(request, "login.html", 403, accounts=False, failed=failed)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        session,
        max_age=int(lifetime),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",  # behind a TLS proxy: its X-Forwarded-Proto
    )
    return response


def _account_session(request: Request, name: str, password: str, address: str) -> str:
    """A new session for the account, if the password is its own (Argon2: off the loop)."""
    team = served_of(request).team()
    user = team.check_password(name, password, address, time.time())
    previous = request.cookies.get(COOKIE)
    if previous:  # a browser signing in again (or as someone else) leaves no session behind
        team.end_session(previous)
    return team.start_session(user, access_of(request).session_seconds, time.time())


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session on the server too, so a copy of the cookie opens nothing afterwards."""
    await posted_form(request, max_bytes=MAX_LOGIN_BODY)
    cookie = request.cookies.get(COOKIE)
    if cookie and accounts_in_use(request):
        served_of(request).team().end_session(cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


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
