"""Reading order of pages printed several to a sheet: condensed ("4-up") transcripts.

A condensed deposition transcript prints four pages on one sheet, each in its own panel with
its lines numbered 1 to 25. Tesseract's page analysis joins lines that happen to sit at the
same height across panels, so a page's text came out as page 1's line 1 followed by page 3's
line 1: a phrase search across two lines failed, and the text read nothing like the sheet.

Panels are found from the words' positions alone (no second OCR pass): a vertical gutter no
word crosses, then in each column a horizontal gutter wider than the lines' spacing, both
columns split at about the same height; and the evidence that they are pages, not a form's or
a table's column groups (which must keep reading across): in every panel most lines start with
a line number, counting up. Panels are read in the order their printed "Page N" headers give,
else down each column first, the condensed-transcript convention (1 and 2 on the left, 3 and 4
on the right).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

#: A gutter's column group or row group holds at least this share of the words.
MIN_SIDE = 0.15
#: Of a panel's lines, at least this share start with a line number.
NUMBERED_LINES = 0.6
#: The two columns' horizontal gutters lie within this fraction of the page height.
ALIGNED = 0.06

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Word:
    text: str
    box: Box  # fractions of the page, x0, y0, x1, y1
    line: tuple[int, ...]  # Tesseract's (block, paragraph, line)


#: Lines this close to the top or bottom of the sheet's text (a fraction of its height) may run
#: across the panels: the case caption above them, the reporter's footer below.
MARGIN_BAND = 0.06


def reading_order(words: Sequence[Word]) -> list[list[Word]] | None:
    """The words in groups to be read one after the other: lines across the top of the sheet,
    each panel, lines across the bottom (each group in Tesseract's order); None when the page
    is not printed in numbered panels."""
    if len(words) < 40:
        return None
    split_x = _gutter(words, axis=0)
    across: set[tuple[int, ...]] = set()
    if split_x is None:
        top = min(w.box[1] for w in words)
        bottom = max(w.box[3] for w in words)
        band = (bottom - top) * MARGIN_BAND
        inner = [w for w in words if top + band <= _middle(w, 1) <= bottom - band]
        split_x = _gutter(inner, axis=0)
        if split_x is None:
            return None
        across = {w.line for w in words if w.box[0] < split_x < w.box[2]}
    middle = sum(_middle(w, 1) for w in words) / len(words)
    head = [w for w in words if w.line in across and _middle(w, 1) < middle]
    foot = [w for w in words if w.line in across and _middle(w, 1) >= middle]
    panels = _panels([w for w in words if w.line not in across], split_x)
    if panels is None:
        return None
    return [group for group in (head, *panels, foot) if group]


def _panels(words: Sequence[Word], split_x: float) -> list[list[Word]] | None:
    columns = [
        [w for w in words if _middle(w, 0) < split_x],
        [w for w in words if _middle(w, 0) >= split_x],
    ]
    panels: list[list[Word]] = []
    heights = []
    for column in columns:
        split_y = _gutter(column, axis=1)
        if split_y is None:
            panels.append(column)
            continue
        heights.append(split_y)
        panels += [
            [w for w in column if _middle(w, 1) < split_y],
            [w for w in column if _middle(w, 1) >= split_y],
        ]
    if len(heights) == 1 or (len(heights) == 2 and abs(heights[0] - heights[1]) > ALIGNED):
        return None  # one column split and not the other: a layout, not a grid of pages
    if not all(_numbered(panel) for panel in panels):
        return None
    return _ordered(panels)


def _middle(word: Word, axis: int) -> float:
    return (word.box[axis] + word.box[axis + 2]) / 2


def _gutter(words: Sequence[Word], axis: int) -> float | None:
    """The widest gap along the axis (0: x, 1: y) that no word crosses, leaving at least
    MIN_SIDE of the words on each side; across (axis 1), the gap must be wider than twice the
    words' median height, so the space between two lines is no gutter."""
    spans = sorted((w.box[axis], w.box[axis + 2]) for w in words)
    least = max(1, int(len(words) * MIN_SIDE))
    tall = sorted(w.box[3] - w.box[1] for w in words)[len(words) // 2]
    best: tuple[float, float] | None = None
    reach = spans[0][1]
    for index in range(1, len(spans)):
        start, end = spans[index]
        gap = start - reach
        if gap > 0 and least <= index <= len(spans) - least and (best is None or gap > best[0]):
            best = (gap, reach + gap / 2)
        reach = max(reach, end)
    if best is None or (axis == 1 and best[0] < 2 * tall):
        return None
    return best[1]


_NUMBER = re.compile(r"^\d{1,2}$")


def _numbered(panel: Sequence[Word]) -> bool:
    """Most of the panel's lines start with a line number, and the numbers count up."""
    firsts: dict[tuple[float, ...], Word] = {}
    for word in sorted(panel, key=lambda w: w.box[0]):
        firsts.setdefault(_row(word, panel), word)
    if len(firsts) < 5:
        return False
    numbers = [int(w.text) for _, w in sorted(firsts.items()) if _NUMBER.match(w.text)]
    rising = sum(b > a for a, b in pairwise(numbers))
    return len(numbers) >= NUMBERED_LINES * len(firsts) and rising >= 0.8 * (len(numbers) - 1)


def _row(word: Word, panel: Sequence[Word]) -> tuple[float, ...]:
    """The printed line a word sits on within its panel: Tesseract's line, keyed by its top."""
    return (round(min(w.box[1] for w in panel if w.line == word.line), 3), *word.line)


_PAGE = re.compile(r"^page$", re.IGNORECASE)


def _ordered(panels: list[list[Word]]) -> list[list[Word]]:
    """Panels by their printed page numbers when every one has a "Page N" header, else in the
    order they were split: down the left column, then down the right."""
    numbers = [n for n in (_page_number(panel) for panel in panels) if n is not None]
    if len(set(numbers)) < len(panels):
        return panels
    return [panel for _, panel in sorted(zip(numbers, panels, strict=True), key=lambda p: p[0])]


def _page_number(panel: Sequence[Word]) -> int | None:
    top = min(w.box[1] for w in panel)
    head = sorted((w for w in panel if w.box[1] - top < 0.02), key=lambda w: w.box[0])
    for word, after in pairwise(head):
        if _PAGE.match(word.text) and after.text.isdigit():
            return int(after.text)
    return None
