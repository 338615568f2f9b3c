"""The diff report as text, CSV rows and a self-contained HTML page with a chart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from foiarchive.disclosure.diff import (
    Diff,
    DocumentChange,
    PageChange,
    percent,
    summarize,
)
from foiarchive.disclosure.tables import ColumnChange
from foiarchive.schemas.exemptions import exemption_label

CSV_COLUMNS = [
    "change",
    "old_document",
    "old_path",
    "old_page",
    "new_document",
    "new_path",
    "new_page",
    "detail",
]


def page_facts(change: PageChange) -> list[str]:
    """The changes of one page pair, each a short phrase."""
    facts = []
    if change.compared_by == "pixels":
        facts += _region_facts(change)
    elif change.old_boxes != change.new_boxes or abs(change.old_area - change.new_area) > 0.001:
        facts.append(
            f"redaction boxes {change.old_boxes} -> {change.new_boxes}, "
            f"area {percent(change.old_area)} -> {percent(change.new_area)}"
        )
    facts += [f"+{exemption_label(c)}" for c in change.exemptions_gained]
    facts += [f"-{exemption_label(c)}" for c in change.exemptions_dropped]
    if change.old_withheld != change.new_withheld:
        facts.append("now withheld in full" if change.new_withheld else "no longer withheld")
    for leak in change.leaks_added:
        given = ", withheld before" if leak.withheld_before else ""
        facts.append(f"new leak {leak.kind}: '{leak.text}'{given}")
    facts += [f"leak fixed {leak.kind}: '{leak.text}'" for leak in change.leaks_fixed]
    return facts


def _region_facts(change: PageChange) -> list[str]:
    """A scan pair's changes as its images show them (the catalog's box counts are OCR's)."""
    facts = []
    if change.boxes_added:
        facts.append(f"{change.boxes_added} redaction boxes added")
    if change.boxes_lifted:
        facts.append(f"{change.boxes_lifted} redaction boxes lifted")
    if change.markings:
        facts.append(f"{change.markings} stamps or markings changed")
    return facts


def column_change(column: ColumnChange) -> str:
    if column.verdict in ("dropped", "added"):
        return f"'{column.name}': {column.verdict}"
    return (
        f"'{column.name}': {column.verdict} (filled {percent(column.old_filled)} -> "
        f"{percent(column.new_filled)})"
    )


def _where(change: PageChange) -> str:
    old = f"p. {change.old_page}" + (f" {change.old_bates}" if change.old_bates else "")
    new = f"p. {change.new_page}" + (f" {change.new_bates}" if change.new_bates else "")
    return f"{old} -> {new}"


def text_report(diff: Diff) -> Iterator[str]:
    yield f"{diff.old.production} -> {diff.new.production}"
    yield ""
    yield from (f"* {line}" for line in summarize(diff))
    changed = [c for c in diff.matched if c.changed]
    yield ""
    yield f"Changed documents ({len(changed)} of {len(diff.matched)} in both releases):"
    for change in changed:
        yield from _document_lines(change)
    for label, refs in ((diff.old.production, diff.only_old), (diff.new.production, diff.only_new)):
        if refs:
            yield ""
            yield f"Only in {label} ({len(refs)}):"
            yield from (f"  {r.path} ({r.pages} pages)" for r in refs)


def _document_lines(change: DocumentChange) -> Iterator[str]:
    names = (
        change.old.path
        if change.old.path == change.new.path
        else (f"{change.old.path} -> {change.new.path}")
    )
    yield f"  [{change.kind}] {names}"
    if change.pages_removed:
        yield f"    pages removed: {', '.join(map(str, change.pages_removed))}"
    if change.pages_added:
        yield f"    pages added: {', '.join(map(str, change.pages_added))}"
    if change.reordered:
        yield "    pages reordered"
    for page in change.pages:
        facts = page_facts(page)
        yield f"    {_where(page)}" + (f": {'; '.join(facts)}" if facts else "")
        for passage in page.removed:
            yield f'      - "{passage.text}"'
        for passage in page.added:
            yield f'      + "{passage.text}"'
    if change.table is not None:
        table = change.table
        if table.old_sheet or table.new_sheet:
            yield f"    sheet compared: {table.old_sheet or '-'} -> {table.new_sheet or '-'}"
        if table.other_sheets:
            yield f"    sheets not compared: {', '.join(table.other_sheets)}"
        if table.old_rows != table.new_rows:
            yield f"    rows: {table.old_rows:,} -> {table.new_rows:,}"
        if table.key:
            yield (
                f"    {table.key}: {' to '.join(table.old_key_range)} -> "
                f"{' to '.join(table.new_key_range)}"
            )
        for column in table.columns:
            if column.verdict:
                yield f"    column {column_change(column)}"


def csv_rows(diff: Diff) -> Iterator[dict[str, Any]]:
    """One row per change, for spreadsheets."""
    for ref in diff.only_old:
        yield _row("document_only_in_old", old=(ref.document, ref.path, ""))
    for ref in diff.only_new:
        yield _row("document_only_in_new", new=(ref.document, ref.path, ""))
    for change in diff.matched:
        old = (change.old.document, change.old.path)
        new = (change.new.document, change.new.path)
        for number in change.pages_removed:
            yield _row("page_removed", old=(*old, number), new=(*new, ""))
        for number in change.pages_added:
            yield _row("page_added", old=(*old, ""), new=(*new, number))
        if change.reordered:
            yield _row("pages_reordered", old=(*old, ""), new=(*new, ""))
        for page in change.pages:
            ends = {"old": (*old, page.old_page), "new": (*new, page.new_page)}
            for fact in page_facts(page):
                yield _row("page_marks", detail=fact, **ends)
            for passage in page.removed:
                yield _row("text_removed", detail=passage.text, **ends)
            for passage in page.added:
                yield _row("text_added", detail=passage.text, **ends)
        if change.table is not None:
            for column in change.table.columns:
                if column.verdict:
                    detail = column_change(column)
                    yield _row("column", detail=detail, old=(*old, ""), new=(*new, ""))
            if change.table.old_rows != change.table.new_rows:
                detail = f"{change.table.old_rows} -> {change.table.new_rows}"
                yield _row("rows", detail=detail, old=(*old, ""), new=(*new, ""))


def _row(
    change: str,
    *,
    old: tuple[Any, ...] = ("", "", ""),
    new: tuple[Any, ...] = ("", "", ""),
    detail: str = "",
) -> dict[str, Any]:
    return dict(zip(CSV_COLUMNS, (change, *old, *new, detail), strict=True))
