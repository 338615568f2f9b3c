"""Shared fixtures: a sample production generated on the spot and an archive ingested from it.

Everything is real: Pillow draws the scans, Tesseract reads them, SQLite and Tantivy hold
the results. The session-wide archive is ingested once; tests that change an archive make
their own.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from foiarchive import Archive
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.sample import build_sample_production
from foiarchive.schemas import load_manifest
from foiarchive.search_cli.main import cli


@pytest.fixture(scope="session")
def sample_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "release-1"
    build_sample_production(folder)
    return folder


@pytest.fixture(scope="session")
def sample_archive(sample_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("archive")
    manifest = sample_source / "production.json"
    report = ingest_production(
        Archive(archive),
        sample_source,
        load_manifest(manifest),
        IngestOptions(jobs=2),
        exclude={manifest},
    )
    assert report.ok, report.failures
    return archive


def run_cli(*args: str | Path, archive: Path | None = None) -> Result:
    argv = [str(a) for a in args]
    if archive is not None:
        argv = ["--archive", str(archive), *argv]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def run_json(*args: str | Path, archive: Path | None = None) -> dict:
    result = run_cli(*args, "--format", "json", archive=archive)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- Elasticsearch -----------------------------------------------------------------------------
# Tests reach a cluster only through FOIARCHIVE_TEST_ES_URL (scripts/test.sh starts one), never
# through the user's own FOIARCHIVE_ES_URL, and each test archive gets its own index alias.
ES_URL = os.environ.get("FOIARCHIVE_TEST_ES_URL", "")
#: Every index alias of this test session starts so (see es_url's clean-up).
TEST_PREFIX = f"foiarchive-test-{uuid.uuid4().hex[:8]}-"
ES_REQUIRED = os.environ.get("FOIARCHIVE_REQUIRE_ES") == "1"


def es_request(
    url: str, method: str, path: str, body: object = None, *, ndjson: bool = False
) -> Any:
    """One call to the test cluster's REST API, the JSON answer decoded."""
    data = None
    if body is not None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    request = urllib.request.Request(f"{url}/{path}", data=data, method=method)
    request.add_header("Content-Type", "application/x-ndjson" if ndjson else "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


@pytest.fixture(autouse=True, scope="session")
def _no_user_cluster() -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("FOIARCHIVE_ES_")}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """The test cluster's URL; skips without one, fails when CI requires one. The indexes the
    tests made are deleted at the end, so a long-lived cluster does not fill up."""
    if not ES_URL:
        if ES_REQUIRED:
            pytest.fail("FOIARCHIVE_REQUIRE_ES=1 but FOIARCHIVE_TEST_ES_URL is not set")
        pytest.skip("no Elasticsearch (scripts/elasticsearch.sh start; FOIARCHIVE_TEST_ES_URL)")
    try:
        status = es_request(ES_URL, "GET", "_cluster/health")["status"]
    except (OSError, ValueError) as exc:
        pytest.fail(f"Elasticsearch at {ES_URL} does not answer: {exc}")
    assert status in ("green", "yellow"), status
    yield ES_URL
    # Only this session's indexes: the cluster is shared by every checkout's test runs, and
    # deleting all 'foiarchive-test-*' at the end of one run removed the indexes of the runs
    # still going ("no search index ... yet" in 13 tests of a full run that overlapped another).
    listing = es_request(ES_URL, "GET", f"_cat/indices/{TEST_PREFIX}*?format=json&h=index")
    names = [row["index"] for row in listing]
    for start in range(0, len(names), 50):
        es_request(ES_URL, "DELETE", ",".join(names[start : start + 50]))


def use_elasticsearch(archive: Path, es_url: str) -> str:
    """Point an archive at the test cluster under a fresh alias (its config.toml); the alias."""
    alias = f"{TEST_PREFIX}{uuid.uuid4().hex[:10]}"
    (archive / "config.toml").write_text(
        f'[elasticsearch]\nurl = "{es_url}"\nindex = "{alias}"\n', encoding="utf-8"
    )
    return alias


