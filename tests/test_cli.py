"""The command line: help with examples, output formats, and errors without tracebacks."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from .conftest import run_cli, run_json

COMMANDS = ["ingest", "search", "productions", "show", "reindex", "sample", "serve"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_has_examples(command: str | None) -> None:
    result = run_cli(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_search_csv_and_table(searchable_archive: Path) -> None:
    sample_archive = searchable_archive
    result = run_cli("search", "detainer*", "--format", "csv", archive=sample_archive)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and set(rows[0]) == {
        "production",
        "document",
        "path",
        "page",
        "row",
        "bates",
        "score",
        "snippet",
    }
    table = run_cli("search", "detainer*", "--facets", archive=sample_archive)
    assert "ice-2017-r1" in table.output and "pages" in table.output
    assert "agency: ICE" in table.output


def test_pagination_and_sorting(searchable_archive: Path) -> None:
    sample_archive = searchable_archive
    everything = run_json("search", "agency:ice", "--limit", "100", archive=sample_archive)
    first = run_json("search", "agency:ice", "--limit", "3", archive=sample_archive)
    second = run_json(
        "search", "agency:ice", "--limit", "3", "--offset", "3", archive=sample_archive
    )
    keys = [(h["document"], h["page"]) for h in first["hits"] + second["hits"]]
    assert len(set(keys)) == 6 and first["total"] == everything["total"]
    dated = run_json("search", "agency:ice", "--sort", "-released", archive=sample_archive)
    assert dated["total"] == everything["total"]


def test_productions_and_show(sample_archive: Path) -> None:
    productions = run_json("productions", archive=sample_archive)
    assert productions[0]["id"] == "ice-2017-r1"
    assert productions[0]["documents"] == 5 and productions[0]["pages"] == 9
    hit = run_json("search", "biometric", archive=sample_archive)["hits"][0]
    shown = run_json("show", hit["document"], "--page", str(hit["page"]), archive=sample_archive)
    assert shown["document"]["path"] == hit["path"]
    assert "biometric" in shown["pages"][0]["text"]
    text = run_cli("show", f"ice-2017-r1/{hit['path']}", archive=sample_archive)
    assert "sha256" in text.output and "pages:" in text.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", '"unbalanced'], "unbalanced quote"),
        (["search", "color:red"], "unknown field 'color'"),
        (["search", '"freedom"~-5'], "proximity needs a whole number"),
        (["search", "freedom^-1"], "boost needs a positive number"),
        (["search", 'foo"bar'], "a quote inside the word"),
        (["show", "no-such-document"], "no document"),
        (["show", "ice-2017-r1.", "--page", "1"], "names 5 documents"),
    ],
)
def test_user_errors_are_one_line(searchable_archive: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, archive=searchable_archive)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("query", ["released:[* TO *]", "released:{* TO *}", "sent:[* TO *]"])
def test_a_range_open_at_both_ends_finds_pages_with_a_value(
    searchable_archive: Path, query: str
) -> None:
    everything = run_json("search", "released:>=1900", archive=searchable_archive)["total"]
    found = run_json("search", query, archive=searchable_archive)["total"]
    # every sample production has a release date; the sample holds no email (no sent date)
    assert found == (0 if query.startswith("sent") else everything) and everything > 0


def test_missing_archive_and_source(tmp_path: Path) -> None:
    result = run_cli("search", "x", archive=tmp_path / "nowhere")
    assert result.exit_code == 1 and "no foiarchive archive here" in result.stderr
    result = run_cli("ingest", tmp_path / "nothing", "--id", "p", archive=tmp_path / "a")
    assert result.exit_code == 1 and "no such folder" in result.stderr


def test_bad_manifest_names_the_field(tmp_path: Path) -> None:
    manifest = tmp_path / "production.json"
    manifest.write_text(json.dumps({"id": "Bad Id!", "release_date": "2017-06-08"}))
    (tmp_path / "src").mkdir()
    result = run_cli("ingest", tmp_path / "src", "--manifest", manifest, archive=tmp_path / "a")
    assert result.exit_code == 1
    assert "production.json: id:" in result.stderr


def test_reindex_rebuilds(sample_archive: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sample_archive, copy)
    shutil.rmtree(copy / "search")
    result = run_cli("reindex", archive=copy)
    assert result.exit_code == 0 and "rebuilt: 5 documents, 9 pages" in result.output
    assert run_json("search", "biometric", archive=copy)["total"] >= 1


def test_sample_command_writes_a_manifest(tmp_path: Path) -> None:
    result = run_cli("sample", tmp_path / "s")
    assert result.exit_code == 0
    assert json.loads((tmp_path / "s" / "production.json").read_text())["agency"] == "ICE"


def test_search_by_document(searchable_archive: Path, backend_name: str) -> None:
    grouped = run_json(
        "search", "detainer* OR biometric", "--by-document", archive=searchable_archive
    )
    pages = run_json(
        "search", "detainer* OR biometric", "--limit", "100", archive=searchable_archive
    )
    assert grouped["backend"] == pages["backend"] == backend_name
    per_document = Counter(hit["document"] for hit in pages["hits"])
    assert {d["document"]: d["matching_pages"] for d in grouped["documents"]} == per_document
    assert grouped["total_documents"] == len(per_document) >= 2
    best = {}
    for hit in pages["hits"]:  # pages come best first
        best.setdefault(hit["document"], hit["page"])
    assert {d["document"]: d["pages"][0]["page"] for d in grouped["documents"]} == best
    table = run_cli("search", "detainer*", "--by-document", archive=searchable_archive)
    assert "matching page" in table.output and "documents (" in table.output
    rows = run_cli(
        "search", "detainer*", "--by-document", "--format", "csv", archive=searchable_archive
    )
    assert "matching_pages" in rows.stdout.splitlines()[0]


def test_the_installed_command_works_outside_the_checkout(tmp_path: Path) -> None:
    """The installed `foiarchive`, run where the repository's folders are not importable (as a
    user runs it): every resource is found inside the foiarchive package (the JSON Schemas, the
    BagIt profile, the templates), not by a top-level name that only a checkout provides."""
    import os
    import subprocess
    import sys

    command = Path(sys.executable).with_name("foiarchive")
    if not command.exists():
        pytest.skip("foiarchive is not installed beside this Python")
    source = tmp_path / "release"
    source.mkdir()
    (source / "memo.txt").write_text("Withheld under (b)(6): the name of the agent.\n")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), "--archive", str(tmp_path / "a"), *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    ingested = run("ingest", str(source), "--id", "p1", "--quiet", "--jobs", "1")
    assert ingested.returncode == 0, ingested.stderr
    assert run("verify", "p1").returncode == 0
    exported = run("export", "p1", "--to", str(tmp_path), "--format", "zip")
    assert exported.returncode == 0, exported.stderr
    assert run("import", str(tmp_path / "p1.zip"), "--id", "p2", "--profile").returncode == 0
    assert "b6 1" in run("report", "p1").stdout
    other = tmp_path / "release-2"
    other.mkdir()
    (other / "memo.txt").write_text("Withheld under (b)(7)(C): the name of the agent.\n")
    assert run("ingest", str(other), "--id", "p3", "--quiet", "--jobs", "1").returncode == 0
    html = tmp_path / "diff.html"
    diffed = run("diff", "p1", "p3", "--format", "html", "--output", str(html))
    assert diffed.returncode == 0, diffed.stderr
    assert "What changed from p1 to p3" in html.read_text()


def test_a_hit_in_a_spreadsheet_cites_its_row(searchable_archive: Path) -> None:
    """Rows are kept 50 to a page; a hit names the spreadsheet row it is on (header = row 1)."""
    hits = run_json("search", '"C-00003"', archive=searchable_archive)["hits"]
    assert [(h["path"], h["row"]) for h in hits] == [("removals-by-county.csv", 4)]
    memo = run_json("search", "detainer", archive=searchable_archive)["hits"]
    assert memo and all(h["row"] is None for h in memo if not h["path"].endswith(".csv"))
    table = run_cli("search", '"C-00003"', archive=searchable_archive).output
    assert "row 4" in table
    report = run_cli("report", "ice-2017-r1", archive=searchable_archive).output
    assert "exemptions cited (table cells): b6 " in report


def test_every_package_of_the_checkout_is_installed() -> None:
    """pyproject.toml lists the packages one by one (the rooms are mapped into foiarchive):
    a new subpackage left off the list would be missing from the installed command."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    settings = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(settings["packages"])
    folders = {f"foiarchive.{room}": room for room in settings["package-dir"].values()}
    found = {"foiarchive"}
    for package, room in folders.items():
        for init in (root / room).rglob("__init__.py"):
            parts = init.parent.relative_to(root / room).parts
            found.add(".".join([package, *parts]))
    assert found <= listed, found - listed
    # the rest are folders of data files (templates, static), listed so they are shipped
    for name in listed - found:
        head, *rest = name.removeprefix("foiarchive.").split(".")
        folder = root.joinpath(head, *rest)
        assert folder.is_dir() and not list(folder.glob("*.py")), name
        assert name in settings["package-data"], name
