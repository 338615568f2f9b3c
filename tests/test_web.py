"""The web app, in process: real archive, real Tantivy index or Elasticsearch server, real page
rendering; HTTP through FastAPI's TestClient.

The access test walks every route of web.api and web.pages (checked against the OpenAPI
description), so a route added later is checked too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pytesseract
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image

from foiarchive import Archive
from foiarchive.index import CatalogError
from foiarchive.index.search import SearchRequest
from foiarchive.index.team import ANONYMOUS
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.preservation.layout import contained_file
from foiarchive.schemas import Production
from foiarchive.web import AccessPolicy, Served, api, create_app, pages, team
from foiarchive.web.access import SESSION_SECONDS

from .conftest import CREDENTIAL, RESTRICTED, SECRET_WORD, run_cli, run_json

MEMO = "scans/ERO memos 2017 (scanned).pdf"
LETTER = "final-response-letter.pdf"


def client_for(archive: Path, tmp_path: Path, backend: str = "tantivy") -> TestClient:
    app = create_app(
        Served(Archive(archive), backend=backend, image_cache=tmp_path / "images"),
        AccessPolicy(CREDENTIAL),
    )
    return TestClient(app)


def form_token(client: TestClient, path: str = "/login") -> str:
    """The form token a page gives this client's session, as a browser would read it."""
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get(path).text)
    assert match, path
    return match[1]


def sign_in(client: TestClient) -> object:
    data = {"credential": CREDENTIAL, "csrf": form_token(client)}
    return client.post("/login", data=data, follow_redirects=False)


@pytest.fixture
def client(served_archive: Path, backend_name: str, tmp_path: Path) -> TestClient:
    return client_for(served_archive, tmp_path, backend_name)


@pytest.fixture
def tantivy_client(web_archive: Path, tmp_path: Path) -> TestClient:
    return client_for(web_archive, tmp_path)


def document_id(archive: Path, path: str, production: str = "ice-2017-r1") -> str:
    with Archive(archive).catalog() as catalog:
        return next(d.id for d in catalog.documents(production) if d.path == path)


BEARER = {"Authorization": f"Bearer {CREDENTIAL}"}


# -- search ----------------------------------------------------------------------------------
def test_search_page_groups_by_document_with_pages_and_bates(client: TestClient) -> None:
    response = client.get("/", params={"q": "detainer"})
    assert response.status_code == 200
    html = response.text
    assert "2 pages in 2 documents" in html
    assert "p. 2 · ICE-2017-000002" in html  # the memo's page and its Bates number
    assert "<mark>detainer</mark>" in html
    for facet in ("Agency", "Production", "Exemption", "Release year", "Media type"):
        assert f"<h3>{facet}</h3>" in html


def test_clicking_a_facet_narrows_and_the_url_reproduces_it(client: TestClient) -> None:
    html = client.get("/", params={"q": "detainer"}).text
    link = re.search(r'href="(/\?q=detainer&amp;filter=type%3Aimage%2Fjpeg)"', html)
    assert link, "the media type facet offers image/jpeg"
    narrowed = client.get(link.group(1).replace("&amp;", "&"))
    assert "1 page in 1 document" in narrowed.text
    assert "detainer-form.jpg" in narrowed.text and MEMO not in narrowed.text
    assert 'aria-label="Remove filter Media type: image/jpeg"' in narrowed.text


def test_api_search_is_the_cli_json(client: TestClient, served_archive: Path) -> None:
    """With the credential the API sees what the archivist's command line sees."""
    cli = run_json(
        "search", "detainer* OR deportation", "--by-document", "--facets", archive=served_archive
    )
    api = client.get(
        "/api/search",
        params={
            "q": "detainer* OR deportation",
            "by_document": "true",
            "facet": ["agency", "production", "exemption", "year", "type"],
        },
        headers=BEARER,
    ).json()
    assert api == cli
    assert api["total"] > 0


