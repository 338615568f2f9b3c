"""Rows written as they come, to CSV, JSON Lines or XLSX: what exports of hits and batch
searches are downloaded as. Nothing is held but the row being written (openpyxl's write-only
workbook keeps its rows in a temporary file until it is saved)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import IllegalCharacterError

Format = Literal["csv", "jsonl", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: A spreadsheet program runs a cell starting with one of these as a formula (CSV injection):
#: such a cell gets a leading apostrophe, which shows the text as it is.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit per cell.
_MAX_CELL = 32_767


def cell(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    return text[:_MAX_CELL]


def write_csv(stream: IO[str], columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([cell(row.get(c, "")) for c in columns])
        count += 1
    return count


def write_jsonl(stream: IO[str], rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_xlsx(
    stream: IO[bytes], columns: Sequence[str], rows: Iterable[dict[str, Any]], title: str = "hits"
) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(columns))
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(c, "")) for c in columns])
        count += 1
    workbook.save(stream)
    return count


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    try:
        return WriteOnlyCell(sheet, cell(value))
    except IllegalCharacterError:  # control characters an OCR'd page can hold
        text = "".join(ch for ch in str(value) if ch in "\t\n" or ord(ch) >= 32)
        return WriteOnlyCell(sheet, cell(text))


def text_chunks(
    output_format: Literal["csv", "jsonl"], columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> Iterator[bytes]:
    """The same output as bytes, a few hundred rows at a time: a web response's body."""
    buffer = io.StringIO()
    pending = 0

    writer = csv.writer(buffer, lineterminator="\n")
    if output_format == "csv":
        writer.writerow(columns)
    for row in rows:
        if output_format == "csv":
            writer.writerow([cell(row.get(c, "")) for c in columns])
        else:
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
        pending += 1
        if pending >= 200:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()


def write_rows(
    stream: IO[bytes],
    output_format: Literal["csv", "jsonl", "xlsx"],
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
) -> int:
    """Rows as CSV, JSON Lines or XLSX into a binary stream, streamed; how many were written."""
    if output_format == "xlsx":
        return write_xlsx(stream, columns, rows)
    written = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal written
        for row in rows:
            written += 1
            yield row

    for chunk in text_chunks(output_format, columns, counted()):
        stream.write(chunk)
    return written
