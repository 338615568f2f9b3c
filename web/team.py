"""What a team keeps on what it reads: notes on pages (on a box of the page image if drawn),
tags on documents, stars and "read by me". Forms for people (checked by web.forms, CSRF
included) and the same under /api/ for API clients, which must send a personal token
(`Authorization: Bearer`): a browser's cookie never writes through the API, so no other site
can make a signed-in browser post there. The work is index.marks', through the Reader.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from foiarchive.index.marks import MAX_NOTE, Note
from foiarchive.web.api import ERRORS, Problem
from foiarchive.web.context import found, reader, served_of, viewer, visible_document
from foiarchive.web.forms import posted_form, write_refusal

MAX_MARK_FORM = 32 * 1024
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": Problem, "description": "Not signed in (send a personal API token)"},
    403: {"model": Problem, "description": "This account may not do that"},
}

#: A note's number as SQLite can hold it (a bigger one raised OverflowError, a 500).
NoteId = Annotated[int, PathParameter(ge=1, le=2**62)]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["workspace"])


# -- forms ------------------------------------------------------------------------------------
@pages.post("/documents/{document_id}/notes")
async def note_add(request: Request, document_id: str) -> Response:
    """A note on a page, on the box drawn on its image if any, for the groups ticked."""
    form = await posted_form(request, max_bytes=MAX_MARK_FORM, writes=True)
    page = _number(form.get("page"))
    box = _box([form.get(name) for name in ("x0", "y0", "x1", "y1")])
    groups = [str(g) for g in form.getlist("groups")]
    await run_in_threadpool(
        _add_note, request, document_id, page, str(form.get("body") or ""), box, groups
    )
    return _back(document_id, page)


@pages.post("/notes/{note_id}/edit")
async def note_edit(request: Request, note_id: NoteId) -> Response:
    form = await posted_form(request, max_bytes=MAX_MARK_FORM, writes=True)
    note = await run_in_threadpool(_visible_note, request, note_id)
    marks = served_of(request).marks()
    await run_in_threadpool(marks.edit_note, viewer(request), note.id, str(form.get("body") or ""))
    return _back(note.document, note.page)


@pages.post("/notes/{note_id}/remove")
async def note_remove(request: Request, note_id: NoteId) -> Response:
    await posted_form(request, max_bytes=MAX_MARK_FORM, writes=True)
    note = await run_in_threadpool(_visible_note, request, note_id)
    await run_in_threadpool(served_of(request).marks().remove_note, viewer(request), note.id)
    return _back(note.document, note.page)


@pages.post("/documents/{document_id}/tags")
async def tag_form(request: Request, document_id: str) -> Response:
    form = await posted_form(request, max_bytes=MAX_MARK_FORM, writes=True)
    on = not form.get("remove")
    group, word = str(form.get("group") or ""), str(form.get("tag") or "")
    await run_in_threadpool(_tag, request, document_id, group, word, on)
    return _back(document_id, _number(form.get("page") or "1"))


@pages.post("/documents/{document_id}/star")
async def star_form(request: Request, document_id: str) -> Response:
    form = await posted_form(request, max_bytes=MAX_MARK_FORM, writes=True)
    await run_in_threadpool(_star, request, document_id, form.get("on") == "1")
    return _back(document_id, _number(form.get("page") or "1"))


# The workspace waits up to 60 s for a lock, so its writes run in the thread pool: on the
# event loop, a tag waiting on a lock held every other request of the process as long.
def _tag(request: Request, document_id: str, group: str, word: str, on: bool) -> None:
    read, document = visible_document(request, document_id)
    served_of(request).marks().tag(read.viewer, document.id, group, word, on=on)


def _star(request: Request, document_id: str, on: bool) -> None:
    read, document = visible_document(request, document_id)
    served_of(request).marks().star(read.viewer, document.id, on=on)


def _add_note(
    request: Request,
    document_id: str,
    page: int,
    body: str,
    box: tuple[float, float, float, float] | None,
    groups: list[str],
) -> Note:
    read, document = visible_document(request, document_id)
    found(read.page(document, page), f"page {page} in this document")
    marks = served_of(request).marks()
    return marks.add_note(read.viewer, document.id, page, body, box=box, groups=groups)


def _visible_note(request: Request, note_id: int) -> Note:
    """The note, if this request may see it and the document it is on."""
    read = reader(request)
    note = found(served_of(request).marks().note(read.viewer, note_id), f"note {note_id}")
    found(read.document(note.document), f"note {note_id}")
    return note


def _number(value: object) -> int:
    text = value if isinstance(value, str) else ""
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise HTTPException(400, "page: a page number")
    return int(text)


def _box(values: list[object]) -> tuple[float, float, float, float] | None:
    """x0 y0 x1 y1 as fractions of the page, or None when no box was drawn."""
    if all(v in (None, "") for v in values):
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in values if isinstance(v, str))
    except ValueError:
        raise HTTPException(400, "box: four numbers between 0 and 1") from None
    return (x0, y0, x1, y1)


def _back(document_id: str, page: int) -> Response:
    where = f"/documents/{quote(document_id, safe='')}?page={page}#notes"
    return RedirectResponse(where, status_code=303)


# -- the API ----------------------------------------------------------------------------------
class NoteIn(BaseModel):
    page: int = Field(ge=1, le=1_000_000)
    body: str = Field(min_length=1, max_length=MAX_NOTE)
    box: Annotated[list[float], Field(min_length=4, max_length=4)] | None = Field(
        default=None, description="x0, y0, x1, y1 as fractions of the page image"
    )
    groups: list[str] = Field(default=[], max_length=50)


class TagIn(BaseModel):
    group: str = Field(max_length=64)
    tag: str = Field(min_length=1, max_length=80)
    remove: bool = False


class StarIn(BaseModel):
    starred: bool


@api.get("/me", responses=ERRORS)
def api_me(request: Request) -> dict[str, Any]:
    """Who the caller is: the account, its role and groups, and the restricted productions
    its groups were granted (none for an anonymous caller)."""
    seen_as = viewer(request)
    user = seen_as.user
    return {
        "user": user.name if user else None,
        "role": user.role if user else None,
        "groups": list(user.groups) if user else [],
        "granted": sorted(seen_as.granted),
    }


@api.get("/documents/{document_id}/marks", responses=ERRORS)
def api_marks(request: Request, document_id: str) -> dict[str, Any]:
    """The notes, tags, star and read mark the caller sees on a document."""
    read, document = visible_document(request, document_id)
    return marks_of(request, read.viewer, document.id)


@api.post("/documents/{document_id}/notes", status_code=201, responses=WRITE_ERRORS)
def api_note_add(request: Request, document_id: str, note: NoteIn) -> dict[str, Any]:
    """A note on a page (on a box of its image if given), shown to the groups named."""
    _api_writer(request)
    box = (note.box[0], note.box[1], note.box[2], note.box[3]) if note.box else None
    return _add_note(request, document_id, note.page, note.body, box, note.groups).to_dict()


@api.delete("/notes/{note_id}", status_code=204, responses=WRITE_ERRORS)
def api_note_remove(request: Request, note_id: NoteId) -> Response:
    """Removes a note: its author's, or any with the archivist role."""
    _api_writer(request)
    note = _visible_note(request, note_id)
    served_of(request).marks().remove_note(viewer(request), note.id)
    return Response(status_code=204)