def test_search_pages_through_documents(client: TestClient) -> None:
    query = {"q": "ice OR sealed OR county", "per_page": "10"}
    grouped = client.get(
        "/api/search", params={"q": query["q"], "by_document": "true", "limit": 100}, headers=BEARER
    ).json()
    total = grouped["total_documents"]
    assert total > 10, total  # both productions: more than one page of ten
    first = client.get("/", params=query, headers=BEARER).text
    assert f"Page 1 of {-(-total // 10)}" in first
    assert first.count('<li class="hit">') == 10
    link = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert link
    second = client.get(link.group(1).replace("&amp;", "&"), headers=BEARER).text
    assert second.count('<li class="hit">') == total - 10
    assert 'rel="prev"' in second and "per_page=10" in link.group(1)
    listed = re.findall(r'<h2><a href="/documents/([^"?]+)', first + second)
    assert listed == [d["document"] for d in grouped["documents"]]
    api = client.get("/api/search", params={"q": "ice", "limit": 2, "offset": 2}).json()
    everything = client.get("/api/search", params={"q": "ice", "limit": 4}).json()
    assert api["hits"] == everything["hits"][2:4]


@pytest.mark.parametrize("path", ["/", "/api/search"])
def test_a_bad_query_is_one_line_400(client: TestClient, path: str) -> None:
    response = client.get(path, params={"q": '"unclosed'})
    assert response.status_code == 400
    if path.startswith("/api"):
        message = response.json()["error"]
        assert "quote" in message and "\n" not in message
    else:
        assert "unbalanced quote" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("query", ["released:[* TO *]", "released:{* TO *}"])
def test_a_range_open_at_both_ends_is_not_a_500(client: TestClient, query: str) -> None:
    everything = client.get("/api/search", params={"q": "released:>=1900"}).json()["total"]
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 200, response.text
    assert response.json()["total"] == everything > 0
    assert client.get("/", params={"q": query}).status_code == 200
    assert client.get("/api/search", params={"q": "sent:[* TO *]"}).json()["total"] == 0


def test_bad_parameters_are_400_not_500(tantivy_client: TestClient) -> None:
    for params in (
        {"q": "x", "limit": "0"},
        {"q": "x", "offset": "-1"},
        {"q": "x", "filter": "nofacet:1"},
        {"q": "x", "filter": "year:nineteen"},
        {"q": "x", "offset": "9999", "limit": "20"},
    ):
        response = tantivy_client.get("/api/search", params=params)
        assert response.status_code == 400, (params, response.text)
        assert "error" in response.json()


# -- the viewer ------------------------------------------------------------------------------
def test_ocr_hit_is_outlined_where_the_word_is_on_the_page_image(
    tantivy_client: TestClient, web_archive: Path
) -> None:
    memo = document_id(web_archive, MEMO)
    page = tantivy_client.get(f"/api/documents/{memo}/pages/2", params={"q": "detainer"}).json()
    assert page["text_source"] == "ocr" and page["image"] and page["hit_pages"] == [2]
    assert len(page["hits"]) == 1
    image = Image.open(
        io.BytesIO(tantivy_client.get(f"/api/documents/{memo}/pages/2/image").content)
    )
    x0, y0, x1, y1 = page["hits"][0]
    crop = image.crop(
        (
            int(x0 * image.width) - 4,
            int(y0 * image.height) - 4,
            int(x1 * image.width) + 4,
            int(y1 * image.height) + 4,
        )
    )
    # read back by Tesseract from the rendered image: the box is on the word, not near it
    crop = crop.resize((crop.width * 3, crop.height * 3))
    assert "detainer" in pytesseract.image_to_string(crop, config="--psm 7").lower()


def test_text_layer_hit_is_where_pdfplumber_finds_the_word(
    tantivy_client: TestClient, web_archive: Path
) -> None:
    letter = document_id(web_archive, LETTER)
    page = tantivy_client.get(
        f"/api/documents/{letter}/pages/1", params={"q": "deportation"}
    ).json()
    assert page["text_source"] == "pdf" and len(page["hits"]) == 1
    html = tantivy_client.get(f"/documents/{letter}").text
    assert "characters of text are still in the file under the boxes" in html
    source = web_archive / "bags" / "ice-2017-r1" / "data" / LETTER
    with pdfplumber.open(source) as pdf:
        plumber_page = pdf.pages[0]
        word = next(w for w in plumber_page.extract_words() if "deportation" in w["text"])
        expected = (
            word["x0"] / plumber_page.width,
            word["top"] / plumber_page.height,
            word["x1"] / plumber_page.width,
            word["bottom"] / plumber_page.height,
        )
    assert page["hits"][0] == pytest.approx(expected, abs=0.01)


