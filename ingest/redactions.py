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


def area(redactions: list[dict[str, Any]]) -> float:
    """Share of the page covered by redaction boxes (overlaps counted once, roughly)."""
    total = sum((r["box"][2] - r["box"][0]) * (r["box"][3] - r["box"][1]) for r in redactions)
    return round(min(1.0, total), 4)


# -- scanned pages --------------------------------------------------------------------------
def find_in_image(image: Image.Image, dpi: int | None = None) -> list[dict[str, Any]]:
    """Solid dark boxes and empty outlined boxes in a page image."""
    import numpy as np
    from scipy import ndimage

    gray = image.convert("L")
    width, height = gray.size
    factor = max(1, round((dpi or max(width, height) / 11) / ANALYSIS_DPI))
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray, dtype=np.uint8)
    h, w = small.shape
    ink = small < DARK
    labels, _ = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    found = []
    for index, region in enumerate(ndimage.find_objects(labels), start=1):
        if region is None:
            continue
        rows, cols = region
        bh, bw = rows.stop - rows.start, cols.stop - cols.start
        if bw < MIN_WIDTH * w or bh < MIN_HEIGHT * h or (bw > 0.97 * w and bh > 0.97 * h):
            continue
        component = labels[region] == index
        fill = component.mean()
        touches_edge = rows.start == 0 or cols.start == 0 or rows.stop == h or cols.stop == w
        x0, y0, x1, y1 = cols.start / w, rows.start / h, cols.stop / w, rows.stop / h
        # Dark bands along the edge of a scan are copier artefacts, not redactions.
        artefact = touches_edge and (bw > 0.5 * w or bh > 0.5 * h or min(bh, bw) < 0.02 * min(h, w))
        if fill >= 0.82 and bh >= 3 and not artefact:
            found.append(box(x0, y0, x1, y1, "filled", "image"))
        elif (
            fill < 0.35
            and bw >= 0.05 * w
            and bh >= 0.015 * h
            and _is_outline(component, ink[region])
        ):
            found.append(box(x0, y0, x1, y1, "outlined", "image"))
    return found


def _is_outline(component: Any, ink: Any) -> bool:
    """A rectangle drawn with thin lines around an (almost) empty inside: an FBI-style box."""
    import numpy as np

    h, w = component.shape
    if h < 6 or w < 6:
        return False
    edges = [
        component[:2, :].any(axis=0).mean(),
        component[-2:, :].any(axis=0).mean(),
        component[:, :2].any(axis=1).mean(),
        component[:, -2:].any(axis=1).mean(),
    ]
    if min(edges) < 0.85:
        return False
    inside = ink[3:-3, 3:-3]
    if inside.size == 0:
        return False
    # Table grids are outlines too, but with lines running through them.
    crossing = max(np.mean(inside, axis=1).max(initial=0), np.mean(inside, axis=0).max(initial=0))
    return inside.mean() < 0.12 and crossing < 0.6


# -- born-digital pages ---------------------------------------------------------------------
def _page_bounds(obj: Any) -> tuple[float, float, float, float]:
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
    found = []
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
        left, bottom, right, top = _page_bounds(obj)
        bw, bh = (right - left) / width, (top - bottom) / height
        if bw < MIN_WIDTH or bh < MIN_HEIGHT / 2 or bw * bh > 0.9:
            continue
        under = textpage.get_text_bounded(left=left, bottom=bottom, right=right, top=top)
        hidden = sum(1 for ch in under if not ch.isspace())
        found.append(
            box(
                left / width,
                1 - top / height,
                right / width,
                1 - bottom / height,
                "filled",
                "vector",
                text_under=hidden,
            )
        )
    return found
