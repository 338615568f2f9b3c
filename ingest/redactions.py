"""Redaction boxes: filled dark rectangles in a PDF's vector content, and solid dark or outlined
boxes in a scanned page image. Found from geometry and pixels, never from OCR text.

Boxes are fractions of the page (x0, y0, x1, y1, origin top left) so that a box found in the
vector content and one found in the rendered image of the same page compare directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from PIL import Image

#: Smallest box worth calling a redaction, as a fraction of the page width and height.
MIN_WIDTH, MIN_HEIGHT = 0.02, 0.006
#: A solid box is at least this tall, in points: it hides a line of type (the smallest real
#: ones are 7.7 pt); shorter dark bars are a seal's band, a signature's blot, a rule's stub.
MIN_FILLED_POINTS = 7.0
#: A punched hole is about a quarter of an inch across: a solid shape up to this size (inches)
#: with round corners is one, or the half of one a scan's edge leaves.
HOLE_INCHES = 0.4
#: A page this much covered is a withheld page, not a page with redactions.
WITHHELD_COVERAGE = 0.6
DARK = 100  # grey level (0-255) below which a pixel is ink
LINE_DARK = 140  # the same for the thin strokes of outlines, at full resolution
ANALYSIS_DPI = 75
#: Share of an outlined box's inside that may be ink other than straight lines (a short label,
#: a pen stroke across it); printed text fills more.
MAX_INSIDE = 0.06
#: An outlined box is at least this wide (a fraction of the page width): narrower blank
#: rectangles are the gaps between letters caught between an underline and a box edge above.
MIN_OUTLINE_WIDTH = 0.03
#: A rectangle with lines running on past its corners in this many of the 8 directions is a
#: cell of a ruled form or table.
MAX_ARMS = 5
#: Share of an outlined box's side that must be ink without bridging any break.
RAW_SIDE = 0.95


def box(
    x0: float, y0: float, x1: float, y1: float, kind: str, source: str, **extra: Any
) -> dict[str, Any]:
    return {
        "box": [round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4)],
        "kind": kind,
        "source": source,
        **extra,
    }


# -- scanned pages --------------------------------------------------------------------------
#: Outlines are looked for at this resolution: stacked boxes on consecutive typed lines stay
#: apart, and a page is still under a million pixels.
OUTLINE_DPI = 100


def find_in_image(image: Image.Image, dpi: int | None = None) -> list[dict[str, Any]]:
    """Solid dark boxes and outlined boxes in a page image.

    Solid boxes are found on a 75 dpi copy: they survive a morphological opening that erases
    text strokes, so text touching a box does not hide it. Outlined boxes are built on a
    100 dpi copy from straight strokes: horizontal and vertical segments are found apart
    (tolerating a skew of a degree or so and short breaks), and a rectangle is a pair of
    upright edges joined at top and bottom by horizontal strokes, with no upright edge between
    them. So boxes that touch or share an edge (chains of boxes on consecutive lines) come out
    one by one. A rectangle is kept when its inside is blank or holds only a short label, and
    refused when it is a cell of a ruled grid (a form or a table).
    """
    import numpy as np

    gray = image.convert("L")
    width, height = gray.size
    page_dpi = dpi or max(width, height) / 11
    found, solid_mask = _filled(gray, page_dpi)
    # Thin outlines fade to grey when averaged down: keep the darkest pixel of each block.
    pixels = np.asarray(gray, dtype=np.uint8)
    factor = max(1, round(page_dpi / OUTLINE_DPI))
    fh, fw = height // factor, width // factor
    darkest = pixels[: fh * factor : factor, : fw * factor : factor].copy()
    for dy in range(factor):
        for dx in range(factor):
            if dy or dx:
                np.minimum(
                    darkest,
                    pixels[dy : fh * factor : factor, dx : fw * factor : factor],
                    out=darkest,
                )
    strokes = darkest < LINE_DARK
    solid = [r["box"] for r in found]
    rects = [
        (x0 / fw, y0 / fh, x1 / fw, y1 / fh)
        for x0, y0, x1, y1 in _outlines(strokes, page_dpi / factor)
        if not any(
            a <= (x0 + x1) / 2 / fw <= c and b <= (y0 + y1) / 2 / fh <= d for a, b, c, d in solid
        )
    ]
    outlines = [
        o for o in _merged(_framed(strokes, solid_mask), rects, 3 / fh) if not _page_frame(o)
    ]
    boxes = [tuple(b) for b in solid] + outlines
    for outline in outlines:
        if not _holds_box(outline, boxes, 3 / fh):
            found.append(box(*outline, "outlined", "image"))
    return found


def _holds_box(outline: tuple[float, ...], boxes: list[tuple[float, ...]], tol: float) -> bool:
    """Whether another box lies wholly inside an outline: then the outline is the cell of a
    form the redaction was drawn in (a name's box in a SERVED ON cell), not a box itself."""
    x0, y0, x1, y1 = outline
    area = (x1 - x0) * (y1 - y0)
    return any(
        b != outline
        and x0 - tol <= b[0]
        and b[2] <= x1 + tol
        and y0 - tol <= b[1]
        and b[3] <= y1 + tol
        and (b[2] - b[0]) * (b[3] - b[1]) < 0.5 * area
        for b in boxes
    )


#: An outline this wide, or touching two sides of the image, is the edge of the paper or a
#: fold across it, not a box someone drew (a real page: two 'boxes' covering its two halves).
PAGE_FRAME_WIDTH = 0.95


def _page_frame(outline: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = outline
    sides = (x0 < 0.01) + (y0 < 0.01) + (x1 > 0.99) + (y1 > 0.99)
    return sides >= 2 or x1 - x0 >= PAGE_FRAME_WIDTH


def _merged(
    framed: list[tuple[float, float, float, float]],
    rects: list[tuple[float, float, float, float]],
    tol: float,
) -> list[tuple[float, float, float, float]]:
    """The outlined boxes of both finders, in page fractions.

    A framed component (`_framed`) is one box unless the rectangles found inside it are
    stacked: then it was a chain of boxes on consecutive lines, and they are its boxes.
    Rectangles inside a frame on its own line only (strokes of a label printed inside the box
    taken for upright edges) are dropped; the others are kept.
    """
    # Of rectangles on the same line, one inside the other, the inner one ends at a label's
    # stroke: keep the outer one.
    rects = [
        r
        for r in rects
        if not any(
            o != r
            and abs(o[1] - r[1]) <= tol
            and abs(o[3] - r[3]) <= tol
            and o[0] - tol <= r[0]
            and r[2] <= o[2] + tol
            for o in rects
        )
    ]
    out: list[tuple[float, float, float, float]] = []
    used: set[int] = set()
    for x0, y0, x1, y1 in framed:
        inner = [
            i
            for i, (a, b, c, d) in enumerate(rects)
            if x0 - tol <= (a + c) / 2 <= x1 + tol and y0 - tol <= (b + d) / 2 <= y1 + tol
        ]
        used.update(inner)
        stacked = any(
            abs(rects[i][1] - y0) > 2 * tol or abs(rects[i][3] - y1) > 2 * tol for i in inner
        )
        if len(inner) >= 2 and stacked:
            out += [rects[i] for i in inner]
        else:
            out.append((x0, y0, x1, y1))
    out += [r for i, r in enumerate(rects) if i not in used]
    # A frame drawn inside another (a box in a form's cell) is among the cell's rectangles
    # and is a frame of its own too: once is enough.
    return [
        r
        for i, r in enumerate(out)
        if not any(all(abs(a - b) <= tol for a, b in zip(r, o, strict=True)) for o in out[:i])
    ]


def _filled(gray: Image.Image, page_dpi: float) -> tuple[list[dict[str, Any]], Any]:
    """Solid dark boxes, on a 75 dpi copy of the page, and the mask of solid ink there."""
    import numpy as np

    factor = max(1, round(page_dpi / ANALYSIS_DPI))
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray, dtype=np.uint8)
    h, w = small.shape
    ink = small < DARK
    found = []
    # A 3x3 opening (nothing outside the image counts as ink), one axis at a time.
    eroded = _shrink(_shrink(ink, 3, 0, outside=False), 3, 1, outside=False)
    solid = _spread(_spread(eroded, 3, 0), 3, 1)
    for rows, cols, component in _components(solid):
        bh, bw = rows.stop - rows.start, cols.stop - cols.start
        if bw < MIN_WIDTH * w or bh < max(3, MIN_HEIGHT * h):
            continue
        if bh * factor * 72 < MIN_FILLED_POINTS * page_dpi:
            continue
        touches_edge = rows.start == 0 or cols.start == 0 or rows.stop == h or cols.stop == w
        # Dark bands along the edge of a scan are copier artefacts, not redactions.
        if touches_edge and (bw > 0.5 * w or bh > 0.5 * h or min(bh, bw) < 0.02 * min(h, w)):
            continue
        if bw > 0.97 * w and bh > 0.97 * h:
            continue
        if _band(rows, cols, h, w):
            continue
        # Debris on the edge of a dark scanner band or a blot is surrounded by dark, a
        # redaction by paper and print (or by other redactions above and below it). Past the
        # edge of the scan is the scanner's dark lid: a side there counts as dark.
        y0, y1 = max(0, rows.start - bh), min(h, rows.stop + bh)
        x0, x1 = max(0, cols.start - bh), min(w, cols.stop + bh)
        sides = [
            ink[y0 : rows.start, cols],
            ink[rows.stop : y1, cols],
            ink[rows, x0 : cols.start],
            ink[rows, cols.stop : x1],
        ]
        # Each side is bh deep: the part of it past the edge of the scan counts as dark.
        depth = bh * np.array([bw, bw, bh, bh])
        dark = [
            (np.count_nonzero(side) + whole - side.size) / whole
            for side, whole in zip(sides, depth, strict=True)
        ]
        if sum(share > 0.5 for share in dark) >= 3:
            continue
        fill = component.mean()
        hole = max(bh, bw) * factor <= HOLE_INCHES * page_dpi and max(bh, bw) <= 2 * min(bh, bw)
        if hole and _rounded(component):
            continue  # a punched hole (or half of one): no drawn rectangle
        dot = 0.75 <= bw / bh <= 1.33 and fill < 0.85  # a punched hole or a seal, not a box
        if fill >= 0.7 and not dot:
            found.append(
                box(cols.start / w, rows.start / h, cols.stop / w, rows.stop / h, "filled", "image")
            )
    return found, solid


def _rounded(component: Any) -> bool:
    """Whether a solid shape lacks square corners: the corners of a filled rectangle are ink,
    those of a punched hole are paper (a circle leaves 15% of its diameter out at each)."""
    h, w = component.shape
    side = max(1, round(0.2 * min(h, w)))
    corners = [
        component[:side, :side],
        component[:side, -side:],
        component[-side:, :side],
        component[-side:, -side:],
    ]
    return sum(float(c.mean()) for c in corners) / 4 < 0.6


def _framed(strokes: Any, solid: Any) -> list[tuple[float, float, float, float]]:
    """Outlined boxes as connected frames of long strokes: (x0, y0, x1, y1) in page fractions.

    `strokes` is the ink mask the outlines are looked for in, `solid` the mask of solid ink
    (any size: it is scaled to `strokes`). Whole boxes with a label printed inside come out
    here (the label's strokes are too short to count), but boxes that touch come out as one
    frame.
    """
    import numpy as np

    h, w = strokes.shape
    sh, sw = solid.shape
    solid = solid[(np.arange(h) * sh) // h][:, (np.arange(w) * sw) // w]
    long_h = max(8, int(0.04 * w))
    tall = max(6, int(0.011 * h))  # taller than the stems of body text
    lines = _runs(strokes, long_h, axis=1) | _runs(strokes, tall, axis=0)
    found = []
    for rows, cols, component in _components(lines & ~solid):
        bh, bw = rows.stop - rows.start, cols.stop - cols.start
        if bw < 0.05 * w or bh < max(5, 0.012 * h) or bh > 0.5 * h:
            continue
        if _is_outline(component, strokes[rows, cols]):
            found.append((cols.start / w, rows.start / h, cols.stop / w, rows.stop / h))
    return found


def _is_outline(component: Any, ink: Any) -> bool:
    """A rectangle of thin lines around an inside with little in it: an FBI-style box."""
    import numpy as np

    h, w = component.shape
    # A skew of 1.5 degrees moves an edge by 2.6% of the box's length.
    slant_rows, slant_cols = 2 + int(0.027 * w), 2 + int(0.027 * h)
    if h < 2 * slant_rows + 1 or w < 2 * slant_cols + 1:
        return False
    edges = [
        component[:slant_rows, :].any(axis=0).mean(),
        component[-slant_rows:, :].any(axis=0).mean(),
        component[:, :slant_cols].any(axis=1).mean(),
        component[:, -slant_cols:].any(axis=1).mean(),
    ]
    # Short vertical edges lose their ends to the skew and the corners: judge them more leniently.
    if min(edges[:2]) < 0.85 or max(edges[2:]) < 0.6 or min(edges[2:]) < 0.4:
        return False
    inside = component[slant_rows:-slant_rows, slant_cols:-slant_cols]
    # Table grids are outlines too, but with rules running across them. (Only horizontal rules
    # are looked for: the upright strokes of a code printed inside a thin box look like short
    # vertical rules.)
    # A rule across a skewed page climbs a row every few dozen pixels: rows are smeared over
    # the height a skew of 1.5 degrees spans.
    smeared = _spread(inside, max(1, int(0.027 * w)), axis=0)
    crossing = np.mean(smeared, axis=1).max(initial=0)
    return crossing < 0.6 and ink[slant_rows:-slant_rows, slant_cols:-slant_cols].mean() < 0.3


def _band(rows: slice, cols: slice, h: int, w: int) -> bool:
    """A long thin dark strip along a side of the page: a scanner or copier band."""
    bh, bw = rows.stop - rows.start, cols.stop - cols.start
    if bh >= 5 * bw and bh >= 0.2 * h:
        return cols.start < 0.05 * w or cols.stop > 0.95 * w
    if bw >= 5 * bh and bw >= 0.2 * w:
        return rows.start < 0.05 * h or rows.stop > 0.95 * h
    return False


def _components(mask: Any) -> list[tuple[slice, slice, Any]]:
    import numpy as np
    from scipy import ndimage

    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    return [
        (region[0], region[1], labels[region] == index)
        for index, region in enumerate(ndimage.find_objects(labels), start=1)
        if region is not None
    ]


def _stroke_maps(strokes: Any, unit: float) -> tuple[Any, Any, list[tuple[int, int, int, int]]]:
    """From an ink mask: running sums of horizontal and upright strokes (`row_sum`, `col_sum`)
    and the upright segments, (x, top, bottom, x of the line's ink), sorted; `unit` scales
    100 dpi sizes."""
    import numpy as np
    from scipy import ndimage

    h, w = strokes.shape
    long_h = max(8, int(0.04 * w))
    tall = max(6, int(14 * unit))  # taller than the stems of body text
    gap = max(2, int(3 * unit))  # a break in a drawn line this short is bridged
    # Horizontal strokes: rows smeared over 3 pixels so a skewed line keeps long runs.
    smeared = _spread(strokes, 3, axis=0)
    across = _closed(smeared, gap, axis=1)
    flat = _runs(across, long_h, axis=1) & smeared
    upright = _spread(strokes, 2, axis=1)
    upright = _closed(upright, gap, axis=0)
    upright = _runs(upright, tall, axis=0)
    # Cumulative sums: the share of a row span (columns x0..x1) covered by a horizontal stroke
    # within 2 rows, and of a column span covered by an upright one within 1 column.
    near_flat = _spread(flat, 5, axis=0)
    row_sum = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(near_flat, axis=1, out=row_sum[:, 1:])
    near_upright = _spread(upright, 3, axis=1)
    col_sum = np.zeros((h + 1, w), dtype=np.int32)
    np.cumsum(near_upright, axis=0, out=col_sum[1:, :])

    edges = []  # (x, top, bottom, x of the ink) of each upright segment
    labels, _ = ndimage.label(upright, structure=np.ones((3, 3), dtype=bool))
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        if cols.stop - cols.start > max(6, rows.stop - rows.start) / 2 + 4 * unit:
            continue  # a blot or a thick stroke, not a drawn line
        # The drawn line lies where the segment is tallest, which is off the middle of its
        # bounds when a letter's stroke joined the side.
        heights = np.count_nonzero(labels[rows, cols] == index, axis=0)
        tallest = np.flatnonzero(heights >= heights.max() - 1)
        middle = (cols.start + cols.stop - 1) // 2
        edges.append((middle, rows.start, rows.stop, cols.start + int(tallest[len(tallest) // 2])))
    edges.sort()
    return row_sum, col_sum, edges


def _outlines(strokes: Any, dpi: float) -> list[tuple[int, int, int, int]]:
    """Rectangles of thin lines with a blank inside, in pixels of `strokes` (an ink mask)."""
    import numpy as np

    h, w = strokes.shape
    unit = dpi / 100  # sizes below are for 100 dpi
    row_sum, col_sum, edges = _stroke_maps(strokes, unit)
    arm = max(4, int(10 * unit))
    tol = max(3, int(4 * unit))
    min_w, min_h = max(8, int(MIN_OUTLINE_WIDTH * w)), max(6, int(12 * unit))
    found: list[tuple[int, int, int, int]] = []
    cells: list[tuple[int, int, int, int]] = []  # rectangles with printed text inside
    arms: list[list[tuple[str, int, int, int]]] = []
    for i, (lx, ltop, lbottom, link) in enumerate(edges):
        for rx, rtop, rbottom, rink in edges[i + 1 :]:
            # Past an edge as tall as this one, any wider rectangle would hold it inside.
            stop = rx - lx > tol and rtop <= ltop and rbottom >= lbottom
            top, bottom = max(ltop, rtop) - 3, min(lbottom, rbottom) + 3
            if rx - lx < min_w or bottom - top < min_h:
                if stop:
                    break
                continue
            top, bottom = max(0, top), min(h, bottom)
            a, b = lx + 2, rx - 1
            cover = (row_sum[top:bottom, b] - row_sum[top:bottom, a]) / (b - a)
            rules = _clusters(np.flatnonzero(cover >= 0.85) + top)
            for upper, lower in pairwise(rules):
                if lower - upper < min_h:
                    continue
                span = lower - upper
                left = (col_sum[lower, lx] - col_sum[upper, lx]) / span
                right = (col_sum[lower, rx] - col_sum[upper, rx]) / span
                if left < 0.85 or right < 0.85:
                    continue
                # The ink itself, breaks not bridged: a letter's stem between two table rules
                # becomes an upright edge once its short gaps to the rules are bridged, a drawn
                # side is whole without it.
                raw = min(
                    max(
                        strokes[upper:lower, max(0, x - 1) : x + 2].any(axis=1).mean()
                        for x in {middle, ink}
                    )
                    for middle, ink in ((lx, link), (rx, rink))
                )
                if raw < RAW_SIDE:
                    continue
                if any(
                    lx + 3 < mx < rx - 3
                    and (col_sum[lower, mx] - col_sum[upper, mx]) / span >= 0.85
                    for mx, mtop, mbottom, _ in edges
                    if mtop < lower and mbottom > upper
                ):
                    continue  # two cells side by side: each is found from its own edges
                y0, y1, x0, x1 = upper + 3, lower - 2, lx + 3, rx - 2
                inside = int(np.count_nonzero(strokes[y0:y1, x0:x1]))
                if inside > MAX_INSIDE * (y1 - y0) * (x1 - x0):
                    cells.append((lx, upper, rx + 1, lower + 1))
                    continue  # printed text inside: a form cell or a table cell
                rect = (lx, upper, rx + 1, lower + 1)
                found.append(rect)
                arms.append(_arms(row_sum, col_sum, rect, arm))
            if stop:
                break
    # Lines running on past a box's corners are form rules, unless they are the sides of other
    # boxes (a chain of boxes on consecutive lines).
    kept = [
        rect
        for rect, ends in zip(found, arms, strict=True)
        if sum(not _explained(end, rect, found, tol) for end in ends) < MAX_ARMS
    ]
    return _without_grids(kept, cells, tol)


def _arms(
    row_sum: Any, col_sum: Any, rect: tuple[int, int, int, int], arm: int
) -> list[tuple[str, int, int, int]]:
    """The lines, `arm` pixels long, that run on past a rectangle's corners: (axis, position,
    start, stop) for each of the 8 ways out of its corners that has one.

    A drawn box ends at its corners; the rules of a form run on past a cell's corners.
    """
    x0, y0, x1, y1 = rect[0], rect[1], rect[2] - 1, rect[3] - 1
    h, w = col_sum.shape[0] - 1, row_sum.shape[1] - 1
    found = []
    for y in (y0, y1):
        for a, b in ((x0 - arm - 2, x0 - 2), (x1 + 3, x1 + arm + 3)):
            if a >= 0 and b <= w and row_sum[y, b] - row_sum[y, a] >= 0.8 * arm:
                found.append(("row", y, a, b))
    for x in (x0, x1):
        for a, b in ((y0 - arm - 2, y0 - 2), (y1 + 3, y1 + arm + 3)):
            if a >= 0 and b <= h and col_sum[b, x] - col_sum[a, x] >= 0.8 * arm:
                found.append(("col", x, a, b))
    return found


def _explained(
    end: tuple[str, int, int, int],
    rect: tuple[int, int, int, int],
    rects: list[tuple[int, int, int, int]],
    tol: int,
) -> bool:
    """Whether a line past a rectangle's corner is a side of another rectangle."""
    axis, at, a, b = end
    for other in rects:
        if other == rect:
            continue
        x0, y0, x1, y1 = other
        if axis == "row" and any(abs(at - y) <= tol for y in (y0, y1 - 1)):
            within = x0 - tol <= a and b <= x1 + tol
        elif axis == "col" and any(abs(at - x) <= tol for x in (x0, x1 - 1)):
            within = y0 - tol <= a and b <= y1 + tol
        else:
            within = False
        if within:
            return True
    return False


def _without_grids(
    blank: list[tuple[int, int, int, int]], cells: list[tuple[int, int, int, int]], tol: int
) -> list[tuple[int, int, int, int]]:
    """The rectangles that are not cells of a ruled grid (a form, a table, a map).

    Two cells of a grid share a whole side: the same top and bottom and touching sides, or the
    same left and right and touching top and bottom. Redaction boxes that touch share a part
    of a side at most (boxes on consecutive lines start and end at different words), so three
    or more rectangles joined by whole shared sides are a grid. The `cells` with printed text
    inside count as members (a double-ruled table's blank top and bottom strips are stacked
    with its printed rows), but only upon them: a word between two boxes on one line is a
    text cell beside both, so text cells join only the rectangles above and below them, and
    a grid has at least two blank rectangles.
    """
    rects = blank + cells
    n = len(rects)
    group = list(range(n))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    def near(a: int, b: int) -> bool:
        return abs(a - b) <= tol

    for i, (ax0, ay0, ax1, ay1) in enumerate(rects):
        for j in range(i + 1, n):
            bx0, by0, bx1, by1 = rects[j]
            beside = near(ay0, by0) and near(ay1, by1) and (near(ax1, bx0) or near(bx1, ax0))
            # A word printed between two boxes on one line is a text cell beside both: only
            # the blank rectangles join beside one another.
            beside = beside and j < len(blank)
            stacked = near(ax0, bx0) and near(ax1, bx1) and (near(ay1, by0) or near(by1, ay0))
            if beside or stacked:
                group[root(i)] = root(j)
    sizes: dict[int, int] = {}
    blanks: dict[int, int] = {}
    for i in range(n):
        sizes[root(i)] = sizes.get(root(i), 0) + 1
        blanks[root(i)] = blanks.get(root(i), 0) + (i < len(blank))
    return [r for i, r in enumerate(blank) if sizes[root(i)] < 3 or blanks[root(i)] < 2]


def _runs(mask: Any, length: int, axis: int) -> Any:
    """The pixels of mask in straight runs at least `length` long along `axis`."""
    length |= 1  # odd, so that the erosion and the dilation are centred alike
    return _spread(_shrink(mask, length, axis), length, axis)


def _closed(mask: Any, length: int, axis: int) -> Any:
    """mask with gaps shorter than `length` along `axis` filled (a morphological closing)."""
    length |= 1
    return _shrink(_spread(mask, length, axis), length, axis)


def _spread(mask: Any, size: int, axis: int) -> Any:
    """The largest value of a boolean mask over a window of `size` along `axis`: as scipy's
    maximum_filter1d (window centred the same way), a dozen times faster on booleans."""
    return _extreme(mask, size, axis, True, False)


def _shrink(mask: Any, size: int, axis: int, outside: bool = True) -> Any:
    """The smallest value over a window of `size` along `axis` (scipy's minimum_filter1d);
    `outside` is what lies past the image's edge (True: the window is cut at the edge)."""
    return _extreme(mask, size, axis, False, outside)


def _extreme(mask: Any, size: int, axis: int, largest: bool, outside: bool) -> Any:
    """Window maxima (or minima) by doubling: the extreme over 1, 2, 4 ... cells, then two
    overlapping windows of the largest power of two cover any size."""
    import numpy as np

    mask = np.asarray(mask, dtype=bool)
    if size <= 1:
        return mask.copy()
    n = mask.shape[axis]
    before = size // 2
    after = size - 1 - before

    def cut(a: Any, start: int, stop: int) -> Any:
        index = [slice(None)] * a.ndim
        index[axis] = slice(start, stop)
        return a[tuple(index)]

    shape = list(mask.shape)
    shape[axis] = n + size - 1
    padded = np.empty(shape, dtype=bool)
    cut(padded, 0, before)[...] = outside
    cut(padded, before + n, before + n + after)[...] = outside
    cut(padded, before, before + n)[...] = mask
    combine = np.logical_or if largest else np.logical_and
    current, length = padded, 1
    while 2 * length <= size:
        total = current.shape[axis]
        current = combine(cut(current, 0, total - length), cut(current, length, total))
        length *= 2
    return combine(cut(current, 0, n), cut(current, size - length, size - length + n))


def _clusters(rows: Any) -> list[int]:
    """The middle of each run of consecutive values."""
    if len(rows) == 0:
        return []
    import numpy as np

    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = [rows[0], *rows[breaks + 1]]
    stops = [*rows[breaks], rows[-1]]
    return [int(a + b) // 2 for a, b in zip(starts, stops, strict=True)]


# -- born-digital pages ---------------------------------------------------------------------
def object_bounds(obj: Any) -> tuple[float, float, float, float]:
    """An object's bounds in page space: objects inside form XObjects are in the form's."""
    left, bottom, right, top = obj.get_bounds()
    container = getattr(obj, "container", None)
    while container is not None:
        left, bottom, right, top = container.get_matrix().on_rect(left, bottom, right, top)
        container = getattr(container, "container", None)
    return left, bottom, right, top


Filled = tuple[tuple[float, float, float, float], tuple[int, int, int], int]  # rect, rgb, alpha


def find_in_pdf_page(
    page: Any, textpage: Any, filled: list[Filled] | None = None
) -> list[dict[str, Any]]:
    """Filled dark rectangles and paths in a pypdfium2 page; flags text left under them.

    `filled`: the page's filled paths (bounds in page space, fill colour, alpha) when the
    caller has read the page's objects already (ingest.leaks.gate.read)."""
    width, height = page.get_size()
    if width <= 0 or height <= 0:
        return []
    found: list[dict[str, Any]] = []
    rects: list[tuple[float, float, float, float]] = []
    for (left, bottom, right, top), (r, g, b), alpha in (
        _filled_paths(page) if filled is None else filled
    ):
        if alpha < 200 or max(r, g, b) > 70:
            continue
        bw, bh = (right - left) / width, (top - bottom) / height
        if bw < MIN_WIDTH or bh < MIN_HEIGHT / 2 or bw * bh > 0.9:
            continue
        found.append(
            box(
                left / width,
                1 - top / height,
                right / width,
                1 - bottom / height,
                "filled",
                "vector",
            )
        )
        rects.append((left, bottom, right, top))
    for found_box, hidden in zip(found, _hidden_characters(textpage, rects), strict=True):
        found_box["text_under"] = hidden
    return found


def _filled_paths(page: Any) -> Iterator[Filled]:
    import ctypes

    import pypdfium2.raw as raw

    for obj in page.get_objects(max_depth=2):
        if obj.type != raw.FPDF_PAGEOBJ_PATH:
            continue
        fill_mode, stroke = ctypes.c_int(0), ctypes.c_int(0)
        if not raw.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill_mode), ctypes.byref(stroke)):
            continue
        if fill_mode.value == 0:
            continue
        r, g, b, a = (ctypes.c_uint(0) for _ in range(4))
        if not raw.FPDFPageObj_GetFillColor(obj.raw, *(ctypes.byref(c) for c in (r, g, b, a))):
            continue
        yield object_bounds(obj), (r.value, g.value, b.value), a.value


#: A character counts as under a box when this share of its own box lies inside it: a glyph
#: of the line above or below that only touches the edge is in plain sight.
_UNDER_SHARE = 0.5
#: A character this light is printed on the box, not hidden by it: the white exemption label
#: agencies print on black boxes.
_LIGHT = 160


def _hidden_characters(textpage: Any, rects: list[tuple[float, float, float, float]]) -> list[int]:
    """How many characters each box hides: dark characters mostly inside it."""
    import ctypes

    import pypdfium2.raw as raw

    counts = [0] * len(rects)
    if not rects:
        return counts
    edges = [ctypes.c_double() for _ in range(4)]
    colour = [ctypes.c_uint() for _ in range(4)]
    for index in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage.raw, index)
        if code == 0 or chr(code).isspace():
            continue
        if not raw.FPDFText_GetCharBox(textpage.raw, index, *(ctypes.byref(e) for e in edges)):
            continue
        left, right, bottom, top = (e.value for e in edges)
        area = max(right - left, 0.01) * max(top - bottom, 0.01)
        for number, (x0, y0, x1, y1) in enumerate(rects):
            inside = max(0.0, min(right, x1) - max(left, x0)) * max(
                0.0, min(top, y1) - max(bottom, y0)
            )
            if inside < _UNDER_SHARE * area:
                continue
            if raw.FPDFText_GetFillColor(textpage.raw, index, *(ctypes.byref(c) for c in colour)):
                red, green, blue, _ = (c.value for c in colour)
                if min(red, green, blue) >= _LIGHT:
                    continue  # a light label printed on the box: seen, not hidden
            counts[number] += 1
    return counts
