"""Shared fixtures: a sample production generated on the spot and an archive ingested from it.

Everything is real: Pillow draws the scans, Tesseract reads them, SQLite and Tantivy hold
the results. The session-wide archive is ingested once; tests that change an archive make
their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ingest import IngestOptions, ingest_production
from ingest.sample import build_sample_production
from schemas import load_manifest
from search_cli.main import cli


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
        archive,
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
