"""Redaction boxes: filled dark rectangles in a PDF's vector content, and solid dark or outlined
boxes in a scanned page image. Found from geometry and pixels, never from OCR text.

Boxes are fractions of the page (x0, y0, x1, y1, origin top left) so that a box found in the
vector content and one found in the rendered image of the same page compare directly.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

#: Smallest box worth calling a redaction, as a fraction of the page width and height.
MIN_WIDTH, MIN_HEIGHT = 0.02, 0.006
#: A page this much covered is a withheld page, not a page with redactions.
WITHHELD_COVERAGE = 0.6
DARK = 100  # grey level (0-255) below which a pixel is ink
LINE_DARK = 140  # the same for the thin strokes of outlines, at full resolution
ANALYSIS_DPI = 75


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
def find_in_image(image: Image.Image, dpi: int | None = None) -> list[dict[str, Any]]:
    """Solid dark boxes and outlined boxes in a page image.

    Works on a 75 dpi copy. Solid boxes survive a morphological opening that erases text
    strokes, so text touching a box does not hide it; outlines are found from long straight
    strokes only, so text inside or against them does not either. Both tolerate a skew of a
    couple of degrees.
    """
    import numpy as np
    from scipy import ndimage

    gray = image.convert("L")
    width, height = gray.size
    factor = max(1, round((dpi or max(width, height) / 11) / ANALYSIS_DPI))
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray, dtype=np.uint8)
    h, w = small.shape
    ink = small < DARK
    found = []
    solid = ndimage.binary_opening(ink, structure=np.ones((3, 3), dtype=bool))
    for rows, cols, component in _components(solid):
        bh, bw = rows.stop - rows.start, cols.stop - cols.start
        if bw < MIN_WIDTH * w or bh < max(3, MIN_HEIGHT * h):
            continue
        touches_edge = rows.start == 0 or cols.start == 0 or rows.stop == h or cols.stop == w
        # Dark bands along the edge of a scan are copier artefacts, not redactions.
        if touches_edge and (bw > 0.5 * w or bh > 0.5 * h or min(bh, bw) < 0.02 * min(h, w)):
            continue
        if bw > 0.97 * w and bh > 0.97 * h:
            continue
        fill = component.mean()
        dot = 0.75 <= bw / bh <= 1.33 and fill < 0.85  # a punched hole or a seal, not a box
        if fill >= 0.7 and not dot:
            found.append(
                box(cols.start / w, rows.start / h, cols.stop / w, rows.stop / h, "filled", "image")
            )
    # Thin outlines fade to grey when averaged down: pool the full-resolution ink instead.
    full = np.asarray(gray, dtype=np.uint8) < LINE_DARK
    strokes = np.zeros_like(ink)
    fh, fw = height // factor, width // factor
    strokes[:fh, :fw] = (
        full[: fh * factor, : fw * factor].reshape(fh, factor, fw, factor).any(axis=(1, 3))
    )
    long_h = max(8, int(0.04 * w))
    tall = max(6, int(0.011 * h))  # taller than the stems of body text
    lines = ndimage.binary_opening(strokes, structure=np.ones((1, long_h), dtype=bool)) | (
        ndimage.binary_opening(strokes, structure=np.ones((tall, 1), dtype=bool))
    )
    for rows, cols, component in _components(lines & ~solid):
        bh, bw = rows.stop - rows.start, cols.stop - cols.start
        if bw < 0.05 * w or bh < max(5, 0.012 * h) or bh > 0.5 * h:
            continue
        if _is_outline(component, strokes[rows, cols]):
            found.append(
                box(
                    cols.start / w,
                    rows.start / h,
                    cols.stop / w,
                    rows.stop / h,
                    "outlined",
                    "image",
                )
            )
    return found


def _components(mask: Any) -> list[tuple[slice, slice, Any]]:
    import numpy as np
    from scipy import ndimage

    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    return [
        (region[0], region[1], labels[region] == index)
        for index, region in enumerate(ndimage.find_objects(labels), start=1)
        if region is not None
    ]


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
    crossing = np.mean(inside, axis=1).max(initial=0)
    return crossing < 0.6 and ink[slant_rows:-slant_rows, slant_cols:-slant_cols].mean() < 0.3


# -- born-digital pages ---------------------------------------------------------------------
def object_bounds(obj: Any) -> tuple[float, float, float, float]:
    """An object's bounds in page space: objects inside form XObjects are in the form's."""
    left, bottom, right, top = obj.get_bounds()
    container = getattr(obj, "container", None)
    while container is not None:
        left, bottom, right, top = container.get_matrix().on_rect(left, bottom, right, top)
        container = getattr(container, "container", None)
    return left, bottom, right, top


def find_in_pdf_page(page: Any, textpage: Any) -> list[dict[str, Any]]:
    """Filled dark rectangles and paths in a pypdfium2 page; flags text left under them."""
    import ctypes

    import pypdfium2.raw as raw

    width, height = page.get_size()
    if width <= 0 or height <= 0:
        return []
    found: list[dict[str, Any]] = []
    rects: list[tuple[float, float, float, float]] = []
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
        if a.value < 200 or max(r.value, g.value, b.value) > 70:
            continue
        left, bottom, right, top = object_bounds(obj)
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