@pytest.fixture(params=["tantivy", "elasticsearch"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Run a test on each search backend."""
    if request.param == "elasticsearch":
        request.getfixturevalue("es_url")
    return request.param


def copy_on_elasticsearch(archive: Path, folder: Path, es_url: str) -> Path:
    """A copy of an archive that also searches Elasticsearch (auto picks it), indexed there."""
    copy = folder / "archive"
    shutil.copytree(archive, copy)
    use_elasticsearch(copy, es_url)
    result = run_cli("reindex", "--backend", "elasticsearch", archive=copy)
    assert result.exit_code == 0, result.output
    return copy


@pytest.fixture(scope="session")
def sample_archive_on_es(
    sample_archive: Path, tmp_path_factory: pytest.TempPathFactory, es_url: str
) -> Path:
    return copy_on_elasticsearch(sample_archive, tmp_path_factory.mktemp("on-es"), es_url)


def on_backend(request: pytest.FixtureRequest, backend_name: str, archive_fixture: str) -> Path:
    """An archive fixture, or its copy on Elasticsearch, as the backend parameter says."""
    suffix = "_on_es" if backend_name == "elasticsearch" else ""
    return request.getfixturevalue(archive_fixture + suffix)


@pytest.fixture
def searchable_archive(backend_name: str, request: pytest.FixtureRequest) -> Path:
    """The sample archive, searched on each backend in turn."""
    return on_backend(request, backend_name, "sample_archive")


# -- the web app -------------------------------------------------------------------------------
#: A production marked restricted, ingested beside the public sample: same scans, plus a memo
#: whose word appears nowhere else, so any leak of it is visible.
RESTRICTED = "ice-2018-sealed"
SECRET_WORD = "zanzibarite"
CREDENTIAL = "correct horse battery staple"


@pytest.fixture(scope="session")
def web_archive(
    sample_archive: Path, sample_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The sample archive plus a restricted production (OCR comes from the copied cache)."""
    archive = tmp_path_factory.mktemp("web") / "archive"
    shutil.copytree(sample_archive, archive)
    source = tmp_path_factory.mktemp("sealed") / "release-2"
    shutil.copytree(sample_source, source)
    (source / "sealed-memo.txt").write_text(
        f"Sealed memorandum. The {SECRET_WORD} operation is not to be released.\n",
        encoding="utf-8",
    )
    manifest = json.loads((source / "production.json").read_text("utf-8"))
    manifest.update(
        id=RESTRICTED, title="Sealed records", access="restricted", release_date="2018-02-01"
    )
    (source / "production.json").write_text(json.dumps(manifest), encoding="utf-8")
    production = load_manifest(source / "production.json")
    report = ingest_production(
        Archive(archive),
        source,
        production,
        IngestOptions(jobs=2),
        exclude={source / "production.json"},
    )
    assert report.ok, report.failures
    return archive


@pytest.fixture(scope="session")
def web_archive_on_es(
    web_archive: Path, tmp_path_factory: pytest.TempPathFactory, es_url: str
) -> Path:
    return copy_on_elasticsearch(web_archive, tmp_path_factory.mktemp("web-on-es"), es_url)


@pytest.fixture
def served_archive(backend_name: str, request: pytest.FixtureRequest) -> Path:
    """The web archive, served from each backend in turn."""
    return on_backend(request, backend_name, "web_archive")


# -- the team workspace ------------------------------------------------------------------------
#: Accounts of the team archive: name -> (role, groups). The newsroom was granted the restricted
#: production; the clinic was not.
TEAM = {
    "alice": ("annotator", ("newsroom",)),
    "bob": ("annotator", ("clinic",)),
    "carol": ("reader", ("newsroom",)),
    "dora": ("archivist", ("newsroom", "clinic")),
}


def password_of(name: str) -> str:
    return f"{name} has a long password"


@pytest.fixture(scope="session")
def team_archive(web_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web archive with accounts, groups and a grant in its workspace."""
    from foiarchive.index.team import Team

    archive = tmp_path_factory.mktemp("team") / "archive"
    shutil.copytree(web_archive, archive)
    with Archive(archive).workspace() as workspace:
        team = Team(workspace)
        for group in ("newsroom", "clinic"):
            team.add_group(group)
        for name, (role, groups) in TEAM.items():
            team.add_user(name, password_of(name), role)
            for group in groups:
                team.join(group, name)
        team.grant("newsroom", RESTRICTED)
    return archive


@pytest.fixture(scope="session")
def team_archive_on_es(
    team_archive: Path, tmp_path_factory: pytest.TempPathFactory, es_url: str
) -> Path:
    return copy_on_elasticsearch(team_archive, tmp_path_factory.mktemp("team-on-es"), es_url)
