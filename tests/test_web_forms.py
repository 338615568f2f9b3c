"""Posted forms of the web app, through FastAPI's TestClient on the real web archive: every
POST carries the token of its browser's session (CSRF) and is read within a bound; the batch
search upload; watches added, run and removed from the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from foiarchive import Archive
from foiarchive.web import AccessPolicy, Served, api, create_app, pages
from foiarchive.web.access import COOKIE, SESSION_COOKIE

from .conftest import CREDENTIAL
from .test_web import form_token, sign_in

EXPIRED = "did not come from this site"


@pytest.fixture
def app(web_archive: Path, tmp_path: Path):
    return create_app(
        Served(Archive(web_archive), image_cache=tmp_path / "images"), AccessPolicy(CREDENTIAL)
    )


def post_routes() -> list[str]:
    routes = [*api.router.routes, *pages.router.routes]
    return sorted(r.path for r in routes if isinstance(r, APIRoute) and "POST" in r.methods)


def test_every_post_refuses_a_form_without_the_token_of_its_session(app) -> None:
    """Before: /login and /logout took any form from anywhere."""
    client, other = TestClient(app), TestClient(app)
    assert sign_in(client).status_code == 303
    assert sign_in(other).status_code == 303
    stolen = form_token(other, "/")  # a valid token, of another session
    assert {"/login", "/logout"} <= set(post_routes())
    for path in post_routes():
        for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": stolen}):
            refused = client.post(path, data=data, follow_redirects=False)
            assert refused.status_code == 403, (path, data, refused.status_code)
            assert EXPIRED in refused.text and "<h1" in refused.text, (path, data)
    assert "Sealed records" in client.get("/").text  # refusals signed nobody out


def test_the_token_is_tied_to_the_session_and_the_credential(app, web_archive: Path) -> None:
    client = TestClient(app)
    anonymous = form_token(client)
    assert SESSION_COOKIE in client.cookies
    assert sign_in(client).status_code == 303
    signed_in = form_token(client, "/")
    assert signed_in != anonymous
    refused = client.post("/logout", data={"csrf": anonymous}, follow_redirects=False)
    assert refused.status_code == 403  # the token of the session before signing in
    session = client.cookies[COOKIE]
    rotated = create_app(
        Served(Archive(web_archive)), AccessPolicy(CREDENTIAL + " rotated", form_key="k" * 64)
    )
    elsewhere = TestClient(rotated)
    elsewhere.cookies.set(COOKIE, session)
    elsewhere.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    assert elsewhere.post("/logout", data={"csrf": signed_in}).status_code == 403
    accepted = client.post("/logout", data={"csrf": signed_in}, follow_redirects=False)
    assert accepted.status_code == 303


def test_a_form_without_a_session_cookie_is_refused(app) -> None:
    """A token with no session cookie beside it (a forged cross-site post) fails."""
    client = TestClient(app)
    token = form_token(client)
    client.cookies.clear()
    data = {"credential": CREDENTIAL, "csrf": token}
    refused = client.post("/login", data=data, follow_redirects=False)
    assert refused.status_code == 403 and COOKIE not in refused.cookies


def test_forms_are_read_within_a_bound(app) -> None:
    client = TestClient(app)
    token = form_token(client)
    big = client.post("/login", data={"credential": "x" * 10_000, "csrf": token})
    assert big.status_code == 413 and "larger than" in big.text
    wrong = client.post("/login", content=b"{}", headers={"content-type": "application/json"})
    assert wrong.status_code == 415