@api.post("/documents/{document_id}/tags", responses=WRITE_ERRORS)
def api_tag(request: Request, document_id: str, tag: TagIn) -> dict[str, Any]:
    """Adds (or removes) a group's tag on a document; answers the document's marks."""
    _api_writer(request)
    read, document = visible_document(request, document_id)
    served_of(request).marks().tag(read.viewer, document.id, tag.group, tag.tag, on=not tag.remove)
    return marks_of(request, read.viewer, document.id)


@api.put("/documents/{document_id}/star", responses=WRITE_ERRORS)
def api_star(request: Request, document_id: str, star: Annotated[StarIn, Body()]) -> dict[str, Any]:
    _api_writer(request)
    read, document = visible_document(request, document_id)
    served_of(request).marks().star(read.viewer, document.id, on=star.starred)
    return marks_of(request, read.viewer, document.id)


def _api_writer(request: Request) -> None:
    """API writes take a personal token only (never the browser's cookie: no CSRF there);
    a blank or unknown token is no token, whatever cookie comes with it."""
    if viewer(request).user is None or not getattr(request.state, "by_token", False):
        raise HTTPException(401, "send a personal API token: Authorization: Bearer <token>")
    refusal = write_refusal(request)
    if refusal:
        raise HTTPException(403, refusal)


def marks_of(request: Request, seen_as: Any, document_id: str) -> dict[str, Any]:
    marks = served_of(request).marks()
    summary = marks.summary(seen_as, [document_id]).get(document_id)
    return {
        "tags": [{"tag": t, "group": g} for t, g in marks.tags(seen_as, document_id)],
        "notes": [n.to_dict() for n in marks.notes(seen_as, document_id)],
        "starred": bool(summary and summary.starred),
        "read": bool(summary and summary.read),
    }


def viewer_marks(request: Request, read: Any, document_id: str, page: int) -> dict[str, Any]:
    """What the page viewer shows of the team's work on a page, for an account (and the
    document marked as read by it); nothing without accounts."""
    seen_as = read.viewer
    if seen_as.user is None:
        return {"team": None}
    marks = served_of(request).marks()
    marks.mark_read(seen_as, document_id)
    summary = marks.summary(seen_as, [document_id]).get(document_id)
    return {
        "team": {
            "user": seen_as.user,
            "notes": marks.notes(seen_as, document_id, page),
            "tags": marks.tags(seen_as, document_id),
            "starred": bool(summary and summary.starred),
            "may_write": not write_refusal(request),
        }
    }