def test_viewer_page_shows_image_hits_redactions_and_navigation(
    client: TestClient, served_archive: Path
) -> None:
    memo = document_id(served_archive, MEMO)
    html = client.get(f"/documents/{memo}", params={"page": 2, "q": "detainer"}).text
    assert f'src="/api/documents/{memo}/pages/2/image?width=1100"' in html
    assert html.count('class="hit"') == 1
    assert html.count('<g class="redaction">') == 2 and "(b)(7)(C)</text>" in html
    assert 'id="prev-page"' in html and 'id="next-page"' in html
    assert "<mark>detainer</mark>" in html
    assert "Download the original" in html
    assert (
        "ICE, Secure Communities records, interim release 1 (released 2017-06-08), "
        f"{MEMO}, p. 2, Bates ICE-2017-000002." in html
    )
    # hit navigation across pages: 'ice' is on every page of the memo
    nav = client.get(f"/documents/{memo}", params={"page": 2, "q": "ice"}).text
    assert 'id="prev-hit" href="/documents/' in nav and 'id="next-hit"' in nav


def test_page_images_render_once_then_come_from_the_cache(
    tantivy_client: TestClient, web_archive: Path, tmp_path: Path
) -> None:
    memo = document_id(web_archive, MEMO)
    url = f"/api/documents/{memo}/pages/3/image"
    first = tantivy_client.get(url, params={"width": "600"})
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(first.content)).width == 600
    cached = list((tmp_path / "images").rglob("*.jpg"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    again = tantivy_client.get(url, params={"width": "600"})
    assert again.content == first.content and cached[0].stat().st_mtime_ns == mtime
    assert tantivy_client.get(url, params={"width": "601"}).status_code == 400
    assert tantivy_client.get(f"/api/documents/{memo}/pages/4/image").status_code == 404


def test_image_documents_render_and_text_files_say_they_have_no_image(
    tantivy_client: TestClient, web_archive: Path
) -> None:
    jpeg = document_id(web_archive, "detainer-form.jpg")
    response = tantivy_client.get(f"/api/documents/{jpeg}/pages/1/image")
    assert response.status_code == 200
    csv_id = document_id(web_archive, "removals-by-county.csv")
    assert tantivy_client.get(f"/api/documents/{csv_id}/pages/1/image").status_code == 404
    html = tantivy_client.get(f"/documents/{csv_id}").text
    assert "has no page image" in html


def test_original_download_is_the_bagged_file_bit_for_bit(
    tantivy_client: TestClient, web_archive: Path
) -> None:
    memo = document_id(web_archive, MEMO)
    response = tantivy_client.get(f"/api/documents/{memo}/original")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["content-security-policy"] == "sandbox"
    with Archive(web_archive).catalog() as catalog:
        assert hashlib.sha256(response.content).hexdigest() == catalog.document(memo).sha256


def test_unknown_addresses_are_404_pages_and_json(tantivy_client: TestClient) -> None:
    page = tantivy_client.get("/no/such/page")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    api = tantivy_client.get("/api/no/such/route")
    assert api.status_code == 404 and api.json() == {"error": "Not Found"}
    assert tantivy_client.post("/api/search").status_code == 405


def test_pages_carry_security_headers(tantivy_client: TestClient) -> None:
    response = tantivy_client.get("/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


# -- productions, reports, diffs ------------------------------------------------------------------
def test_production_page_has_report_and_charts(tantivy_client: TestClient) -> None:
    html = tantivy_client.get("/productions/ice-2017-r1").text
    assert "Disclosure report" in html
    assert 'aria-label="Pages citing each exemption"' in html
    assert "(b)(7)(C)" in html and "Redacted share of each document" in html
    assert '<svg role="img"' in html


def test_api_report_is_the_cli_report(tantivy_client: TestClient, web_archive: Path) -> None:
    api = tantivy_client.get("/api/productions/ice-2017-r1/report").json()
    assert api == run_json("report", "ice-2017-r1", archive=web_archive)
    assert api["redacted_share_by_document"][MEMO] > 0


def test_diff_of_two_releases(tantivy_client: TestClient, web_archive: Path) -> None:
    params = {"old": "ice-2017-r1", "new": RESTRICTED}
    html = tantivy_client.get("/diff", params=params, headers=BEARER)
    assert html.status_code == 200
    assert "Only in ice-2018-sealed" in html.text and "sealed-memo.txt" in html.text
    assert 'href="/documents/' in html.text  # the same body as `diff --format html`, linked
    api = tantivy_client.get("/api/diff", params=params, headers=BEARER).json()
    cli = run_json("diff", "ice-2017-r1", RESTRICTED, archive=web_archive)
    assert api == cli


# -- access: restricted productions ----------------------------------------------------------------
def test_restricted_material_is_unreachable_by_every_route(
    tantivy_client: TestClient, web_archive: Path
) -> None:
    """Every GET route of the app, pointed at a restricted document or production, without the
    credential or with a wrong one: 404 for anything named, and nothing of it in any answer."""
    targets = [document_id(web_archive, p, RESTRICTED) for p in ("sealed-memo.txt", MEMO)]
    checked = 0
    routes = [*api.router.routes, *team.api.routes, *pages.router.routes]  # all it includes
    described = {r.path for r in routes if isinstance(r, APIRoute) and r.include_in_schema}
    assert set(tantivy_client.app.openapi()["paths"]) == described
    for route in routes:
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        query_names = {p.name for p in route.dependant.query_params}
        names_something = bool(route.dependant.path_params) or "old" in query_names
        for target in targets:
            path = route.path.format(document_id=target, production_id=RESTRICTED, number=1)
            params = {"q": "memorandum OR detainer"} if "q" in query_names else {}
            if "old" in query_names:
                params.update(old="ice-2017-r1", new=RESTRICTED)
            for headers in ({}, {"Authorization": "Bearer wrong-credential-of-length"}):
                response = tantivy_client.get(path, params=params, headers=headers)
                assert SECRET_WORD not in response.text, path
                assert "Sealed records" not in response.text, path
                if names_something:
                    assert response.status_code == 404, (path, response.status_code)
                else:
                    assert response.status_code == 200, (path, response.text[:200])
                    assert RESTRICTED not in response.text, path
                checked += 1
    assert checked >= 4 * 14  # every route, both targets, both kinds of refusal


def test_restricted_pages_are_neither_found_nor_counted_on_either_backend(
    client: TestClient,
) -> None:
    assert client.get("/api/search", params={"q": SECRET_WORD}).json()["total"] == 0
    grouped = client.get(
        "/api/search",
        params={"q": "detainer OR deportation", "by_document": "true", "facet": "production"},
    ).json()
    assert {d["production"] for d in grouped["documents"]} == {"ice-2017-r1"}
    assert [b["value"] for b in grouped["facets"]["production"]] == ["ice-2017-r1"]
    assert client.get("/api/search", params={"q": SECRET_WORD}, headers=BEARER).json()["total"]


def test_restricted_productions_are_not_counted_anywhere(tantivy_client: TestClient) -> None:
    productions = tantivy_client.get("/api/productions").json()
    assert [p["id"] for p in productions] == ["ice-2017-r1"]
    results = tantivy_client.get(
        "/api/search", params={"q": "detainer", "facet": "production"}
    ).json()
    assert results["total"] == 2
    assert results["facets"]["production"] == [{"value": "ice-2017-r1", "count": 2}]
    landing = tantivy_client.get("/").text
    assert "Sealed records" not in landing


def test_the_credential_shows_restricted_material(tantivy_client: TestClient) -> None:
    results = tantivy_client.get(
        "/api/search", params={"q": "detainer", "facet": "production"}, headers=BEARER
    ).json()
    assert results["total"] == 4
    found = tantivy_client.get("/api/search", params={"q": SECRET_WORD}, headers=BEARER).json()
    assert found["total"] == 1
    secret = found["hits"][0]["document"]
    assert (
        tantivy_client.get(f"/api/documents/{secret}/original", headers=BEARER).status_code == 200
    )


def test_sign_in_sets_a_cookie_that_opens_restricted_pages(tantivy_client: TestClient) -> None:
    refused = tantivy_client.post(
        "/login",
        data={"credential": "not the right one at all", "csrf": form_token(tantivy_client)},
    )
    assert refused.status_code == 403 and "not the one configured" in refused.text
    assert "foiarchive_access" not in tantivy_client.cookies
    accepted = tantivy_client.post(
        "/login",
        data={"credential": CREDENTIAL, "csrf": form_token(tantivy_client)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert CREDENTIAL not in accepted.headers["set-cookie"]  # a digest, never the secret
    assert "Sealed records" in tantivy_client.get("/").text
    assert tantivy_client.post("/logout", data={"csrf": form_token(tantivy_client, "/")}).is_success
    tantivy_client.cookies.clear()
    assert "Sealed records" not in tantivy_client.get("/").text


def test_the_sign_in_cookie_expires_and_is_secure_over_https(
    web_archive: Path, tmp_path: Path
) -> None:
    """Before: a fixed HMAC of the credential, no expiry, no Secure flag, valid forever."""
    app = create_app(
        Served(Archive(web_archive), image_cache=tmp_path / "images"), AccessPolicy(CREDENTIAL)
    )
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = TestClient(app, base_url=base)
        signed_in = sign_in(client)
        cookie = signed_in.headers["set-cookie"].lower()
        assert f"max-age={SESSION_SECONDS}" in cookie and "httponly" in cookie
        assert ("; secure" in cookie) is secure, cookie
        assert "Sealed records" in client.get("/").text
    policy = AccessPolicy(CREDENTIAL)
    fresh = policy.cookie_value()
    assert fresh != policy.cookie_value(now=time.time() - 60)  # not one fixed value
    assert policy.accepts(cookie=fresh)
    assert not policy.accepts(cookie=policy.cookie_value(now=time.time() - SESSION_SECONDS - 1))
    expires, _, digest = fresh.partition(".")
    assert not policy.accepts(cookie=f"{int(expires) + 3600}.{digest}")  # extended by hand
    assert not policy.accepts(cookie=f"{int(expires) + 10 * SESSION_SECONDS}.{digest}")
    changed = AccessPolicy(CREDENTIAL + " rotated")
    assert not changed.accepts(cookie=fresh)  # changing the credential signs everyone out
    client = TestClient(
        create_app(Served(Archive(web_archive), image_cache=tmp_path / "i2"), changed)
    )
    client.cookies.set("foiarchive_access", fresh)
    assert "Sealed records" not in client.get("/").text


def test_without_a_configured_credential_nothing_unlocks(web_archive: Path, tmp_path: Path) -> None:
    app = create_app(Served(Archive(web_archive), image_cache=tmp_path))
    client = TestClient(app)
    assert client.get("/api/productions", headers=BEARER).json()[0]["id"] == "ice-2017-r1"
    assert len(client.get("/api/productions", headers=BEARER).json()) == 1
    assert (
        client.post(
            "/login", data={"credential": CREDENTIAL, "csrf": form_token(client)}
        ).status_code
        == 403
    )


def test_rotated_pdf_page_hit_lands_on_the_word(tmp_path: Path, web_archive: Path) -> None:
    """A page with /Rotate 90: text positions are turned with it (Tesseract reads the crop)."""
    from pypdf import PdfReader, PdfWriter

    from foiarchive.preservation.rendition import PageImages, PageSource, pdf_text_boxes, render

    writer = PdfWriter()
    writer.append(PdfReader(web_archive / "bags" / "ice-2017-r1" / "data" / LETTER))
    writer.pages[0].rotate(90)
    rotated = tmp_path / "rotated.pdf"
    with rotated.open("wb") as out:
        writer.write(out)
    source = PageSource(rotated, "pdf", 0, "0" * 64)

    def find(text: str) -> list[tuple[int, int]]:
        start = text.index("deportation")
        return [(start, start + len("deportation"))]

    (box,) = pdf_text_boxes(source, find)
    image = Image.open(io.BytesIO(render(source, 1100)))
    assert image.height < image.width  # the page is displayed turned
    x0, y0, x1, y1 = box
    assert y1 - y0 > x1 - x0  # a word running down the page
    crop = image.crop(
        (
            int(x0 * image.width) - 3,
            int(y0 * image.height) - 3,
            int(x1 * image.width) + 3,
            int(y1 * image.height) + 3,
        )
    ).rotate(90, expand=True)
    crop = crop.resize((crop.width * 3, crop.height * 3))
    assert "deportation" in pytesseract.image_to_string(crop, config="--psm 7").lower()
    assert PageImages(tmp_path / "cache").get(source, 600).exists()


def test_a_search_server_that_is_down_is_a_one_line_503(web_archive: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = create_app(
        Served(
            Archive(web_archive, es_url=f"http://127.0.0.1:{closed}"),
            backend="elasticsearch",
            image_cache=tmp_path,
        )
    )
    client = TestClient(app)
    api = client.get("/api/search", params={"q": "detainer"})
    assert api.status_code == 503 and "\n" not in api.json()["error"]
    assert "search is unavailable" in api.json()["error"]
    page = client.get("/", params={"q": "detainer"})
    assert page.status_code == 503 and "Traceback" not in page.text
    memo = document_id(web_archive, MEMO)
    assert client.get(f"/api/documents/{memo}/pages/2/image").status_code == 200  # still reads


# -- files: only by document id, never a path ---------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/documents/..%2F..%2Fcatalog.sqlite/original",
        "/api/documents/%2Fetc%2Fpasswd/original",
        "/api/documents/ice-2017-r1%2F..%2F..%2Fcatalog.sqlite/original",
        "/static/..%2F..%2Fcatalog.sqlite",
        "/static/../../index/catalog.py",
    ],
)
def test_no_request_reads_a_path(tantivy_client: TestClient, path: str) -> None:
    response = tantivy_client.get(path)
    assert response.status_code == 404
    assert b"SQLite format" not in response.content and b"import" not in response.content


def test_contained_file_refuses_traversal_and_links(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "a" / "file.pdf").write_bytes(b"%PDF")
    (tmp_path / "outside.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    (root / "dirlink").symlink_to(tmp_path)
    assert contained_file(root, "a/file.pdf") == root / "a" / "file.pdf"
    for bad in (
        "../outside.txt",
        "/etc/passwd",
        "a/../../outside.txt",
        "link.txt",
        "dirlink/outside.txt",
        "a",
        "",
        "a//file.pdf",
    ):
        assert contained_file(root, bad) is None, bad


# -- the serve command ----------------------------------------------------------------------------
@contextlib.contextmanager
def serving(archive: Path, cache: Path, workers: str = "1") -> Iterator[str]:
    """The real `foiarchive serve` on a free port, until the block ends; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    foiarchive = Path(sys.executable).parent / "foiarchive"
    server = subprocess.Popen(
        [
            foiarchive,
            "--archive",
            archive,
            "serve",
            "--port",
            str(port),
            "--workers",
            workers,
            "--image-cache",
            cache,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/static/style.css").close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_searches_and_renders_pages(
    web_archive: Path, tmp_path: Path, workers: str
) -> None:
    """The real command: uvicorn on a free port, one process or several, and a first render
    through the low-priority render processes."""
    with serving(web_archive, tmp_path / "cache", workers) as base:
        with urllib.request.urlopen(f"{base}/?q=detainer") as response:
            assert "2 pages in 2 documents" in response.read().decode()
        memo = document_id(web_archive, MEMO)
        with urllib.request.urlopen(f"{base}/api/documents/{memo}/pages/2/image") as response:
            image = Image.open(io.BytesIO(response.read()))
        assert image.format == "JPEG" and image.width == 1100
        assert list((tmp_path / "cache").rglob("*.jpg"))


def test_serve_migrates_an_older_catalog_first(sample_archive: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(sample_archive, archive)
    connection = sqlite3.connect(archive / "catalog.sqlite")
    with connection:  # as the previous version left it
        connection.execute("ALTER TABLE pages DROP COLUMN image")
        connection.execute("ALTER TABLE pages DROP COLUMN leaks")
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    with pytest.raises(CatalogError, match="open it once for writing"):
        Served(Archive(archive), image_cache=tmp_path)  # the server itself only reads
    with (
        serving(archive, tmp_path / "cache") as base,
        urllib.request.urlopen(f"{base}/api/search?q=detainer") as response,
    ):
        assert json.load(response)["total"] == 2


def test_serve_refuses_a_short_credential_in_one_line(web_archive: Path, tmp_path: Path) -> None:
    short = tmp_path / "credential"
    short.write_text("short\n")
    result = run_cli("serve", "--credential-file", short, archive=web_archive)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "at least 16 characters" in result.output


def test_serve_on_a_taken_port_is_one_line(web_archive: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_cli("serve", "--port", port, archive=web_archive)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and f"127.0.0.1:{port}" in result.output


def test_serve_on_a_missing_archive_is_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", archive=tmp_path / "nowhere")
    assert result.exit_code == 1 and "no foiarchive archive here" in result.output


def test_a_running_server_sees_what_is_ingested_meanwhile(
    sample_archive: Path, tmp_path: Path
) -> None:
    """A server thread keeps its index open for its life; an ingest commits beside it."""
    archive = tmp_path / "archive"
    shutil.copytree(sample_archive, archive)
    served = Served(Archive(archive), image_cache=tmp_path / "images")
    query = SearchRequest("zebrafinch")
    assert served.reader(ANONYMOUS).search(query).total == 0
    source = tmp_path / "later"
    source.mkdir()
    (source / "note.txt").write_text("A zebrafinch was seen at the border.\n")
    report = ingest_production(
        Archive(archive), source, Production(id="later"), IngestOptions(jobs=1)
    )
    assert report.ok
    found = served.reader(ANONYMOUS).search(query)  # the same thread, the same open index
    assert found.total == 1 and found.hits[0].production == "later"
