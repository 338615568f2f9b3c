"""The team workspace: accounts, groups and grants, sessions and throttling (index.team), notes,
tags, stars and their searches on both backends (index.marks), the move of a team's work
between archives, and the web app with accounts (FastAPI's TestClient on a real archive)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from foiarchive import Archive
from foiarchive.index.marks import Marks
from foiarchive.index.query import QueryError
from foiarchive.index.search import SearchRequest, search
from foiarchive.index.team import (
    ANONYMOUS,
    OWNER,
    THROTTLE_FAILURES,
    Forbidden,
    Team,
    TeamError,
    Throttled,
    Viewer,
)
from foiarchive.index.workspace_transfer import export_workspace, import_workspace
from foiarchive.web import AccessPolicy, Served, api, create_app, pages, team

from .conftest import RESTRICTED, SECRET_WORD, on_backend, password_of, run_cli, run_json

MEMO = "scans/ERO memos 2017 (scanned).pdf"


def document_id(archive: Path, path: str, production: str = "ice-2017-r1") -> str:
    with Archive(archive).catalog() as catalog:
        return next(d.id for d in catalog.documents(production) if d.path == path)


def viewer_of(archive: Path, name: str) -> Viewer:
    with Archive(archive).workspace() as workspace:
        team_ = Team(workspace)
        return team_.viewer(team_.existing_user(name))


# -- accounts, sessions, throttling ------------------------------------------------------------
def test_passwords_are_argon2_and_tokens_and_sessions_kept_as_digests(
    team_archive: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    with Archive(archive).workspace() as workspace:
        team_ = Team(workspace)
        token = team_.new_token("alice", "laptop")
        session = team_.start_session(team_.existing_user("alice"), 3600, time.time())
        assert getattr(team_.token_user(token), "name", None) == "alice"
    raw = (archive / "workspace.sqlite").read_bytes()
    assert token.encode() not in raw and session.encode() not in raw
    assert password_of("alice").encode() not in raw
    with sqlite3.connect(archive / "workspace.sqlite") as db:
        hashes = [row[0] for row in db.execute("SELECT password FROM users")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_the_tenth_wrong_password_in_a_minute_is_throttled_unheard(
    team_archive: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    with Archive(archive).workspace() as workspace:
        team_ = Team(workspace)
        now = time.time()
        for attempt in range(THROTTLE_FAILURES):
            with pytest.raises(TeamError) as wrong:
                team_.check_password("alice", f"wrong password {attempt}", "10.0.0.1", now)
            assert not isinstance(wrong.value, Throttled)
        with pytest.raises(Throttled):  # even the right password: it is not checked at all
            team_.check_password("alice", password_of("alice"), "10.0.0.2", now + 1)
        with pytest.raises(Throttled):  # and the address that tried is throttled for others
            team_.check_password("bob", password_of("bob"), "10.0.0.1", now + 1)
        later = now + 61  # a minute on, both are heard again
        assert (
            team_.check_password("alice", password_of("alice"), "10.0.0.1", later).name == "alice"
        )


def test_concurrent_wrong_passwords_are_never_verified_past_the_limit(
    team_archive: Path, tmp_path: Path
) -> None:
    """Each attempt is counted in the write that checks the count, before Argon2 runs: 24
    sign-ins at once (each on its own connection, as server threads are) get at most
    THROTTLE_FAILURES verifications; the rest are refused unheard."""
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    tries = 24
    start = threading.Barrier(tries)

    def attempt(number: int) -> str:
        with Archive(archive).workspace() as workspace:
            team_ = Team(workspace)
            start.wait()
            try:
                team_.check_password("alice", f"wrong {number}", f"10.1.0.{number}", time.time())
            except Throttled:
                return "throttled"
            except TeamError:
                return "verified"
        return "signed in"

    with ThreadPoolExecutor(tries) as pool:
        outcomes = list(pool.map(attempt, range(tries)))
    assert outcomes.count("verified") == THROTTLE_FAILURES, outcomes
    assert outcomes.count("throttled") == tries - THROTTLE_FAILURES


def test_an_ipv6_address_is_throttled_by_its_64_block(team_archive: Path, tmp_path: Path) -> None:
    """A host given a /64 has 2**64 addresses to try from: counted one by one, it is never
    throttled; counted by the block, the tenth try is, and the next block is heard."""
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    with Archive(archive).workspace() as workspace:
        team_ = Team(workspace)
        now = time.time()
        for attempt in range(THROTTLE_FAILURES):
            with pytest.raises(TeamError) as wrong:
                team_.check_password(
                    f"guess{attempt}", "some password", f"2001:db8::{attempt}", now
                )
            assert not isinstance(wrong.value, Throttled)
        with pytest.raises(Throttled):
            team_.check_password("alice", password_of("alice"), "2001:db8::beef:1", now)
        assert team_.check_password("alice", password_of("alice"), "2001:db8:0:1::1", now)


def test_a_disabled_account_is_refused_as_slowly_as_a_wrong_password(
    team_archive: Path, tmp_path: Path
) -> None:
    """Both run one Argon2 verification (tens of ms), so the time does not tell a disabled
    account from a live one; refused unverified, it answered in about a millisecond."""
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)

    def fastest(name: str, password: str) -> float:
        times = []
        for attempt in range(3):
            began = time.perf_counter()
            with pytest.raises(TeamError):
                team_.check_password(name, password, f"10.2.0.{attempt}", time.time())
            times.append(time.perf_counter() - began)
        return min(times)

    with Archive(archive).workspace() as workspace:
        team_ = Team(workspace)
        team_.set_disabled("bob")
        wrong = fastest("alice", "not alice's password")
        disabled = fastest("bob", password_of("bob"))
    assert disabled > wrong / 2, (disabled, wrong)


def test_sessions_end_at_expiry_when_idle_and_when_the_password_changes(
    team_archive: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    with Archive(archive).workspace() as workspace:
        team_ = Team(workspace)
        alice = team_.existing_user("alice")
        now = time.time()
        session = team_.start_session(alice, lifetime=100, now=now)
        assert team_.session_user(session, idle=50, now=now + 40) is not None
        assert team_.session_user(session, idle=50, now=now + 40 + 51) is None  # idle
        assert team_.session_user(session, idle=1000, now=now + 101) is None  # expired
        fresh = team_.start_session(alice, lifetime=100, now=now)
        team_.set_password("alice", "a brand new password")
        assert team_.session_user(fresh, idle=1000, now=now + 1) is None
        disabled = team_.start_session(team_.existing_user("bob"), lifetime=100, now=now)
        token = team_.new_token("bob")
        team_.set_disabled("bob")
        assert team_.session_user(disabled, idle=1000, now=now + 1) is None
        assert team_.token_user(token) is None


def test_a_viewer_reads_only_the_restricted_productions_its_groups_were_granted(
    team_archive: Path,
) -> None:
    restricted = frozenset({RESTRICTED, "other-sealed"})
    assert viewer_of(team_archive, "alice").hidden(restricted) == {"other-sealed"}
    assert viewer_of(team_archive, "bob").hidden(restricted) == restricted
    assert ANONYMOUS.hidden(restricted) == restricted
    assert OWNER.hidden(restricted) == frozenset()


# -- notes, tags, stars and their searches ------------------------------------------------------
def test_notes_are_seen_by_the_groups_chosen_and_changed_by_their_author(
    team_archive: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    memo = document_id(archive, MEMO)
    alice, bob, carol, dora = (viewer_of(archive, n) for n in ("alice", "bob", "carol", "dora"))
    with Archive(archive).workspace() as workspace:
        marks = Marks(workspace)
        shared = marks.add_note(alice, memo, 1, "Ask for the annex", groups=["newsroom"])
        private = marks.add_note(alice, memo, 1, "my own reminder", box=(0.1, 0.2, 0.5, 0.3))
        assert [n.body for n in marks.notes(carol, memo, 1)] == ["Ask for the annex"]
        assert marks.notes(bob, memo) == []
        assert marks.notes(alice, memo, 1)[1].box == (0.1, 0.2, 0.5, 0.3)
        with pytest.raises(Forbidden):
            marks.add_note(carol, memo, 1, "readers read")
        with pytest.raises(Forbidden):
            marks.add_note(bob, memo, 1, "into their group", groups=["newsroom"])
        with pytest.raises(Forbidden):
            marks.edit_note(dora, shared.id, "an archivist does not rewrite")
        marks.edit_note(alice, shared.id, "Ask for the annex and the cover letter")
        marks.remove_note(dora, shared.id)  # but removes any
        assert [n.id for n in marks.notes(alice, memo)] == [private.id]
        with pytest.raises(TeamError):
            marks.add_note(alice, memo, 1, "off the page", box=(0.5, 0.5, 1.2, 0.6))


@pytest.mark.parametrize("backend_name", ["tantivy", "elasticsearch"], indirect=True)
def test_tag_note_and_starred_combine_with_every_other_term_on_both_backends(
    request: pytest.FixtureRequest, backend_name: str, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"  # the workspace is this test's; the index is shared
    shutil.copytree(on_backend(request, backend_name, "team_archive"), archive)
    memo, letter = document_id(archive, MEMO), document_id(archive, "final-response-letter.pdf")
    alice, bob = viewer_of(archive, "alice"), viewer_of(archive, "bob")
    tag = f"timeline-{backend_name}"
    with Archive(archive).workspace() as workspace:
        marks = Marks(workspace)
        marks.tag(alice, memo, "newsroom", tag)
        marks.tag(alice, letter, "newsroom", tag)
        marks.add_note(
            alice, memo, 2, f"Secure Communities rollout {backend_name}", groups=["newsroom"]
        )
        marks.star(alice, letter)
        with (
            Archive(archive).catalog(read_only=True) as catalog,
            Archive(archive).backend(backend_name) as backend,
        ):

            def documents(query: str, who: Viewer) -> set[str]:
                wanted = SearchRequest(
                    query,
                    limit=100,
                    marks=lambda mark: marks.keys(who, mark),
                )
                return {hit.document for hit in search(catalog, backend, wanted).hits}

            def pages(query: str, who: Viewer) -> set[tuple[str, int]]:
                wanted = SearchRequest(query, limit=100, marks=lambda m: marks.keys(who, m))
                return {(h.document, h.page) for h in search(catalog, backend, wanted).hits}

            assert documents(f"tag:{tag}", alice) == {memo, letter}
            assert documents(f"tag:{tag.upper()}", alice) == {memo, letter}  # case folded
            assert documents(f"tag:{tag}", bob) == set()  # another group's tag
            assert documents(f"tag:{tag} AND starred:true", alice) == {letter}
            assert documents(f"tag:{tag} -starred:true", alice) == {memo}
            assert pages(f'note:"communities rollout {backend_name}"', alice) == {(memo, 2)}
            assert pages(f'note:"rollout communities {backend_name}"', alice) == set()
            assert pages(f'note:"communities rollout {backend_name}"', bob) == set()
            detainer = documents("detainer", alice)
            assert documents(f"detainer AND tag:{tag}", alice) == detainer & {memo, letter}
            assert documents(f"detainer OR tag:{tag}", alice) >= {memo, letter}
            assert documents("starred:true", bob) == set()


def test_a_mark_search_without_a_workspace_is_a_query_error(sample_archive: Path) -> None:
    with (
        Archive(sample_archive).catalog() as catalog,
        Archive(sample_archive).backend() as engine,
        pytest.raises(QueryError, match="tag: searches what a team keeps"),
    ):
        search(catalog, engine, SearchRequest("detainer tag:timeline"))


def test_search_at_the_command_line_as_an_account(team_archive: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    memo = document_id(archive, MEMO)
    with Archive(archive).workspace() as workspace:
        Marks(workspace).tag(viewer_of(archive, "bob"), memo, "clinic", "clinic-only")
        Marks(workspace).star(viewer_of(archive, "alice"), memo)

    def documents(*args: str) -> set[str]:
        return {
            hit["document"]
            for hit in run_json("search", *args, "--format", "json", archive=archive)["hits"]
        }

    assert documents("tag:clinic-only") == {memo}  # the owner sees every group's tags
    assert documents("tag:clinic-only", "--as", "bob") == {memo}
    assert documents("tag:clinic-only", "--as", "alice") == set()
    assert documents("starred:true", "--as", "alice") == {memo}
    assert documents(SECRET_WORD) and not documents(SECRET_WORD, "--as", "bob")
    unknown = run_cli("search", "x", "--as", "nobody", archive=archive)
    assert unknown.exit_code != 0 and "no account named 'nobody'" in unknown.output


def test_export_hits_carries_the_tags_and_notes(team_archive: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    memo = document_id(archive, MEMO)
    with Archive(archive).workspace() as workspace:
        marks = Marks(workspace)
        alice = viewer_of(archive, "alice")
        marks.tag(alice, memo, "newsroom", "follow up")
        marks.add_note(alice, memo, 1, "see the annex", groups=["newsroom"])
    result = run_cli(
        "export-hits", 'tag:follow-up OR tag:"follow up"', "--format", "jsonl", archive=archive
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and {r["document"] for r in rows} == {memo}
    assert all(r["tags"] == "follow up" and r["notes"] == 1 for r in rows)


def test_a_teams_work_moves_with_the_archive(team_archive: Path, tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(team_archive, source)
    memo = document_id(source, MEMO)
    with Archive(source).workspace() as workspace:
        marks = Marks(workspace)
        alice = viewer_of(source, "alice")
        marks.add_note(alice, memo, 3, "boxed", box=(0.1, 0.1, 0.2, 0.2), groups=["newsroom"])
        marks.tag(alice, memo, "newsroom", "moved")
        marks.star(alice, memo)
    exported = tmp_path / "team.json"
    assert run_cli("workspace", "export", "-o", exported, archive=source).exit_code == 0
    target = tmp_path / "target"
    shutil.copytree(team_archive, target)
    (target / "workspace.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (target / f"workspace.sqlite{suffix}").unlink(missing_ok=True)
    first = run_cli("workspace", "import", exported, archive=target)
    assert first.exit_code == 0 and "4 users" in first.output, first.output
    again = run_cli("workspace", "import", exported, archive=target)
    assert "0 users, 0 groups, 0 notes, 0 tags, 0 stars" in again.output  # merged, not doubled
    with Archive(target).workspace() as workspace:
        assert export_workspace(workspace) == json.loads(exported.read_text("utf-8"))
        team_ = Team(workspace)  # the password hash moved: alice signs in on the new archive
        assert team_.check_password("alice", password_of("alice"), "x", time.time())
        with pytest.raises(TeamError, match="not a workspace export"):
            import_workspace(workspace, {"users": []})


# -- the command line ---------------------------------------------------------------------------
def test_users_groups_and_access_at_the_command_line(team_archive: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner, Result

    from foiarchive.search_cli.main import cli

    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    runner = CliRunner()

    def run(*args: str, stdin: str = "") -> Result:
        return runner.invoke(cli, ["--archive", str(archive), *args], input=stdin)

    added = run(
        "users",
        "add",
        "erin",
        "--role",
        "annotator",
        "--password-stdin",
        stdin="erin's long secret\n",
    )
    assert added.exit_code == 0, added.output
    short = run("users", "add", "frank", "--password-stdin", stdin="short\n")
    assert short.exit_code != 0 and "10 to 1024 characters" in short.output
    assert run("groups", "add", "desk", "erin").exit_code == 0
    unknown = run("access", "grant", "desk", "no-such-production")
    assert unknown.exit_code != 0 and "no production 'no-such-production'" in unknown.output
    assert run("access", "grant", "desk", RESTRICTED).exit_code == 0
    listed = json.loads(run("access", "list", "--format", "json").output)
    assert {"group": "desk", "production": RESTRICTED} in listed
    users = json.loads(run("users", "list", "--format", "json").output)
    assert {u["name"]: u["groups"] for u in users}["erin"] == ["desk"]
    token = run("users", "token", "erin").output.strip()
    assert token.startswith("fa_")
    assert run("users", "disable", "erin").exit_code == 0
    assert run("access", "revoke", "desk", RESTRICTED).exit_code == 0
    again = run("access", "revoke", "desk", RESTRICTED)
    assert again.exit_code != 0 and "was not granted" in again.output


# -- the web app with accounts ------------------------------------------------------------------
def team_client(archive: Path, tmp_path: Path, **policy: object) -> TestClient:
    served = Served(Archive(archive), image_cache=tmp_path / "images")
    return TestClient(create_app(served, AccessPolicy(**policy)))


def form_token(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get(path).text)
    assert match, path
    return match[1]


def sign_in(client: TestClient, name: str, password: str | None = None) -> Any:
    data = {"name": name, "password": password or password_of(name), "csrf": form_token(client)}
    return client.post("/login", data=data, follow_redirects=False)


@pytest.fixture
def web_team(team_archive: Path, tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(team_archive, archive)
    return archive


def test_two_groups_one_sees_and_annotates_the_other_sees_nothing_by_any_route(
    web_team: Path, tmp_path: Path
) -> None:
    alice, bob = team_client(web_team, tmp_path), team_client(web_team, tmp_path)
    assert sign_in(alice, "alice").status_code == 303
    assert sign_in(bob, "bob").status_code == 303
    sealed = document_id(web_team, "sealed-memo.txt", RESTRICTED)
    page = alice.get(f"/documents/{sealed}")
    assert page.status_code == 200 and SECRET_WORD in page.text
    token = form_token(alice, f"/documents/{sealed}")
    data = {"csrf": token, "page": "1", "body": "zanzibarite lead", "groups": "newsroom"}
    assert alice.post(f"/documents/{sealed}/notes", data=data).status_code == 200
    tag = {"csrf": token, "page": "1", "tag": "sealed-lead", "group": "newsroom"}
    assert alice.post(f"/documents/{sealed}/tags", data=tag).status_code == 200
    found = alice.get("/api/search", params={"q": "tag:sealed-lead"}).json()
    assert {h["document"] for h in found["hits"]} == {sealed}
    assert alice.get("/", params={"q": 'note:"zanzibarite lead"'}).text.count("data-marks") == 1

    with Archive(web_team).workspace() as workspace:
        bob_token = Team(workspace).new_token("bob")
    targets = [sealed, document_id(web_team, MEMO, RESTRICTED)]
    routes = [*api.router.routes, *team.api.routes, *pages.router.routes]
    checked = 0
    for route in routes:
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        query_names = {p.name for p in route.dependant.query_params}
        names_something = bool(route.dependant.path_params) or "old" in query_names
        for target in targets:
            path = route.path.format(document_id=target, production_id=RESTRICTED, number=1)
            params = (
                {"q": "memorandum OR detainer OR tag:sealed-lead"} if "q" in query_names else {}
            )
            if "old" in query_names:
                params.update(old="ice-2017-r1", new=RESTRICTED)
            for client, headers in (
                (bob, {}),
                (TestClient(bob.app), {"Authorization": f"Bearer {bob_token}"}),
            ):
                response = client.get(path, params=params, headers=headers)
                for secret in (SECRET_WORD, "Sealed records"):  # the note holds the word too
                    assert secret not in response.text, (path, secret)
                if names_something:
                    assert response.status_code == 404, (path, response.status_code)
                else:
                    assert response.status_code == 200, (path, response.text[:200])
                    assert RESTRICTED not in response.text, path
                checked += 1
    assert checked >= 4 * 14
    assert bob.get("/api/search", params={"q": SECRET_WORD}).json()["total"] == 0
    assert alice.get("/api/search", params={"q": SECRET_WORD}).json()["total"] >= 1
    log = json.loads(run_cli("access", "log", "--format", "json", archive=web_team).stdout)
    assert {(line["user"], line["document"]) for line in log} == {("alice", sealed)}


def test_nothing_is_readable_before_signing_in_unless_public(
    web_team: Path, tmp_path: Path
) -> None:
    closed = team_client(web_team, tmp_path)
    for path in ("/", "/api/productions", "/api/search?q=detainer", "/watches"):
        response = closed.get(path)
        assert response.status_code == 401, path
    assert closed.get("/login").status_code == 200
    open_ = team_client(web_team, tmp_path, public=True)
    listed = open_.get("/api/productions").json()
    assert listed and RESTRICTED not in {p["id"] for p in listed}
    assert open_.get("/api/me").json()["user"] is None


def test_a_reader_cannot_write_and_a_form_without_its_token_is_refused(
    web_team: Path, tmp_path: Path
) -> None:
    memo = document_id(web_team, MEMO)
    carol = team_client(web_team, tmp_path)
    sign_in(carol, "carol")
    viewer_page = carol.get(f"/documents/{memo}").text
    assert 'id="note-form"' not in viewer_page  # nothing offered...
    token = form_token(carol, f"/documents/{memo}")
    refused = carol.post(f"/documents/{memo}/notes", data={"csrf": token, "page": "1", "body": "x"})
    assert refused.status_code == 403 and "may read but not write" in refused.text  # ...nor taken
    with Archive(web_team).workspace() as workspace:
        carol_token = Team(workspace).new_token("carol")
        alice_token = Team(workspace).new_token("alice")
    api_refused = carol.post(
        f"/api/documents/{memo}/notes",
        json={"page": 1, "body": "x"},
        headers={"Authorization": f"Bearer {carol_token}"},
    )
    assert api_refused.status_code == 403
    alice = team_client(web_team, tmp_path)
    sign_in(alice, "alice")
    no_token = alice.post(f"/documents/{memo}/notes", data={"page": "1", "body": "forged"})
    assert no_token.status_code == 403 and "expired or did not come from this site" in no_token.text
    by_cookie = alice.post(f"/api/documents/{memo}/notes", json={"page": 1, "body": "forged"})
    assert by_cookie.status_code == 401  # the API writes with a token only, never a cookie
    for empty in ("Bearer ", "Bearer", "bearer   ", "Bearer not-a-token"):  # nor with a blank
        blank = alice.post(
            f"/api/documents/{memo}/notes",
            json={"page": 1, "body": "forged"},
            headers={"Authorization": empty},
        )
        assert blank.status_code == 401, (empty, blank.status_code)
    by_token = alice.post(
        f"/api/documents/{memo}/notes",
        json={"page": 1, "body": "by token", "box": [0.1, 0.1, 0.4, 0.2], "groups": ["newsroom"]},
        headers={"Authorization": f"Bearer {alice_token}"},
    )
    assert by_token.status_code == 201, by_token.text
    assert "forged" not in carol.get(f"/api/documents/{memo}/marks").text
    assert "by token" in carol.get(f"/api/documents/{memo}/marks").text


def test_an_expired_session_is_refused_and_logout_ends_it_on_the_server(
    web_team: Path, tmp_path: Path
) -> None:
    client = team_client(web_team, tmp_path, idle_seconds=1.0)
    sign_in(client, "alice")
    assert client.get("/api/me").json()["user"] == "alice"
    time.sleep(1.5)
    assert client.get("/api/me").json()["user"] is None  # idle too long
    assert client.get("/").status_code == 401
    fresh = team_client(web_team, tmp_path)
    sign_in(fresh, "alice")
    cookie = fresh.cookies.get("foiarchive_access")
    ended = fresh.post("/logout", data={"csrf": form_token(fresh, "/")}, follow_redirects=False)
    assert ended.status_code == 303
    replayed = TestClient(fresh.app, cookies={"foiarchive_access": cookie})
    assert replayed.get("/api/me").json()["user"] is None


def test_the_tenth_wrong_password_is_answered_429_over_the_web(
    web_team: Path, tmp_path: Path
) -> None:
    client = team_client(web_team, tmp_path)
    codes = [sign_in(client, "dora", f"wrong guess {i}").status_code for i in range(10)]
    assert codes == [403] * 9 + [429]
    assert sign_in(client, "dora").status_code == 429


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(
    web_team: Path, tmp_path: Path
) -> None:
    served = Served(Archive(web_team), image_cache=tmp_path / "images")
    client = TestClient(create_app(served, AccessPolicy()), base_url="https://testserver")
    response = sign_in(client, "alice")
    assert response.status_code == 303
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "access" in v
    ).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    plain = team_client(web_team, tmp_path)
    cookie = next(
        v for k, v in sign_in(plain, "alice").headers.multi_items() if "foiarchive_access" in v
    ).lower()
    assert "httponly" in cookie and "secure" not in cookie


def test_a_session_opened_in_one_server_process_holds_in_the_others(
    web_team: Path, tmp_path: Path
) -> None:
    """`foiarchive serve --workers 2`: sessions live in the workspace, so whichever process
    answers knows the sign-in; a personal token works the same."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    from .test_web import serving

    with Archive(web_team).workspace() as workspace:
        token = Team(workspace).new_token("carol")
    with serving(web_team, tmp_path / "cache", "2") as base:
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with browser.open(f"{base}/login") as response:
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', response.read().decode())
        assert csrf
        form = {"name": "alice", "password": password_of("alice"), "csrf": csrf[1]}
        browser.open(f"{base}/login", data=urllib.parse.urlencode(form).encode()).close()
        for _ in range(8):  # connections spread over both processes
            with browser.open(f"{base}/api/me") as response:
                assert json.loads(response.read())["user"] == "alice"
        request = urllib.request.Request(
            f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request) as response:
            assert json.loads(response.read())["user"] == "carol"


