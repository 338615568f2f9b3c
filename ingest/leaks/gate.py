"""Can anything on this page hide text? Decided from page objects, not characters or pixels.

The pixel test (leaks.pages) renders a page twice and walks every character: about 100 ms a
page, where reading the text layer costs 4-12 ms (python /tmp bench of three corpus files,
fedreg, us-senate, ca-edd). Nearly every born-digital page has nothing that could hide text,
and that is known from the objects alone, in draw order:

- a filled path, image or shading drawn after a text object and overlapping its bounds;
- a text object in render mode 3 or 7, or with fill alpha 0;
- a text object whose colour is close to that of a fill drawn beneath it, or to the white
  page when nothing is beneath it; or over a small image drawn before it (its colour unknown);
- a text object reaching outside the crop box;
- an annotation that can cover text (dark highlight, square, ink, ..., /Redact) over text.

Only a page with one of these gets the pixel test. The walk uses pdfium's C calls directly
(pypdfium2's object wrappers cost about twice as much) and numpy for the overlaps.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any

import pypdfium2.raw as raw

#: Colours within this much (0..255, any channel) of each other are 'the same' to the eye
#: for text over a fill: the pixel test's SEEN_DELTA is 24, so this leaves a wide margin.
SAME_COLOUR = 60
#: A fill thinner than this (points) is a rule or a table border, which cannot hide a word.
MIN_COVER = 1.5
#: An image beneath text covering this share of the page is a background (a letterhead, a
#: form); text over it is taken as printed on it. Smaller images beneath text are suspect.
BACKGROUND_SHARE = 0.5
#: Text may stick out of the crop box by this much (points) before it counts as outside.
CROP_SLACK = 1.0
_WHITE = (255, 255, 255)
#: Annotations that may cover text (a /Redact mark only until someone applies it).
ANNOTATION_COVERS = frozenset(
    {
        raw.FPDF_ANNOT_HIGHLIGHT,
        raw.FPDF_ANNOT_SQUARE,
        raw.FPDF_ANNOT_INK,
        raw.FPDF_ANNOT_POLYGON,
        raw.FPDF_ANNOT_CIRCLE,
        raw.FPDF_ANNOT_STAMP,
        raw.FPDF_ANNOT_FREETEXT,
    }
)
_COVERING_ANNOTATIONS = ANNOTATION_COVERS | {raw.FPDF_ANNOT_REDACT}
_INVISIBLE_MODES = {raw.FPDF_TEXTRENDERMODE_INVISIBLE, raw.FPDF_TEXTRENDERMODE_CLIP}

Rect = tuple[float, float, float, float]
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass
class Text:
    order: int  # draw order
    rect: Rect  # bounds in page space
    colour: tuple[int, int, int]  # fill (stroke for stroke-only render modes)
    mode: int  # text render mode
    alpha: int
    level: int  # 0 on the page, 1 inside a form XObject, ...
    handle: Any


@dataclass
class Fill:
    order: int
    rect: Rect
    kind: int  # raw.FPDF_PAGEOBJ_PATH, _IMAGE or _SHADING
    colour: tuple[int, int, int] | None  # None: a pattern, shading or image (no one colour)
    alpha: int
    level: int
    handle: Any = None


@dataclass
class PageObjects:
    """A page's objects in draw order, read once by the text layer reader for the vector
    redaction boxes, the scan test and the leak gate (pypdfium2's object wrappers cost 2-4 ms
    a page on the corpus's tables, as much as reading the text)."""

    texts: list[Text] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)  # filled paths, images, shadings
    order: int = 0


@dataclass
class Verdict:
    """What the objects say: `pixels` when only the pixel test can decide; otherwise the text
    objects coloured like the white page with nothing beneath or over them (hidden for sure,
    no render needed)."""

    pixels: bool = False
    white: list[Text] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.pixels or bool(self.white)


def read(page: Any, max_depth: int = 3) -> PageObjects:
    """Every object of the page (into form XObjects `max_depth` levels deep), in draw order."""
    objects = PageObjects()
    _Reader(objects, max_depth).read(page.raw, None, _IDENTITY, 0)
    return objects


