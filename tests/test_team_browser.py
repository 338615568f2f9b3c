"""The team workspace in a real browser (Chromium through Playwright) against a real server:
two accounts in different groups, one annotating a restricted production, the other seeing
nothing of it; a reader who cannot write; a form without its token; an expired session; the
tenth wrong password in a minute. Screenshots go to test-artifacts/web/team-*.png."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from foiarchive import Archive
from foiarchive.web import AccessPolicy, Served, create_app

from .conftest import RESTRICTED, SECRET_WORD, password_of
from .test_web_browser import browser, image_loaded, shot  # noqa: F401 - the browser fixture

MEMO = "scans/ERO memos 2017 (scanned).pdf"


@pytest.fixture(scope="module")
def team_server(team_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    archive = tmp_path_factory.mktemp("team-browser") / "archive"
    shutil.copytree(team_archive, archive)
    app = create_app(
        Served(Archive(archive), image_cache=tmp_path_factory.mktemp("team-images")),
        AccessPolicy(),
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", archive
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def people(browser) -> Iterator[object]:  # noqa: F811 - the imported fixture
    """A fresh browser context (its own cookies) per person."""
    contexts = []

    def person():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        tab = context.new_page()
        tab.script_errors = []
        tab.on("pageerror", lambda exc: tab.script_errors.append(str(exc)))
        return tab

    yield person
    for context in contexts:
        for tab in context.pages:
            assert not tab.script_errors, tab.script_errors  # no script errors, no CSP refusals
        context.close()


def sign_in(tab, server: str, name: str, password: str | None = None) -> None:
    tab.goto(server + "/login")
    tab.get_by_label("Account").fill(name)
    tab.get_by_label("Password").fill(password or password_of(name))
    tab.get_by_role("button", name="Sign in").click()


def document_id(archive: Path, path: str, production: str) -> str:
    with Archive(archive).catalog() as catalog:
        return next(d.id for d in catalog.documents(production) if d.path == path)


def test_two_groups_a_boxed_note_a_reader_a_forged_form_and_an_expired_session(
    team_server: tuple, people
) -> None:
    server, archive = team_server
    sealed = document_id(archive, MEMO, RESTRICTED)
    alice = people()
    first = alice.goto(server + "/")
    assert first.status == 401 and alice.get_by_role("link", name="Sign in").is_visible()
    sign_in(alice, server, "alice")
    alice.wait_for_url(server + "/")
    shot(alice, "team-01-signed-in")

    # alice annotates the restricted production: a note on a box she draws on the page image
    alice.goto(f"{server}/documents/{sealed}?page=1")
    image_loaded(alice)
    picture = alice.locator("#page-image").bounding_box()
    assert picture
    start = (picture["x"] + picture["width"] * 0.2, picture["y"] + picture["height"] * 0.1)
    end = (picture["x"] + picture["width"] * 0.6, picture["y"] + picture["height"] * 0.25)
    alice.mouse.move(*start)
    alice.mouse.down()
    alice.mouse.move(*end, steps=5)
    alice.mouse.up()
    assert abs(float(alice.locator("#box-x0").input_value()) - 0.2) < 0.01
    alice.get_by_label("New note").fill("Who signed this? Ask for the annex.")
    shot(alice, "team-02-box-drawn")
    alice.get_by_role("button", name="Add note").click()
    alice.wait_for_url("**#notes")
    image_loaded(alice)
    boxes = alice.locator("svg.overlay g.note-box rect")
    assert boxes.count() == 1
    drawn, picture = boxes.first.bounding_box(), alice.locator("#page-image").bounding_box()
    assert drawn and picture
    assert abs((drawn["x"] - picture["x"]) / picture["width"] - 0.2) < 0.01
    assert abs((drawn["y"] - picture["y"]) / picture["height"] - 0.1) < 0.01
    assert abs(drawn["width"] / picture["width"] - 0.4) < 0.01
    assert "Ask for the annex" in alice.locator("ol.notes").inner_text()
    alice.get_by_label("Tag", exact=True).fill("sealed-lead")
    alice.get_by_role("button", name="Add tag").click()
    alice.wait_for_url("**#notes")
    shot(alice, "team-03-note-on-the-page-image")
    alice.goto(server + "/?q=tag%3Asealed-lead")
    assert alice.locator("#results-heading").inner_text().endswith("in 1 document")
    assert "sealed-lead" in alice.locator(".marker").inner_text()
    shot(alice, "team-04-results-with-marker")

    # a form posted without its token is refused, signed in or not
    forged = alice.request.post(
        f"{server}/documents/{sealed}/notes", form={"page": "1", "body": "forged"}
    )
    assert forged.status == 403

    # bob, in the other group, sees nothing of it
    bob = people()
    sign_in(bob, server, "bob")
    bob.wait_for_url(server + "/")
    assert bob.goto(f"{server}/documents/{sealed}?page=1").status == 404
    bob.goto(f"{server}/?q={SECRET_WORD}")
    assert bob.locator("#results-heading").inner_text().startswith("0 pages")
    bob.goto(server + "/?q=tag%3Asealed-lead")
    assert bob.locator("#results-heading").inner_text().startswith("0 pages")
    assert "Sealed records" not in bob.goto(server + "/").text()
    shot(bob, "team-05-other-group-sees-nothing")

    # carol reads the restricted production but cannot write
    carol = people()
    sign_in(carol, server, "carol")
    carol.wait_for_url(server + "/")
    carol.goto(f"{server}/documents/{sealed}?page=1")
    assert "Ask for the annex" in carol.locator("ol.notes").inner_text()
    assert carol.locator("#note-form").count() == 0
    token = carol.locator("input[name=csrf]").first.input_value()
    refused = carol.request.post(
        f"{server}/documents/{sealed}/notes", form={"csrf": token, "page": "1", "body": "mine"}
    )
    assert refused.status == 403 and "may read but not write" in refused.text()

    # an expired session is refused: alice's ends (as at its expiry) and she is out
    with sqlite3.connect(archive / "workspace.sqlite") as db:
        db.execute(
            "UPDATE sessions SET expires = 0 WHERE user_id = "
            "(SELECT id FROM users WHERE name = 'alice')"
        )
    assert alice.goto(f"{server}/documents/{sealed}?page=1").status == 401
    shot(alice, "team-06-session-expired")


def test_the_tenth_wrong_password_in_a_minute_is_throttled(team_server: tuple, people) -> None:
    server, _ = team_server
    tab = people()
    for attempt in range(10):
        sign_in(tab, server, "dora", f"not the password {attempt}")
        tab.wait_for_load_state()
    message = tab.locator(".error").inner_text()
    assert "too many wrong passwords" in message
    shot(tab, "team-07-throttled")
