"""Row pages: how a spreadsheet of case-by-case records is kept as pages of text.

Each page holds up to ROWS_PER_PAGE rows under a heading that names the sheet and the rows
("Cases, rows 2-51", or "Rows 2-51" for a CSV); each row is one line of its non-blank cells,
"column: value | column: value". Ingest writes them, the disclosure reports read the cells back
and search names the row a hit is on: all through this module.
"""

from __future__ import annotations

import re

ROWS_PER_PAGE = 50
_HEADING = re.compile(r"^(?:(?P<label>.*), rows|Rows) (?P<first>\d+)-(?P<last>\d+)(?: \(.*\))?$")


def heading(label: str | None, first: int, last: int, titles: list[str] | None = None) -> str:
    text = f"{label}, rows {first}-{last}" if label else f"Rows {first}-{last}"
    return text + (" (" + " / ".join(titles) + ")" if titles else "")


def parse_heading(line: str) -> tuple[str, int, int] | None:
    """(sheet label, first row, last row) of a row page's first line, or None."""
    match = _HEADING.match(line)
    if match is None:
        return None
    return match["label"] or "", int(match["first"]), int(match["last"])


def row_line(cells: list[tuple[str, str]]) -> str:
    return " | ".join(f"{name}: {value}" for name, value in cells)


def parse_row(line: str, known: list[str]) -> dict[str, str]:
    """A row line's cells as {column: value}. `known` are the table's column names, longest
    first, so that a value holding ": " or " | " is not taken for a new cell."""
    row: dict[str, str] = {}
    last = ""
    for cell in line.split(" | ") if line else []:
        name = next((c for c in known if cell.startswith(c + ": ")), None)
        if name is None and ": " in cell and not known:
            name = cell.split(": ", 1)[0]
        if name is None:  # a value that itself held " | "
            if last:
                row[last] += " | " + cell
            continue
        row[name] = cell[len(name) + 2 :]
        last = name
    return row


def row_of_line(text: str, offset: int) -> int | None:
    """The spreadsheet row number of the line at character `offset` of a row page's text
    (None on the heading, or if the text is not a row page)."""
    first_line = text.split("\n", 1)[0]
    parsed = parse_heading(first_line)
    if parsed is None:
        return None
    line = text.count("\n", 0, offset)
    return parsed[1] + line - 1 if line >= 1 else None
