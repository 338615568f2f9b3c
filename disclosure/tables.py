"""Two releases of a table (yearly case-by-case data): which columns the agency stopped filling.

Rows are read back from the catalog's row pages ("column: value | column: value", blank cells
left out; see ingest.textual), so no original is reopened. A cell counts as withheld when it
holds nothing but exemption codes or words such as REDACTED or WITHHELD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from foiarchive.schemas import Page
from foiarchive.schemas.exemptions import is_withheld_cell
from foiarchive.schemas.rows import parse_heading, parse_row

_KEY_NAME = re.compile(r"(?:^|[\s_#-])(?:id|no|num|number|key|case|record)(?:$|[\s_#-])", re.I)
#: A change in a column's filled share smaller than this is noise, not news.
NOTABLE = 0.10


@dataclass
class ColumnProfile:
    rows: int = 0
    blank: int = 0
    withheld: int = 0
    values: list[str] = field(default_factory=list)

    @property
    def filled(self) -> int:
        return self.rows - self.blank - self.withheld


@dataclass
class ColumnChange:
    name: str
    in_old: bool
    in_new: bool
    old_blank: float
    new_blank: float
    old_withheld: float
    new_withheld: float
    verdict: str  # dropped, added, withheld, blanked, released, less filled, more filled, ""

    @property
    def old_filled(self) -> float:
        return round(1 - self.old_blank - self.old_withheld, 4) if self.in_old else 0.0

    @property
    def new_filled(self) -> float:
        return round(1 - self.new_blank - self.new_withheld, 4) if self.in_new else 0.0


@dataclass
class TableChange:
    old_rows: int
    new_rows: int
    columns: list[ColumnChange]
    key: str = ""
    old_key_range: list[str] = field(default_factory=list)
    new_key_range: list[str] = field(default_factory=list)
    old_sheet: str = ""  # the sheets compared, for workbooks ('' for a CSV)
    new_sheet: str = ""
    other_sheets: list[str] = field(default_factory=list)  # sheets left out, "name (old|new)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_rows": self.old_rows,
            "new_rows": self.new_rows,
            "key": self.key,
            "old_key_range": self.old_key_range,
            "new_key_range": self.new_key_range,
            "old_sheet": self.old_sheet,
            "new_sheet": self.new_sheet,
            "other_sheets": self.other_sheets,
            "columns": [
                {**c.__dict__, "old_filled": c.old_filled, "new_filled": c.new_filled}
                for c in self.columns
            ],
        }


def rows(pages: list[Page], columns: list[str]) -> list[dict[str, str]]:
    """The table's rows, each {column: value} for its non-blank cells."""
    return [row for sheet in sheets(pages, columns).values() for row in sheet.rows]


@dataclass
class Sheet:
    columns: list[str]
    rows: list[dict[str, str]]


def sheets(pages: list[Page], columns: list[str]) -> dict[str, Sheet]:
    """A workbook's sheets (a CSV is one sheet named ''), each with its columns and rows.

    Row pages name their sheet in their first line ("Cases, rows 2-51"). The header kept at
    ingest is one list for the whole workbook: a column is given to the sheets whose rows use
    it, and one no row uses (released blank everywhere) to the sheet with the most rows.
    """
    known = sorted(columns, key=len, reverse=True)
    found: dict[str, Sheet] = {}
    for page in pages:
        heading, *lines = page.text.split("\n")
        parsed = parse_heading(heading)
        sheet = found.setdefault(parsed[0] if parsed else "", Sheet([], []))
        for line in lines:
            sheet.rows.append(parse_row(line, known))
    for sheet in found.values():
        used = {name for row in sheet.rows for name in row}
        sheet.columns = [c for c in columns if c in used] or sorted(used)
        sheet.columns += sorted(used - set(sheet.columns))
    if found:
        unused = [c for c in columns if not any(c in s.columns for s in found.values())]
        largest = max(found.values(), key=lambda s: len(s.rows))
        largest.columns += unused
    return found


def _profiles(table: list[dict[str, str]], columns: list[str]) -> dict[str, ColumnProfile]:
    profiles = {name: ColumnProfile(rows=len(table)) for name in columns}
    for row in table:
        for name, profile in profiles.items():
            value = row.get(name, "").strip()
            if not value:
                profile.blank += 1
            elif is_withheld_cell(value):
                profile.withheld += 1
            else:
                profile.values.append(value)
    return profiles


