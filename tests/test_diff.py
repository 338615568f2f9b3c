"""Comparing two releases: every planted change is reported, and nothing else."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from foiarchive import Archive, index
from foiarchive.disclosure.diff import Diff, diff_productions, summarize
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.marks import annotate
from foiarchive.ingest.sample import DENSE_WORDS, MEMO_PARAGRAPHS
from foiarchive.ingest.textual import csv_pages
from foiarchive.schemas import Document, Page, Production
from foiarchive.schemas.exemptions import exemption_label, is_withheld_cell

from .conftest import run_cli, run_json

REMOVED_SENTENCE = "The regional director approved the transfer of seventeen detainees to Tacoma."
PLACEHOLDER = "This page is withheld in full pursuant to FOIA exemption (b)(5)."


def _texts(seed: int, pages: int) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.sample(MEMO_PARAGRAPHS, 2))
        + " "
        + " ".join(rng.choice(DENSE_WORDS) for _ in range(80))
        for _ in range(pages)
    ]


def _put(
    catalog: index.Catalog,
    production: str,
    path: str,
    texts: list[str],
    *,
    sha: str,
    bates: str = "",
    pages: dict[int, dict] | None = None,
    table: tuple[list[Page], list[str]] | None = None,
) -> None:
    document = Document(
        id=Document.make_id(production, path),
        production_id=production,
        path=path,
        sha256=sha * 64,
        size=1,
        media_type="text/csv" if table else "application/pdf",
    )
    if table is not None:
        records, document.columns = table
        for record in records:
            annotate(record)  # as ingest does: the codes in the cells
    else:
        records = []
        for number, text in enumerate(texts, start=1):
            stamp = f"{bates}{number:06d}" if bates else ""
            page = Page(
                number=number,
                text=text + (f" {stamp}" if stamp else ""),
                text_source="ocr",
                bates=[stamp] if stamp else [],
            )
            for name, value in (pages or {}).get(number, {}).items():
                setattr(page, name, value)
            records.append(page)
    catalog.put_document(document, records)


def _table(tmp_path: Path, name: str, header: list[str], rows: list[list[str]]):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    table = csv_pages(path, "utf-8", Limits())
    return table.pages, table.columns


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("diff")
    tables = tmp_path_factory.mktemp("tables")
    b, c, d, e, f, g = (
        _texts(seed, n) for seed, n in ((2, 3), (3, 4), (4, 2), (5, 2), (6, 2), (7, 3))
    )
    b_old = list(b)
    b_old[1] = b[1] + " " + REMOVED_SENTENCE
    box = {"box": [0.1, 0.3, 0.6, 0.4], "kind": "filled", "source": "image"}
    old_cases = [
        [str(1000 + i), f"County {i % 7}", f"Officer {i}", f"note {i}"] for i in range(120)
    ]
    new_cases = [
        [
            str(2000 + i),
            "",
            "(b)(6)",
        ]
        for i in range(130)
    ]
    with Archive(archive).catalog(create=True) as catalog:
        catalog.put_production(Production(id="ice-2016", agency="ICE", release_date="2016-05-01"))
        catalog.put_production(Production(id="ice-2017", agency="ICE", release_date="2017-09-01"))
        _put(catalog, "ice-2016", "letters/a.pdf", _texts(1, 2), sha="a")
        _put(catalog, "ice-2017", "letters/a.pdf", _texts(1, 2), sha="a")
        # B: renamed, new Bates prefix, page 2 redacted further under (b)(6)
        _put(catalog, "ice-2016", "memo-b.pdf", b_old, sha="b", bates="ICE-2016-")
        _put(
            catalog,
            "ice-2017",
            "2017/B_memo.pdf",
            b,
            sha="c",
            bates="ICE2017-",
            pages={2: {"redactions": [box], "exemptions": ["b6"]}},
        )
        # C: page 3 dropped, the others reordered
        _put(catalog, "ice-2016", "report-c.pdf", c, sha="d")
        _put(catalog, "ice-2017", "report-c.pdf", [c[1], c[0], c[3]], sha="e")
        _put(catalog, "ice-2016", "only-old.pdf", d, sha="f")
        _put(catalog, "ice-2017", "only-new.pdf", e, sha="0")
        # F: the same pages with other Bates stamps: no change to report
        _put(catalog, "ice-2016", "form-f.pdf", f, sha="1", bates="ICE-2016-")
        _put(catalog, "ice-2017", "form-f.pdf", f, sha="2", bates="ICE2017-")
        # G: page 2 now withheld in full
        _put(catalog, "ice-2016", "memo-g.pdf", g, sha="3")
        _put(
            catalog,
            "ice-2017",
            "memo-g.pdf",
            [g[0], PLACEHOLDER, g[2]],
            sha="4",
            pages={2: {"withheld_in_full": True, "exemptions": ["b5"]}},
        )
        # T: yearly case data, another file name, officer withheld, county blanked, notes gone
        _put(
            catalog,
            "ice-2016",
            "cases-2016.csv",
            [],
            sha="5",
            table=_table(tables, "old.csv", ["case_id", "county", "officer", "notes"], old_cases),
        )
        _put(
            catalog,
            "ice-2017",
            "FY2017 cases.csv",
            [],
            sha="6",
            table=_table(tables, "new.csv", ["case_id", "county", "officer"], new_cases),
        )
    return archive


@pytest.fixture(scope="module")
def diff(releases: Path) -> Diff:
    with Archive(releases).catalog() as catalog:
        return diff_productions(catalog, "ice-2016", "ice-2017")


def _by_old_path(diff: Diff) -> dict:
    return {change.old.path: change for change in diff.matched}


def test_documents_are_matched_whatever_their_names(diff: Diff) -> None:
    pairs = {(c.old.path, c.new.path, c.kind) for c in diff.matched}
    assert pairs == {
        ("letters/a.pdf", "letters/a.pdf", "identical"),
        ("memo-b.pdf", "2017/B_memo.pdf", "reprocessed"),
        ("report-c.pdf", "report-c.pdf", "reprocessed"),
        ("form-f.pdf", "form-f.pdf", "reprocessed"),
        ("memo-g.pdf", "memo-g.pdf", "reprocessed"),
        ("cases-2016.csv", "FY2017 cases.csv", "table"),
    }
    assert [r.path for r in diff.only_old] == ["only-old.pdf"]
    assert [r.path for r in diff.only_new] == ["only-new.pdf"]


def test_only_the_planted_changes_are_reported(diff: Diff) -> None:
    changed = {c.old.path for c in diff.matched if c.changed}
    assert changed == {"memo-b.pdf", "report-c.pdf", "memo-g.pdf", "cases-2016.csv"}


def test_extra_redactions_and_a_removed_passage(diff: Diff) -> None:
    b = _by_old_path(diff)["memo-b.pdf"]
    assert (b.pages_removed, b.pages_added, b.reordered) == ([], [], False)
    (page,) = b.pages
    assert (page.old_page, page.new_page) == (2, 2)
    assert (page.old_boxes, page.new_boxes, page.new_area) == (0, 1, 0.05)
    assert (page.exemptions_gained, page.exemptions_dropped) == (["b6"], [])
    assert [p.text for p in page.removed] == [REMOVED_SENTENCE]
    assert page.added == []
    assert (page.old_bates, page.new_bates) == ("ICE-2016-000002", "ICE2017-000002")


def test_dropped_and_reordered_pages(diff: Diff) -> None:
    c = _by_old_path(diff)["report-c.pdf"]
    assert (c.pages_removed, c.pages_added, c.reordered, c.pages) == ([3], [], True, [])


def test_a_page_withheld_in_full_takes_its_place(diff: Diff) -> None:
    g = _by_old_path(diff)["memo-g.pdf"]
    assert (g.pages_removed, g.pages_added) == ([], [])
    (page,) = g.pages
    assert (page.old_page, page.new_page, page.old_withheld, page.new_withheld) == (
        2,
        2,
        False,
        True,
    )
    assert page.exemptions_gained == ["b5"]
    assert sum(p.words for p in page.removed) >= 80
    assert [p.text for p in page.added] == [PLACEHOLDER]


def test_table_columns_withheld_blanked_and_dropped(diff: Diff) -> None:
    table = _by_old_path(diff)["cases-2016.csv"].table
    assert table is not None
    assert (table.old_rows, table.new_rows) == (120, 130)
    verdicts = {c.name: c.verdict for c in table.columns}
    assert verdicts == {
        "case_id": "",
        "county": "blanked",
        "officer": "withheld",
        "notes": "dropped",
    }
    officer = next(c for c in table.columns if c.name == "officer")
    assert (officer.old_filled, officer.new_withheld) == (1.0, 1.0)
    assert table.key == "case_id"
    assert (table.old_key_range, table.new_key_range) == (["1000", "1119"], ["2000", "2129"])


def test_summary_in_plain_words(diff: Diff) -> None:
    summary = "\n".join(diff.to_dict()["summary"])
    assert "Pages withheld in full: 1 (was 0)." in summary
    assert "Exemption (b)(6): cited on 4 pages (was 0)." in summary  # a memo, 3 of rows
    assert "6 documents appear in both releases (1 identical, 4 changed)" in summary
    assert (
        "column 'officer' was filled in 100.0% of rows in ice-2016 and 0.0% in ice-2017" in summary
    )
    assert "column 'notes' was in ice-2016 and is gone from ice-2017." in summary
    assert "130 rows (was 120" in summary
    # every officer cell of the new release cites (b)(6): counted as cells, not just pages
    assert "Exemption (b)(6): cited in 130 table cells (was 0)." in summary
    assert diff.new.exemption_cells == {"b6": 130}


def test_cli_formats_and_determinism(releases: Path) -> None:
    first = run_json("diff", "ice-2016", "ice-2017", archive=releases)
    assert run_json("diff", "ice-2016", "ice-2017", archive=releases) == first
    text = run_cli("diff", "ice-2016", "ice-2017", archive=releases)
    assert text.exit_code == 0 and "pages removed: 3" in text.output
    assert f'- "{REMOVED_SENTENCE}"' in text.output
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_cli("diff", "ice-2016", "ice-2017", "--format", "csv", archive=releases).stdout
            )
        )
    )
    kinds = {(r["change"], r["old_path"], r["old_page"]) for r in rows}
    assert ("page_removed", "report-c.pdf", "3") in kinds
    assert ("document_only_in_old", "only-old.pdf", "") in kinds
    assert any(
        r["change"] == "column" and r["detail"].startswith("'officer': withheld") for r in rows
    )
    out = releases / "report.html"
    html = run_cli(
        "diff", "ice-2016", "ice-2017", "--format", "html", "--output", out, archive=releases
    )
    assert html.exit_code == 0
    page = out.read_text()
    assert page.count('class="bar new"') >= 6 and "<svg" in page and "only-old.pdf" in page
    assert "href=" not in page  # a file that stands alone: no links into a server
    assert (first["old"]["withheld_in_full"], first["new"]["withheld_in_full"]) == (0, 1)


def test_unknown_production_is_one_line(releases: Path) -> None:
    result = run_cli("diff", "ice-2016", "nope", archive=releases)
    assert result.exit_code == 1 and "no production 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("cell", "withheld"),
    [
        ("(b)(6)", True),
        ("(b)(6), (b)(7)(C)", True),
        ("B7C", True),
        ("Ex. 6", True),
        ("[REDACTED]", True),
        ("Withheld", True),
        ("(b)(6)/(b)(7)(c)", True),
        ("Officer 12", False),
        ("b street", False),
        ("6", False),
        ("", False),
    ],
)
def test_withheld_cells(cell: str, withheld: bool) -> None:
    assert is_withheld_cell(cell) is withheld


def test_exemption_labels() -> None:
    assert [exemption_label(c) for c in ("b6", "b7c", "b5")] == ["(b)(6)", "(b)(7)(C)", "(b)(5)"]


def test_two_real_ingests_of_a_release(sample_source: Path, tmp_path: Path) -> None:
    """End to end: the sample production, then a second release of it with changes."""
    import shutil

    second = tmp_path / "release-2"
    shutil.copytree(sample_source, second)
    (second / "scans").mkdir(exist_ok=True)
    scanned = next(p for p in second.rglob("*.pdf") if "scanned" in p.name)
    scanned.rename(second / "scans" / "renamed memo.pdf")
    (second / "README-from-agency.txt").unlink()
    table = second / "removals-by-county.csv"
    lines = list(csv.reader(table.open(newline="")))
    with table.open("w", newline="") as handle:
        csv.writer(handle).writerows([lines[0]] + [[r[0], "", *r[2:]] for r in lines[1:]])
    archive = tmp_path / "archive"
    for folder, production in ((sample_source, "r1"), (second, "r2")):
        result = run_cli(
            "ingest", folder, "--id", production, "--agency", "ICE", "--quiet", archive=archive
        )
        assert result.exit_code == 0, result.output
    report = run_json("diff", "r1", "r2", archive=archive)
    renamed = [c for c in report["matched"] if c["new"]["path"] == "scans/renamed memo.pdf"]
    assert len(renamed) == 1 and renamed[0]["kind"] == "identical"
    assert [r["path"] for r in report["only_old"]] == ["README-from-agency.txt"]
    assert report["only_new"] == []
    (cases,) = [c for c in report["matched"] if c["new"]["path"] == "removals-by-county.csv"]
    verdicts = {c["name"]: c["verdict"] for c in cases["table"]["columns"]}
    assert verdicts == {n: "blanked" if n == "county" else "" for n in verdicts}
    assert [c for c in report["matched"] if c["changed"]] == [cases]


def test_workbook_sheets_are_paired_by_header(tmp_path: Path) -> None:
    """A CSV and the same records as a workbook with a scratch sheet: only the scratch sheet
    is news."""
    from openpyxl import Workbook

    from foiarchive.disclosure.tables import compare_tables
    from foiarchive.ingest.textual import xlsx_pages

    records = [[str(100 + i), f"County {i}", "(b)(6)"] for i in range(60)]
    old_pages, old_columns = _table(tmp_path, "old.csv", ["id", "county", "officer"], records)
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["2021-04-29", "scratch"])
    book.active.append(["2021-01-23", "more"])
    cases = book.create_sheet("Cases")
    cases.append(["id", "county", "officer"])
    for row in records:
        cases.append(row)
    book.save(tmp_path / "new.xlsx")
    table = xlsx_pages(tmp_path / "new.xlsx", Limits())
    change = compare_tables(old_pages, old_columns, table.pages, table.columns)
    assert (change.old_sheet, change.new_sheet, change.other_sheets) == (
        "",
        "Cases",
        ["Notes (new)"],
    )
    assert (change.old_rows, change.new_rows) == (60, 60)
    assert [c.verdict for c in change.columns] == ["", "", ""]
    assert (change.key, change.new_key_range) == ("id", ["100", "159"])


def test_a_new_release_that_leaks_what_the_old_withheld_and_one_that_fixes_a_leak(
    tmp_path: Path,
) -> None:
    """The diff says when a page of the new release carries, hidden under a box, words the
    old release's page did not show, and when a leak of the old release is gone."""
    archive = tmp_path / "archive"
    base = _texts(7, 2)
    secret = "Harriet Quimby"
    under = {"kind": "under_shape", "page": 1, "box": [0.1, 0.1, 0.3, 0.12], "text": secret}
    with Archive(archive).catalog(create=True) as catalog:
        catalog.put_production(Production(id="r1", agency="ICE", release_date="2016-05-01"))
        catalog.put_production(Production(id="r2", agency="ICE", release_date="2017-09-01"))
        # memo: r1 redacted the name properly; r2 left it under the box
        _put(catalog, "r1", "memo.pdf", base, sha="a")
        _put(
            catalog,
            "r2",
            "memo.pdf",
            [base[0] + " " + secret, base[1]],
            sha="b",
            pages={1: {"leaks": [under]}},
        )
        # letter: r1 leaked a name under a box, r2 took it out of the file
        letter = _texts(8, 1)
        _put(
            catalog,
            "r1",
            "letter.pdf",
            [letter[0] + " Amelia Earhart"],
            sha="c",
            pages={1: {"leaks": [{**under, "text": "Amelia Earhart"}]}},
        )
        _put(catalog, "r2", "letter.pdf", letter, sha="d")
        found = diff_productions(catalog, "r1", "r2")
    memo = next(c for c in found.matched if c.new.path == "memo.pdf")
    (page,) = memo.pages
    assert [(leak.kind, leak.text, leak.withheld_before) for leak in page.leaks_added] == [
        ("under_shape", secret, True)
    ]
    letter_change = next(c for c in found.matched if c.new.path == "letter.pdf")
    assert [leak.text for leak in letter_change.pages[0].leaks_fixed] == ["Amelia Earhart"]
    summary = summarize(found)
    assert "1 leaks in r2 that r1 did not have; 1 of them carry text r1 withheld." in summary
    assert f"memo.pdf p. 1: r2 still carries '{secret}' (under_shape), which r1 withheld." in (
        summary
    )
    assert "1 leaks of r1 are gone from r2 (fixed)." in summary