def suspect(
    page: Any, crop: Rect, with_invisible: bool = True, objects: PageObjects | None = None
) -> Verdict:
    """Could anything on the page hide text? A false verdict: the pixel test cannot find a leak.

    `with_invisible=False` leaves out invisible text objects: a scan's OCR layer, looked at
    against the boxes OCR finds in the image instead (see pages.layer_words)."""
    import numpy as np

    objects = objects if objects is not None else read(page)
    texts = []
    for text in objects.texts:
        if text.mode in _INVISIBLE_MODES or text.alpha == 0:
            if with_invisible:
                return Verdict(pixels=True)
            continue
        texts.append(text)
    if not texts:
        return Verdict()
    text_rects = np.array([t.rect for t in texts])
    if _outside(text_rects, crop) or _annotations_over(page, text_rects):
        return Verdict(pixels=True)
    has_beneath = np.zeros(len(texts), dtype=bool)
    fills = [f for f in objects.fills if _may_cover(f)]
    if fills:
        area = max(crop[2] - crop[0], 0.0) * max(crop[3] - crop[1], 0.0)
        text_order = np.array([t.order for t in texts])
        text_colour = np.array([t.colour for t in texts], dtype=np.int32)
        fill_order = np.array([f.order for f in fills])
        # a fill of no one colour (pattern, image) matches no text colour
        fill_colour = np.array([f.colour or (-999, -999, -999) for f in fills], dtype=np.int32)
        fill_colour[np.array([f.alpha == 0 for f in fills])] = -999
        small_image = np.array([_small_image(f, area) for f in fills])
        for rows, columns in _overlapping(text_rects, fills):
            if (fill_order[columns] > text_order[rows]).any():
                return Verdict(pixels=True)  # something drawn over text
            has_beneath[rows] = True
            difference = np.abs(text_colour[rows] - fill_colour[columns]).max(axis=1)
            if (small_image[columns] | (difference < SAME_COLOUR)).any():
                return Verdict(pixels=True)  # text on a fill of its colour, or on a small image
    white = [t for t, beneath in zip(texts, has_beneath, strict=True) if not beneath]
    return Verdict(white=[t for t in white if _same(t.colour, _WHITE)])


def _may_cover(fill: Fill) -> bool:
    width, height = fill.rect[2] - fill.rect[0], fill.rect[3] - fill.rect[1]
    return min(width, height) >= MIN_COVER


def _small_image(fill: Fill, page_area: float) -> bool:
    """An image beneath text whose colour is unknown, too small to be the page's background."""
    rect = fill.rect
    size = (rect[2] - rect[0]) * (rect[3] - rect[1])
    return fill.kind == raw.FPDF_PAGEOBJ_IMAGE and size < BACKGROUND_SHARE * page_area


#: Rows of text rectangles compared with every fill at once: bounds numpy's temporaries
#: (rows x fills x 8 bytes, a few of them) on pages with thousands of objects.
_CHUNK = 256


def _overlapping(text_rects: Any, fills: list[Fill]) -> Any:
    """(text indices, fill indices) of pairs that overlap, chunk by chunk of text rows."""
    import numpy as np

    if not fills:
        return
    fill_rects = np.array([f.rect for f in fills])
    for start in range(0, len(text_rects), _CHUNK):
        hits = _overlaps(text_rects[start : start + _CHUNK], fill_rects)
        rows, columns = np.nonzero(hits)
        if len(rows):
            yield rows + start, columns