def test_searching_an_archive_without_a_workspace_does_not_make_one(
    sample_archive: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(sample_archive, archive)
    for leftover in archive.glob("workspace.sqlite*"):
        leftover.unlink()
    found = run_json("search", "detainer OR tag:anything", "--format", "json", archive=archive)
    assert found["total"] >= 1
    assert not list(archive.glob("workspace.sqlite*"))


def test_a_workspace_of_the_previous_version_keeps_its_watches(tmp_path: Path) -> None:
    from foiarchive.index.workspace import SCHEMA_VERSION, Workspace
    from foiarchive.index.workspace_schema import MIGRATIONS

    path = tmp_path / "workspace.sqlite"
    with sqlite3.connect(path) as db:  # as the version before the team left it
        db.executescript(MIGRATIONS[0])
        db.execute(
            "INSERT INTO watches (name, query, created_at) VALUES ('dp', 'detainer', 'then')"
        )
        db.execute("PRAGMA user_version = 1")
    db.close()
    with Workspace(path) as workspace:
        assert [w.name for w in workspace.watches()] == ["dp"]
        assert workspace.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert not Team(workspace).has_accounts()


# -- watches belong to the account that made them ----------------------------------------------
def test_watches_are_their_owners_and_a_restricted_filter_is_refused(
    web_team: Path, tmp_path: Path
) -> None:
    assert run_cli("watch", "add", "cli wide", "detainer", archive=web_team).exit_code == 0
    alice, bob, dora = (team_client(web_team, tmp_path) for _ in range(3))
    for client, name in ((alice, "alice"), (bob, "bob"), (dora, "dora")):
        assert sign_in(client, name).status_code == 303
    secret = {"name": "sealed watch", "q": "zanzibarite", "filter": f"production:{RESTRICTED}"}
    added = alice.post("/watches", data={**secret, "csrf": form_token(alice, "/watches")})
    assert added.status_code == 200 and "Watching" in added.text

    def last_run() -> str:
        with Archive(web_team).workspace() as workspace:
            return next(w.last_run for w in workspace.watches() if w.name == "sealed watch")

    when_added = last_run()
    time.sleep(1.1)  # last_run is kept to the second
    token = form_token(bob, "/watches")
    refused = bob.post("/watches", data={**secret, "name": "peek", "csrf": token})
    assert refused.status_code == 400 and "production:" in refused.text
    listed = bob.get("/watches").text
    for hidden in ("sealed watch", "zanzibarite", RESTRICTED, "cli wide", "peek"):
        assert hidden not in listed, hidden
    for action in ("/watches/run", "/watches/remove"):  # another's watch is not there to touch
        answer = bob.post(action, data={"csrf": token, "name": "sealed watch"})
        assert answer.status_code == 400 and "no watch named" in answer.text
    ran_all = bob.post("/watches/run", data={"csrf": token}).text
    assert "sealed watch" not in ran_all and "cli wide" not in ran_all
    assert last_run() == when_added  # bob's "run all" did not consume alice's new pages
    assert "sealed watch" in alice.get("/watches").text
    assert "cli wide" not in alice.get("/watches").text  # archive-wide: archivists only
    curator = dora.get("/watches").text
    assert "sealed watch" in curator and "cli wide" in curator
    public = team_client(web_team, tmp_path, public=True).get("/watches")
    assert public.status_code == 200 and "sealed watch" not in public.text
    assert "cli wide" not in public.text
    cli = json.loads(run_cli("watch", "list", "--format", "json", archive=web_team).stdout)
    assert {w["name"] for w in cli} == {"cli wide", "sealed watch"}  # the owner sees them all


def test_a_note_number_too_big_for_sqlite_is_refused_not_a_server_error(
    web_team: Path, tmp_path: Path
) -> None:
    alice = team_client(web_team, tmp_path)
    sign_in(alice, "alice")
    token = form_token(alice, "/")
    for action in ("edit", "remove"):
        for number in (2**63, 0):
            answer = alice.post(f"/notes/{number}/{action}", data={"csrf": token, "body": "x"})
            assert answer.status_code == 400, (action, number, answer.status_code)


def test_a_tag_waiting_on_the_workspace_lock_does_not_hold_up_other_requests(
    web_team: Path, tmp_path: Path
) -> None:
    """The workspace waits up to 60 s for a lock: a tag or star written on the event loop
    stopped every request of the process meanwhile (one loop, as uvicorn runs)."""
    memo = document_id(web_team, MEMO)
    with team_client(web_team, tmp_path) as alice:  # one event loop for every request
        sign_in(alice, "alice")
        token = form_token(alice, f"/documents/{memo}")
        locker = sqlite3.connect(web_team / "workspace.sqlite", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        tag = {"csrf": token, "page": "1", "tag": "waits", "group": "newsroom"}
        with ThreadPoolExecutor(2) as pool:
            waiting = [
                pool.submit(alice.post, f"/documents/{memo}/tags", data=tag),
                pool.submit(alice.post, f"/documents/{memo}/star", data={"csrf": token, "on": "1"}),
            ]
            time.sleep(0.5)
            began = time.perf_counter()
            assert alice.get("/api/me").json()["user"] == "alice"
            answered = time.perf_counter() - began
            locker.execute("COMMIT")
            locker.close()
            assert [f.result().status_code for f in waiting] == [200, 200]
        assert answered < 1.0, answered


def test_a_mistyped_archive_gets_an_error_not_a_workspace_of_its_own(tmp_path: Path) -> None:
    nowhere = tmp_path / "no-such-archive"
    for command in (["users", "list"], ["groups", "list"], ["workspace", "export"]):
        result = run_cli(*command, archive=nowhere)
        assert result.exit_code != 0
        assert "no foiarchive archive here" in result.output
    assert not nowhere.exists()
