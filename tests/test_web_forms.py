"""Posted forms of the web app, through FastAPI's TestClient on the real web archive: every
POST carries the token of its browser's session (CSRF) and is read within a bound; the batch
search upload; watches added, run and removed from the pages."""

from __future__ import annotations

import csv
import io
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