class _Reader:
    """The C calls with their argument buffers made once per page, not once per object."""

    def __init__(self, objects: PageObjects, max_depth: int) -> None:
        self.objects, self.max_depth = objects, max_depth
        self.edges = [ctypes.c_float() for _ in range(4)]
        self.edge_refs = [ctypes.byref(e) for e in self.edges]
        self.rgba = [ctypes.c_uint() for _ in range(4)]
        self.rgba_refs = [ctypes.byref(c) for c in self.rgba]
        self.fill_mode, self.stroke = ctypes.c_int(), ctypes.c_int()
        self.mode_refs = (ctypes.byref(self.fill_mode), ctypes.byref(self.stroke))

    def read(self, page: Any, form: Any, matrix: Matrix, level: int) -> None:
        if form is None:
            count, get = raw.FPDFPage_CountObjects(page), raw.FPDFPage_GetObject
            parent = page
        else:
            count, get = raw.FPDFFormObj_CountObjects(form), raw.FPDFFormObj_GetObject
            parent = form
        for index in range(count):
            obj = get(parent, index)
            self.objects.order += 1
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_FORM:
                if level < self.max_depth - 1:
                    self.read(page, obj, _times(_matrix(obj), matrix), level + 1)
                continue
            if not raw.FPDFPageObj_GetBounds(obj, *self.edge_refs):
                continue
            rect = _on(matrix, (*(e.value for e in self.edges),))  # type: ignore[arg-type]
            if kind == raw.FPDF_PAGEOBJ_TEXT:
                self._text(obj, rect, level)
            elif kind == raw.FPDF_PAGEOBJ_PATH:
                self._path(obj, rect, level)
            elif kind in (raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_SHADING):
                fill = Fill(self.objects.order, rect, kind, None, 255, level, obj)
                self.objects.fills.append(fill)

    def _text(self, obj: Any, rect: Rect, level: int) -> None:
        mode = raw.FPDFTextObj_GetTextRenderMode(obj)
        get = raw.FPDFPageObj_GetStrokeColor if mode in (1, 5) else raw.FPDFPageObj_GetFillColor
        colour, alpha = ((0, 0, 0), 255)
        if get(obj, *self.rgba_refs):
            r, g, b, alpha = (c.value for c in self.rgba)
            colour = (r, g, b)
        self.objects.texts.append(Text(self.objects.order, rect, colour, mode, alpha, level, obj))

    def _path(self, obj: Any, rect: Rect, level: int) -> None:
        if not raw.FPDFPath_GetDrawMode(obj, *self.mode_refs) or self.fill_mode.value == 0:
            return
        colour: tuple[int, int, int] | None = None
        alpha = 0
        if raw.FPDFPageObj_GetFillColor(obj, *self.rgba_refs):
            r, g, b, alpha = (c.value for c in self.rgba)
            colour = (r, g, b)
        kind = raw.FPDF_PAGEOBJ_PATH
        self.objects.fills.append(Fill(self.objects.order, rect, kind, colour, alpha, level))


def _matrix(obj: Any) -> Matrix:
    m = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _times(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix of `inner` (a form's) then `outer` (its container's): inner x outer."""
    a, b, c, d, e, f = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _on(matrix: Matrix, rect: Rect) -> Rect:
    if matrix == _IDENTITY:
        return rect
    a, b, c, d, e, f = matrix
    xs, ys = [], []
    for x, y in ((rect[0], rect[1]), (rect[0], rect[3]), (rect[2], rect[1]), (rect[2], rect[3])):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return min(xs), min(ys), max(xs), max(ys)


def _same(one: tuple[int, int, int], other: tuple[int, int, int]) -> bool:
    return max(abs(x - y) for x, y in zip(one, other, strict=True)) < SAME_COLOUR


def _overlaps(one: Any, other: Any) -> Any:
    """Boolean matrix: rectangle i of `one` overlaps rectangle j of `other` (positive area)."""
    import numpy as np

    left = np.maximum(one[:, None, 0], other[None, :, 0])
    right = np.minimum(one[:, None, 2], other[None, :, 2])
    bottom = np.maximum(one[:, None, 1], other[None, :, 1])
    top = np.minimum(one[:, None, 3], other[None, :, 3])
    return (right > left) & (top > bottom)


def _outside(text_rects: Any, crop: Rect) -> bool:
    return bool(
        (text_rects[:, 0] < crop[0] - CROP_SLACK).any()
        or (text_rects[:, 1] < crop[1] - CROP_SLACK).any()
        or (text_rects[:, 2] > crop[2] + CROP_SLACK).any()
        or (text_rects[:, 3] > crop[3] + CROP_SLACK).any()
    )


def _annotations_over(page: Any, text_rects: Any) -> bool:
    import numpy as np

    count = raw.FPDFPage_GetAnnotCount(page.raw)
    rects = []
    for index in range(count):
        annot = raw.FPDFPage_GetAnnot(page.raw, index)
        try:
            if raw.FPDFAnnot_GetSubtype(annot) not in _COVERING_ANNOTATIONS:
                continue
            rect = raw.FS_RECTF()
            if raw.FPDFAnnot_GetRect(annot, ctypes.byref(rect)):
                rects.append(
                    (
                        min(rect.left, rect.right),
                        min(rect.bottom, rect.top),
                        max(rect.left, rect.right),
                        max(rect.bottom, rect.top),
                    )
                )
        finally:
            raw.FPDFPage_CloseAnnot(annot)
    return bool(rects) and bool(_overlaps(text_rects, np.array(rects)).any())
