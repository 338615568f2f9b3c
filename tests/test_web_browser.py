"""End to end in a real browser: Debian's Chromium driven by Playwright against a real server.

Each step is saved as a screenshot under test-artifacts/web/ (or $FOIARCHIVE_TEST_ARTIFACTS),
so a reviewer can see what the researcher saw. Without /usr/bin/chromium the tests skip, unless
FOIARCHIVE_REQUIRE_BROWSER=1 (CI) makes that a failure.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from foiarchive import Archive
from foiarchive.web import AccessPolicy, Served, create_app

from .conftest import CREDENTIAL

CHROMIUM = Path(os.environ.get("FOIARCHIVE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(
    os.environ.get("FOIARCHIVE_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")
)
#: Chromium on a machine without network: no background calls home, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(web_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(
        Served(Archive(web_archive), image_cache=tmp_path_factory.mktemp("images")),
        AccessPolicy(CREDENTIAL),
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("FOIARCHIVE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield tab
    context.close()
    assert not errors, errors  # no script errors, no refused resources (CSP), no 404s


def shot(page, name: str) -> None:
    folder = ARTIFACTS / "web"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def image_loaded(page) -> None:
    page.wait_for_function(
        "() => { const i = document.getElementById('page-image');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )


def test_search_facet_hit_highlight_pages_download(page, server: str, web_archive: Path) -> None:
    page.goto(server + "/")
    shot(page, "01-home")
    page.get_by_label("Search the productions").fill("detainer")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=detainer")
    assert page.locator("#results-heading").inner_text() == "2 pages in 2 documents"
    shot(page, "02-results")

    page.locator("ul[data-facet=exemption] a", has_text="(b)(7)(C)").click()
    page.wait_for_url("**filter=exemption%3Ab7c**")
    assert page.locator("#results-heading").inner_text() == "1 page in 1 document"
    shot(page, "03-facet-clicked")

    page.locator("a.where").first.click()
    page.wait_for_url("**/documents/**page=2**")
    image_loaded(page)
    hits = page.locator("svg.overlay rect.hit")
    assert hits.count() == 1
    hit, picture = hits.first.bounding_box(), page.locator("#page-image").bounding_box()
    assert hit and picture and hit["width"] > 10 and hit["height"] > 5
    assert picture["x"] <= hit["x"] and hit["x"] + hit["width"] <= picture["x"] + picture["width"]
    assert picture["y"] <= hit["y"] and hit["y"] + hit["height"] <= picture["y"] + picture["height"]
    assert page.locator(".page-text mark").first.inner_text() == "detainer"
    assert page.locator("svg.overlay .redaction").count() == 2
    shot(page, "04-hit-on-page-image")

    page.keyboard.press("ArrowRight")  # the viewer's keyboard paging
    page.wait_for_url("**page=3**")
    image_loaded(page)
    shot(page, "05-next-page")
    page.locator("#prev-page").click()
    page.wait_for_url("**page=2**")
    page.get_by_label("Page", exact=True).fill("1")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url("**page=1**")
    image_loaded(page)
    shot(page, "06-page-1-by-number")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the original").click()
    data = Path(download.value.path()).read_bytes()
    document_id = page.url.split("/documents/")[1].split("?")[0]
    with Archive(web_archive).catalog() as catalog:
        assert hashlib.sha256(data).hexdigest() == catalog.document(document_id).sha256


def test_production_page_and_phone_layout(page, server: str) -> None:
    page.goto(server + "/productions/ice-2017-r1")
    assert page.get_by_role("img", name="Pages citing each exemption").count() == 1
    shot(page, "07-production-report")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + "/?q=detainer")
    shot(page, "08-phone-results")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("a.where").first.click()
    image_loaded(page)
    shot(page, "09-phone-viewer")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_keyboard_only_and_labelled_controls(page, server: str) -> None:
    page.goto(server + "/?q=detainer")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, button')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.textContent.trim())
            .map(e => e.outerHTML)"""
    )
    assert unlabelled == []
    # reach the first result by keyboard alone and open it
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('where')"):
            break
    else:
        pytest.fail("no result link reachable by Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents/**")
    shot(page, "10-opened-by-keyboard")


def test_upload_a_term_list_see_the_table_download_it(
    page, server: str, web_archive: Path, tmp_path: Path
) -> None:
    listing = tmp_path / "people.csv"
    listing.write_text('name\n\n"detainer"\n(detainer\nmemorandum\n', encoding="utf-8")
    page.goto(server + "/")
    page.get_by_role("link", name="Batch search").click()
    page.wait_for_url("**/batch")
    page.get_by_label("Term list (.txt or .csv)").set_input_files(listing)
    page.get_by_role("button", name="Search", exact=True).last.click()
    page.wait_for_selector("table.batch")
    shot(page, "20-batch-table")
    rows = page.locator("table.batch tbody tr")
    lines = rows.locator("td:first-child").all_inner_texts()
    assert set(lines) == {"3", "4", "5"}  # the CSV's own line numbers; the header skipped
    assert page.locator("tr.error-row td:first-child").all_inner_texts() == ["4"]
    shown = [row.locator("td").all_inner_texts() for row in rows.all()]
    with page.expect_download() as download:  # the table's own download button
        page.locator("#main form").nth(1).get_by_role("button", name="CSV").click()
    assert download.value.suggested_filename == "foiarchive-batch.csv"
    text = Path(download.value.path()).read_text("utf-8")
    downloaded = list(csv.reader(io.StringIO(text)))[1:]
    assert downloaded == shown  # the table as seen, line numbers kept through the re-post


def test_watch_a_search_and_run_it(page, server: str) -> None:
    page.goto(server + "/?q=detainer")
    assert page.get_by_role("button", name="Watch this search").count() == 0
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Credential").fill(CREDENTIAL)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server + "/")
    page.goto(server + "/?q=detainer&filter=production:ice-2017-r1")
    page.get_by_label("Watch as").fill("browser detainer")
    page.get_by_role("button", name="Watch this search").click()
    page.wait_for_url("**/watches?added=**")
    assert page.get_by_role("status").inner_text().startswith("Watching “browser detainer”")
    row = page.locator("table.watches tr", has_text="browser detainer")
    assert "production:ice-2017-r1" in row.inner_text()
    shot(page, "21-watch-added")
    page.get_by_role("button", name="Run browser detainer").click()
    page.wait_for_selector(".watch-runs")
    assert "browser detainer: nothing new" in page.locator(".watch-runs").inner_text()
    assert (
        page.locator("table.watches tr", has_text="browser detainer").inner_text().count("never")
        == 0
    )
    shot(page, "22-watch-run")
    page.get_by_role("button", name="Remove browser detainer").click()
    page.wait_for_url("**/watches")
    assert page.locator("table.watches tr", has_text="browser detainer").count() == 0
