"""Plain text, CSV and XLSX as pages of searchable text.

Spreadsheets of case-by-case records become pages of rows: each page holds up to
ROWS_PER_PAGE rows, one line per row with each value after its column name, so a search
hit points at a small, citable block of rows (the page's first line names the sheet and rows).
"""

from __future__ import annotations

import csv
import itertools
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.limits import Limits
from foiarchive.schemas import Page
from foiarchive.schemas.rows import ROWS_PER_PAGE, heading, row_line

#: Rows above the header an agency may fill with a title block.
MAX_TITLE_ROWS = 12
TEXT_PAGE_CHARS = 20_000
_XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024


class Table(NamedTuple):
    pages: list[Page]
    columns: list[str]  # the header as released (sheets' headers in order, each name once)


def text_pages(path: Path, encoding: str) -> list[Page]:
    """A text file: pages split on form feeds, long runs cut at line ends."""
    try:
        content = path.read_text(encoding=encoding or "utf-8", errors="replace")
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc}") from None
    return split_text(content)


def split_text(content: str) -> list[Page]:
    """Text as pages: split on form feeds, long runs cut at line ends."""
    chunks: list[str] = []
    for part in content.split("\f"):
        while len(part) > TEXT_PAGE_CHARS:
            cut = part.rfind("\n", 0, TEXT_PAGE_CHARS)
            cut = cut if cut > 0 else TEXT_PAGE_CHARS
            chunks.append(part[:cut])
            part = part[cut:].lstrip("\n")
        chunks.append(part)
    if content.endswith("\f") and len(chunks) > 1 and not chunks[-1].strip():
        chunks.pop()
    return [
        Page(number=i, text=chunk.strip("\n"), text_source="text")
        for i, chunk in enumerate(chunks, start=1)
    ]


def csv_pages(path: Path, encoding: str, limits: Limits) -> Table:
    try:
        with path.open(encoding=encoding or "utf-8", errors="replace", newline="") as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
            except csv.Error:
                dialect = csv.excel
            rows = csv.reader(handle, dialect)
            return _row_pages(_bounded(rows, limits, path.name), label=None)
    except csv.Error as exc:
        raise IngestError(f"malformed CSV: {exc}") from None
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc}") from None


def xlsx_pages(path: Path, limits: Limits) -> Table:
    _check_zip_bomb(path)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise IngestError(f"damaged or unreadable XLSX: {exc}") from None
    pages: list[Page] = []
    columns: dict[str, None] = {}
    try:
        for sheet in workbook.worksheets:
            rows = (
                ["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)
            )
            table = _row_pages(_bounded(rows, limits, path.name), label=sheet.title)
            columns.update(dict.fromkeys(table.columns))
            for page in table.pages:
                page.number = len(pages) + 1
                pages.append(page)
    finally:
        workbook.close()
    return Table(pages or [Page(number=1, text="", text_source="text")], list(columns))


def _check_zip_bomb(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise IngestError(f"damaged XLSX container: {exc}") from None
    if total > _XLSX_MAX_UNCOMPRESSED:
        raise IngestError(f"XLSX unpacks to {total:,} bytes, over the 1 GiB limit (zip bomb?)")


def _bounded(rows: Iterable[list[str]], limits: Limits, name: str) -> Iterator[list[str]]:
    for count, row in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise IngestError(f"more than {limits.max_rows:,} rows")
        yield row


_Header = tuple[list[str] | None, int, list[str], list[list[str]]]


def _find_header(rows: Iterator[list[str]]) -> _Header:
    """The header row, its row number, title lines above it, and rows read past it.

    Agencies often put a title block above the header ("ERO Custody Management Division",
    the request number, the data's dates, group headings): the header is the first of the
    opening rows filled at least half as fully as the fullest of them. A table of one column
    has no such row: its first row is the header.
    """
    opening = list(itertools.islice(rows, MAX_TITLE_ROWS))
    if not opening:
        return None, 0, [], []
    counts = [sum(1 for value in row if value and value.strip()) for row in opening]
    needed = max(2, max(counts) / 2)
    at = next((i for i, count in enumerate(counts) if count >= needed), 0)
    titles = [v.strip() for row in opening[:at] for v in row if v and v.strip()]
    return opening[at], at + 1, titles, opening[at + 1 :]


def _row_pages(rows: Iterator[list[str]], label: str | None) -> Table:
    header, header_row, titles, pending = _find_header(rows)
    if header is None:
        return Table([], [])
    columns = [h.strip() or f"column {i + 1}" for i, h in enumerate(header)]
    pages: list[Page] = []
    block: list[str] = []
    first_row = header_row + 1  # spreadsheet row numbers

    def flush(last_row: int) -> None:
        # the title block stays searchable, on the first page
        top = heading(label, first_row, last_row, titles if not pages else None)
        pages.append(Page(number=len(pages) + 1, text="\n".join([top, *block]), text_source="text"))

    row_number = header_row
    for row_number, row in enumerate(itertools.chain(pending, rows), start=header_row + 1):
        cells = [
            (columns[i] if i < len(columns) else f"column {i + 1}", value.strip())
            for i, value in enumerate(row)
            if value and value.strip()
        ]
        block.append(row_line(cells))
        if len(block) == ROWS_PER_PAGE:
            flush(row_number)
            block, first_row = [], row_number + 1
    if block or not pages:
        flush(row_number)
    return Table(pages, columns)
