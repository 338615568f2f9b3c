"""Merged production PDFs (one 3,000-page file holding hundreds of records) cut into records.

Two ways, chosen with `ingest --split`:

* an inventory the agency supplied: a CSV with a first and a last Bates number per record
  (columns such as BegBates/EndBates, Bates Begin/Bates End, Start/End; a Title or
  Description column names the record), matched to the Bates stamps read on the pages;
* page signals (`--split auto`): a Bates sequence that starts over or changes prefix, a page
  that opens a printed email (From:/Sent:/To:/Subject: lines), "Page 1 of N", the start or
  end of FBI deleted page information sheets, and a change of page size.

Each cut says why it was made, so the report shows the boundaries chosen.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from foiarchive.ingest.errors import IngestError
from foiarchive.schemas import Page, bates_columns, find_bates, parse_bates, prefix_key

# An email printout opens its page with From:, then Sent: or Date:, then To: (a stamp or the
# sender's name may come first); quoted headers further down a page are not a new record.
_EMAIL_OPENING = re.compile(
    r"\A(?:[^\n]*\n){0,3}?\s*From:[^\n]+\n(?:[^\n]*\n){0,4}?\s*(?:Sent|Date):[^\n]+\n"
    r"(?:[^\n]*\n){0,4}?\s*To:",
    re.I,
)
_PAGE_ONE = re.compile(r"\bPage\s+1\s+of\s+\d+\b", re.I)
#: Scanned pages of one record differ in size by a few percent (612 to 633 points wide in
#: one FBI release); letter to legal or A4 is a change of 6 % or more.
_SIZE_TOLERANCE = 0.05
#: Numbers skipped between two pages of one record (pages withheld in full, unnumbered sheets).
_BATES_GAP = 50
_TITLE = ("title", "description", "doctitle", "subject", "name", "document")


@dataclass(frozen=True)
class Segment:
    first: int  # page numbers in the merged PDF, inclusive
    last: int
    reason: str
    title: str = ""


@dataclass(frozen=True)
class InventoryRow:
    line: int
    begin: str  # Bates as written
    end: str
    title: str


def read_inventory(path: Path) -> list[InventoryRow]:
    """The agency's index of records; IngestError names the file and what is wrong."""
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the inventory: {exc.strerror or exc}") from None
    if not rows:
        raise IngestError(f"{path}: the inventory is empty")
    begin, end = bates_columns(rows[0])
    names = [re.sub(r"[^a-z]", "", h.lower()) for h in rows[0]]
    title = next((i for i, n in enumerate(names) if n in _TITLE), None)
    if begin is None or end is None:
        raise IngestError(
            f"{path}: no first/last Bates columns (expected names such as BegBates and EndBates; "
            f"found {', '.join(rows[0])})"
        )
    inventory = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) <= max(begin, end) or not row[begin].strip():
            continue
        inventory.append(
            InventoryRow(
                line,
                row[begin].strip(),
                row[end].strip() or row[begin].strip(),
                row[title].strip() if title is not None and len(row) > title else "",
            )
        )
    return inventory


def by_inventory(pages: list[Page], inventory: list[InventoryRow]) -> list[Segment]:
    """Segments for the rows whose Bates range holds pages of this PDF, in page order."""
    stamps = _stamps(pages)
    owner: dict[int, InventoryRow] = {}
    for row in inventory:
        first, last = parse_bates(row.begin), parse_bates(row.end)
        if first is None or last is None:
            continue
        key = prefix_key(first.prefix)
        for page in pages:
            stamp = stamps.get(page.number)
            if stamp and stamp[0] == key and first.number <= stamp[1] <= last.number:
                owner.setdefault(page.number, row)
    if not owner:
        return []
    segments: list[Segment] = []
    for page in pages:
        owner_row = owner.get(page.number)
        reason = (
            f"inventory line {owner_row.line}: {owner_row.begin} to {owner_row.end}"
            if owner_row
            else ("pages outside every inventory range")
        )
        if segments and segments[-1].reason == reason and segments[-1].last == page.number - 1:
            segments[-1] = Segment(segments[-1].first, page.number, reason, segments[-1].title)
        else:
            segments.append(
                Segment(page.number, page.number, reason, owner_row.title if owner_row else "")
            )
    return segments


def by_signals(pages: list[Page]) -> list[Segment]:
    """Segments starting where a new record visibly begins."""
    stamps = _stamps(pages)
    segments: list[Segment] = []
    previous: Page | None = None
    for page in pages:
        reason = "first page" if previous is None else _starts_record(previous, page, stamps)
        if reason:
            segments.append(Segment(page.number, page.number, reason))
        else:
            start = segments[-1]
            segments[-1] = Segment(start.first, page.number, start.reason, start.title)
        previous = page
    return segments


def _starts_record(previous: Page, page: Page, stamps: dict[int, tuple[str, int]]) -> str:
    before, now = stamps.get(previous.number), stamps.get(page.number)
    if before and now:
        follows = before[1] < now[1] <= before[1] + _BATES_GAP
        if now[0] != before[0] and not follows:
            # A prefix OCR misread ("19-cy-4048" for "19-cv-4048") still numbers on: no cut.
            return "the Bates prefix changes"
        if now[1] <= before[1]:
            return "the Bates numbers start over"
    if bool(previous.withheld_pages) != bool(page.withheld_pages):
        return (
            "deleted page information sheets begin"
            if page.withheld_pages
            else "the deleted page information sheets end"
        )
    if _EMAIL_OPENING.search(page.text.lstrip()[:1500]):
        return "a printed email begins"
    if _PAGE_ONE.search(page.text) and not _PAGE_ONE.search(previous.text):
        return "'Page 1 of N'"
    if _resized(previous, page):
        return "the page size changes"
    return ""


def _resized(previous: Page, page: Page) -> bool:
    width, height, new_width, new_height = previous.width, previous.height, page.width, page.height
    if not (width and height and new_width and new_height):
        return False
    return (
        abs(new_width - width) > _SIZE_TOLERANCE * width
        or abs(new_height - height) > _SIZE_TOLERANCE * height
    )


def _stamps(pages: list[Page]) -> dict[int, tuple[str, int]]:
    """page -> (prefix key, number) of the last Bates-like stamp read on it."""
    found = {}
    for page in pages:
        stamps = find_bates(page.text)
        if stamps:
            found[page.number] = (prefix_key(stamps[-1].prefix), stamps[-1].number)
    return found
