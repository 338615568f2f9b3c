"""Spreadsheet originals (XLSX, openpyxl): what a released workbook keeps out of sight."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from foiarchive.schemas.findings import Finding

#: At most this many cells are quoted per finding; the count says how many there are.
QUOTED_CELLS = 20
MAX_CELLS = 2_000_000
_SHEET_REF = re.compile(r"(?:'([^']+)'|([A-Za-z_][\w.]*))!")
_DARK = 70


def sheet_leaks(path: Path) -> list[Finding]:
    import openpyxl

    formulas = openpyxl.load_workbook(path, read_only=False, data_only=False)
    values = openpyxl.load_workbook(path, read_only=False, data_only=True)
    try:
        findings: list[Finding] = []
        names = set(formulas.sheetnames)
        for sheet in formulas.worksheets:
            cached = values[sheet.title]
            if sheet.sheet_state != "visible":
                cells = [_cell_text(c) for row in cached.iter_rows() for c in row if _has(c)]
                findings.append(
                    Finding(
                        "hidden_sheet",
                        None,  # a sheet is no page of the released table
                        None,
                        f"sheet '{sheet.title}' ({len(cells)} cells): " + _quote(cells),
                        f"sheet state '{sheet.sheet_state}'",
                    )
                )
                continue
            findings += _cells(sheet, cached, names)
        return findings
    finally:
        formulas.close()
        values.close()


def _has(cell: Any) -> bool:
    return cell.value is not None and str(cell.value).strip() != ""


def _cell_text(cell: Any) -> str:
    return f"{cell.coordinate}={cell.value}"


def _quote(cells: list[str]) -> str:
    more = f" (+{len(cells) - QUOTED_CELLS} more)" if len(cells) > QUOTED_CELLS else ""
    return "; ".join(cells[:QUOTED_CELLS]) + more


def _cells(sheet: Any, cached: Any, names: set[str]) -> list[Finding]:
    hidden_rows = {i for i, d in sheet.row_dimensions.items() if d.hidden}
    hidden_cols = {k for k, d in sheet.column_dimensions.items() if d.hidden}
    groups: dict[str, list[str]] = {k: [] for k in ("hidden_cells", "invisible_cell")}
    groups["covered_cell"], groups["cached_formula"] = [], []
    seen = 0
    for row in sheet.iter_rows():
        for cell in row:
            seen += 1
            if seen > MAX_CELLS:
                break
            if not _has(cell):
                continue
            value = cached[cell.coordinate]
            shown = _cell_text(value) if _has(value) else _cell_text(cell)
            if cell.row in hidden_rows or cell.column_letter in hidden_cols:
                groups["hidden_cells"].append(shown)
            elif _covered(cell):
                groups["covered_cell"].append(shown)
            elif _invisible(cell):
                groups["invisible_cell"].append(shown)
            if cell.data_type == "f" and _broken(str(cell.value), names) and _has(value):
                groups["cached_formula"].append(f"{cell.coordinate}: {cell.value} -> {value.value}")
    how = {
        "hidden_cells": "in hidden rows or columns",
        "invisible_cell": "formatted ';;;' or in a font the colour of its fill",
        "covered_cell": "under a black fill, in a dark font",
        "cached_formula": "a formula whose inputs are gone (#REF! or a deleted sheet) keeps "
        "its last value",
    }
    return [
        Finding(kind, None, None, f"sheet '{sheet.title}': " + _quote(cells), how[kind])
        for kind, cells in groups.items()
        if cells
    ]


def _rgb(colour: Any) -> str | None:
    if colour is None or getattr(colour, "type", "rgb") != "rgb":
        return None
    value = colour.rgb
    return value[-6:].upper() if isinstance(value, str) and len(value) >= 6 else None


def _dark(rgb: str | None) -> bool:
    if rgb is None:
        return False
    r, g, b = (int(rgb[i : i + 2], 16) for i in (0, 2, 4))
    return max(r, g, b) <= _DARK


def _fill(cell: Any) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    return _rgb(fill.fgColor)


def _invisible(cell: Any) -> bool:
    if cell.number_format.strip() == ";;;":
        return True
    font = _rgb(cell.font.color) if cell.font else None
    fill = _fill(cell) or "FFFFFF"
    return font is not None and font == fill


def _covered(cell: Any) -> bool:
    font = _rgb(cell.font.color) if cell.font else None
    return _dark(_fill(cell)) and (font is None or _dark(font))


def _broken(formula: str, names: set[str]) -> bool:
    if "#REF!" in formula.upper():
        return True
    for quoted, plain in _SHEET_REF.findall(formula):
        name = quoted or plain
        if name and name not in names and not name.startswith("["):
            return True
    return False
