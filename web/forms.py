"""Posted forms: read within a size bound, and accepted only with the form token of the
browser's session (CSRF), which every page rendered carries (see context.render).

Every POST route reads its form through `posted_form`, so none can forget the check.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from foiarchive.web.context import access_of, accounts_in_use, form_session, viewer

TOKEN_FIELD = "csrf"  # the name templates give the token's hidden field
MAX_FIELDS = 50
EXPIRED = "this form has expired or did not come from this site: reload the page and send it again"


async def posted_form(
    request: Request, *, max_bytes: int, max_files: int = 0, writes: bool = False
) -> FormData:
    """The form of a POST, read to at most `max_bytes` (413 past it), refused with 403 without
    the token of this browser's session, and, with `writes` where a credential is configured,
    without a sign-in. The caller closes it (uploaded files are spooled)."""
    viewer(request)
    form = await _parse(request, max_bytes, max_files)
    session, fresh = form_session(request)
    token = form.get(TOKEN_FIELD)
    if (
        fresh
        or not isinstance(token, str)
        or not access_of(request).form_token_valid(session, token)
    ):
        await form.close()
        raise HTTPException(403, EXPIRED)
    if writes:
        refusal = write_refusal(request)
        if refusal:
            await form.close()
            raise HTTPException(403, refusal)
    return form


def write_refusal(request: Request) -> str:
    """Why this request may not change what the workspace keeps, or "" if it may: with
    accounts, an annotator's (or archivist's, admin's) session or token; without, the holder of
    the credential, when one is configured."""
    seen_as = viewer(request)
    if accounts_in_use(request):
        if seen_as.user is None:
            return "sign in to change what this archive keeps"
        if not seen_as.may_annotate:
            return "your account may read but not write (ask for the annotator role)"
        return ""
    if access_of(request).configured and not seen_as.signed_in:
        return "sign in to change what this archive keeps (watches)"
    return ""


async def _parse(request: Request, max_bytes: int, max_files: int) -> FormData:
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = _bounded(request, max_bytes)
    try:
        if kind == "multipart/form-data":
            parser = MultiPartParser(
                request.headers,
                body,
                max_files=max_files,
                max_fields=MAX_FIELDS,
                max_part_size=max_bytes,
            )
            return await parser.parse()
        if kind in ("application/x-www-form-urlencoded", ""):  # "": no body, so no token
            return await FormParser(
                request.headers, body, max_fields=MAX_FIELDS, max_part_size=max_bytes
            ).parse()
    except MultiPartException as exc:
        raise HTTPException(400, f"the form cannot be read: {exc.message}") from None
    raise HTTPException(415, "send this as a form (multipart/form-data or urlencoded)")


async def _bounded(request: Request, max_bytes: int) -> AsyncGenerator[bytes, None]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(413, f"the form is larger than {max_bytes // 1024:,} kB")
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_bytes:
            raise HTTPException(413, f"the form is larger than {max_bytes // 1024:,} kB")
        yield chunk
