"""Posted forms of the web app, through FastAPI's TestClient on the real web archive: every
POST carries the token of its browser's session (CSRF) and is read within a bound; the batch
search upload; watches added, run and removed from the pages."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from foiarchive import Archive
from foiarchive.web import AccessPolicy, Served, api, create_app, pages, research
from foiarchive.web.access import COOKIE, SESSION_COOKIE

from .conftest import CREDENTIAL, RESTRICTED, SECRET_WORD, run_cli
from .test_web import form_token, sign_in

EXPIRED = "did not come from this site"


@pytest.fixture
def app(web_archive: Path, tmp_path: Path):
    return create_app(
        Served(Archive(web_archive), image_cache=tmp_path / "images"), AccessPolicy(CREDENTIAL)
    )


def post_routes() -> list[str]:
    routes = [*api.router.routes, *pages.router.routes, *research.router.routes]
    return sorted(r.path for r in routes if isinstance(r, APIRoute) and "POST" in r.methods)


def test_every_post_refuses_a_form_without_the_token_of_its_session(app) -> None:
    """Before: /login and /logout took any form from anywhere."""
    client, other = TestClient(app), TestClient(app)
    assert sign_in(client).status_code == 303
    assert sign_in(other).status_code == 303
    stolen = form_token(other, "/")  # a valid token, of another session
    assert {"/login", "/logout", "/batch", "/watches", "/watches/run"} <= set(post_routes())
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


# -- batch search ------------------------------------------------------------------------------
TERMS = f'query\ndetainer\n\n{SECRET_WORD}\n"unclosed phrase\nmemorandum OR detainer\n'


def upload(client: TestClient, data: bytes, name: str = "names.txt", **fields: str):
    form = {"csrf": form_token(client, "/batch"), "format": "table", **fields}
    return client.post("/batch", data=form, files={"terms": (name, data, "text/plain")})


def table(html: str) -> list[list[str]]:
    body = html.split('<table class="batch"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)] for r in rows]


def test_batch_upload_is_the_command_line_table(app, web_archive: Path, tmp_path: Path) -> None:
    client = TestClient(app)
    assert sign_in(client).status_code == 303
    listing = tmp_path / "names.txt"
    listing.write_bytes(TERMS.encode())
    cli = run_cli("batch-search", listing, archive=web_archive)
    assert cli.exit_code == 0, cli.output
    expected = list(csv.reader(io.StringIO(cli.stdout)))
    shown = upload(client, TERMS.encode())
    assert shown.status_code == 200, shown.text
    assert table(shown.text) == expected  # the same rows, cell for cell
    downloaded = upload(client, TERMS.encode(), format="csv")
    assert downloaded.headers["content-type"].startswith("text/csv")
    assert "attachment" in downloaded.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(downloaded.text))) == expected
    xlsx = upload(client, TERMS.encode(), format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    cells = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells == expected
    errors = [row for row in expected[1:] if row[-1]]
    assert [row[0] for row in errors] == ["5"]  # the bad line is an error row; the rest ran


def test_batch_counts_restricted_productions_only_for_a_signed_in_reader(app) -> None:
    anonymous = TestClient(app)
    rows = table(upload(anonymous, TERMS.encode()).text)
    header = rows[0]
    secret = [dict(zip(header, r, strict=True)) for r in rows[1:] if r[1] == SECRET_WORD]
    assert [(s["pages"], s["production"]) for s in secret] == [("0", "")]
    assert RESTRICTED not in upload(anonymous, TERMS.encode()).text
    signed_in = TestClient(app)
    sign_in(signed_in)
    rows = table(upload(signed_in, TERMS.encode()).text)
    secret = [dict(zip(header, r, strict=True)) for r in rows[1:] if r[1] == SECRET_WORD]
    assert [(s["pages"], s["production"]) for s in secret] == [("1", RESTRICTED)]


def test_batch_upload_bounds_and_pasted_csv(app) -> None:
    client = TestClient(app)
    many = "".join(f"term{n}\n" for n in range(research.MAX_TERMS + 1)).encode()
    refused = upload(client, many)
    assert refused.status_code == 400 and "at most 1,000 at a time" in refused.text
    big = upload(client, b"x" * (research.MAX_UPLOAD_BYTES + 1))
    assert big.status_code == 400 and "names.txt: larger than 256 kB" in big.text
    huge = upload(client, b"x" * (research.MAX_BATCH_FORM + 1))
    assert huge.status_code == 413
    binary = upload(client, b"\xff\xfe\x00junk")
    assert binary.status_code == 400 and "not UTF-8" in binary.text
    # the table's download buttons post the list back as text with its file name: a CSV's
    # first column, with its line numbers
    form = {"csrf": form_token(client, "/batch"), "format": "csv"}
    pasted = client.post(
        "/batch", data={**form, "text": 'name,note\n\n"detainer",x\n', "name": "../people.csv"}
    )
    rows = list(csv.reader(io.StringIO(pasted.text)))
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", "detainer")]


# -- watches -----------------------------------------------------------------------------------
def _release(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


INGEST = ("ingest", "--ocr", "never", "--jobs", "1", "--quiet")


def test_watch_a_search_then_run_it_for_what_a_release_adds(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    first = _release(tmp_path / "r1", {"a.txt": "The detainer policy memo.\n"})
    assert run_cli(*INGEST, first, "--id", "ice-r1", archive=archive).exit_code == 0

    def client() -> TestClient:
        served = Served(Archive(archive), backend="tantivy", image_cache=tmp_path / "images")
        return TestClient(create_app(served, AccessPolicy(CREDENTIAL)))

    reader_only = client()
    results = reader_only.get("/", params={"q": '"detainer policy"'}).text
    assert "Watch this search" not in results and "to watch this search" in results
    token = form_token(reader_only)
    data = {"csrf": token, "name": "dp", "q": '"detainer policy"'}
    refused = reader_only.post("/watches", data=data)
    assert refused.status_code == 403 and "sign in" in refused.text
    assert "dp" not in reader_only.get("/watches").text

    researcher = client()
    assert sign_in(researcher).status_code == 303
    results = researcher.get("/", params={"q": '"detainer policy"', "filter": "production:ice-r1"})
    assert "Watch this search" in results.text
    data = {"csrf": form_token(researcher), "name": "dp", "q": '"detainer policy"'}
    added = researcher.post("/watches", data={**data, "filter": "production:ice-r1"})
    assert added.status_code == 200 and "Watching “dp”" in added.text
    again = researcher.post("/watches", data=data)
    assert again.status_code == 400 and "a watch named &#39;dp&#39; exists" in again.text
    bad = researcher.post("/watches", data={**data, "name": "bad", "q": '"unclosed'})
    assert bad.status_code == 400
    researcher.post("/watches", data={**data, "name": "any", "filter": []})
    ran = researcher.post("/watches/run", data={"csrf": data["csrf"]})
    assert ran.text.count("nothing new") == 2  # what it matched when added counts as seen

    # A release whose ingest could not run the watches (its report's watch_warning): the
    # page catches up, as `foiarchive watch run` does.
    second = _release(tmp_path / "r2", {"c.txt": "A new detainer policy for counties.\n"})
    aside = tmp_path / "workspace.sqlite"
    (archive / "workspace.sqlite").rename(aside)
    assert run_cli(*INGEST, second, "--id", "ice-r2", archive=archive).exit_code == 0
    aside.rename(archive / "workspace.sqlite")
    researcher = client()
    sign_in(researcher)
    token = form_token(researcher, "/watches")
    ran = researcher.post("/watches/run", data={"csrf": token, "name": "any"})
    assert "watch &#39;any&#39;: 1 new page in ice-r2" in ran.text
    assert re.search(
        r'href="/documents/[^"]+\?page=1&amp;q=%22detainer%20policy%22">p. 1', ran.text
    )
    assert "c.txt" in ran.text and "a.txt" not in ran.text
    ran = researcher.post("/watches/run", data={"csrf": token})
    assert "dp: nothing new" in ran.text  # narrowed to ice-r1
    assert "any: nothing new" in ran.text  # remembered
    cli = run_cli("watch", "list", "--format", "json", archive=archive)
    assert [w["name"] for w in json.loads(cli.stdout)] == ["any", "dp"]
    gone = researcher.post("/watches/remove", data={"csrf": token, "name": "dp"})
    assert gone.status_code == 200 and ">dp<" not in gone.text
    assert (
        "no watch named"
        in researcher.post("/watches/remove", data={"csrf": token, "name": "dp"}).text
    )