def _normal(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").split())


def compare_tables(
    old_pages: list[Page], old_columns: list[str], new_pages: list[Page], new_columns: list[str]
) -> TableChange:
    """The two releases' matching sheets compared (the pair sharing most column names)."""
    old_sheets, new_sheets = sheets(old_pages, old_columns), sheets(new_pages, new_columns)
    pairs = sorted(
        (
            (-_overlap(a.columns, b.columns), -len(a.rows) - len(b.rows), a_name, b_name)
            for a_name, a in old_sheets.items()
            for b_name, b in new_sheets.items()
        )
    )
    if not pairs:
        return TableChange(0, 0, [])
    _, _, old_name, new_name = pairs[0]
    old, new = old_sheets[old_name], new_sheets[new_name]
    change = _compare_sheets(old, new)
    change.old_sheet, change.new_sheet = old_name, new_name
    change.other_sheets = sorted(
        [f"{name} (old)" for name in old_sheets if name != old_name]
        + [f"{name} (new)" for name in new_sheets if name != new_name]
    )
    return change


def _overlap(a: list[str], b: list[str]) -> float:
    left, right = {_normal(c) for c in a}, {_normal(c) for c in b}
    return len(left & right) / len(left | right) if left | right else 0.0


def _compare_sheets(old: Sheet, new: Sheet) -> TableChange:
    old_profiles = _profiles(old.rows, old.columns)
    new_profiles = _profiles(new.rows, new.columns)
    new_by_name = {_normal(c): c for c in new.columns}
    changes = []
    for name in old.columns:
        twin = new_by_name.pop(_normal(name), None)
        changes.append(_column(name, old_profiles[name], new_profiles.get(twin) if twin else None))
    for twin in new_by_name.values():
        changes.append(_column(twin, None, new_profiles[twin]))
    change = TableChange(len(old.rows), len(new.rows), changes)
    key = _key_column(old_profiles, new_profiles, new.columns)
    if key:
        old_key, new_key = key
        change.key = old_key
        change.old_key_range = _range(old_profiles[old_key].values)
        change.new_key_range = _range(new_profiles[new_key].values)
    return change


def _column(name: str, old: ColumnProfile | None, new: ColumnProfile | None) -> ColumnChange:
    def share(profile: ColumnProfile | None, count: str) -> float:
        if profile is None or not profile.rows:
            return 0.0
        return round(getattr(profile, count) / profile.rows, 4)

    change = ColumnChange(
        name,
        old is not None,
        new is not None,
        share(old, "blank"),
        share(new, "blank"),
        share(old, "withheld"),
        share(new, "withheld"),
        "",
    )
    if old is None:
        change.verdict = "added"
    elif new is None:
        change.verdict = "dropped"
    elif change.old_filled >= 0.5 > change.new_filled:
        change.verdict = "withheld" if change.new_withheld >= change.new_blank else "blanked"
    elif change.new_filled >= 0.5 > change.old_filled:
        change.verdict = "released"
    elif change.new_filled <= change.old_filled - NOTABLE:
        change.verdict = "less filled"
    elif change.new_filled >= change.old_filled + NOTABLE:
        change.verdict = "more filled"
    return change


def _key_column(
    old: dict[str, ColumnProfile], new: dict[str, ColumnProfile], new_columns: list[str]
) -> tuple[str, str] | None:
    """A column in both releases whose values are present and distinct in each: the record id."""
    new_by_name = {_normal(c): c for c in new_columns}
    candidates: list[tuple[int, int, str, str]] = []
    for name, profile in old.items():
        twin = new_by_name.get(_normal(name))
        if twin is None:
            continue
        both = (profile, new[twin])
        if all(p.values and len(set(p.values)) == p.rows for p in both):
            candidates.append((0 if _KEY_NAME.search(name) else 1, len(candidates), name, twin))
    return min(candidates)[2:] if candidates else None


def _range(values: list[str]) -> list[str]:
    try:
        numbers = sorted(values, key=float)
        return [numbers[0], numbers[-1]]
    except ValueError:
        ordered = sorted(values)
        return [ordered[0], ordered[-1]]
