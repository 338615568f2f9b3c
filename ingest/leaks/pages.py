"""Text a PDF page holds but a person does not see, decided by pixels and draw order.

The page is rendered twice at the same scale: as it is, and with every text object switched
off. A character whose pixels do not change between the two renders is not seen, whatever
hides it (a box or image drawn over it, a dark annotation, white on white, render mode 3, zero
alpha, outside the crop box); one whose pixels change is seen, whatever lies under it (a box
drawn beneath it, a white label on a black box, a highlight). Only then is the cause named,
from what is drawn over the character after it (draw order) and the annotations over it.

Geometry alone decides three kinds the pixels cannot: an unapplied /Redact mark (the page
shows the text until someone applies it), a patterned fill and a translucent box drawn over
text (the text shows through, but someone meant to cover it).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from foiarchive.ingest.leaks import gate
from foiarchive.ingest.redactions import object_bounds
from foiarchive.schemas.findings import Finding

#: Render scale (144 dpi): 10 pt glyphs are 20 px tall, enough to see ink in each one.
SCALE = 2.0
#: A character is seen when some pixel of its box changes by this much (0..255) between the
#: render with text and the one without: anti-aliasing of a hidden glyph's neighbours stays
#: far below it, the faintest visible grey text (a light grey 200 on white) far above.
SEEN_DELTA = 24
#: Dark uniform: what a redaction box in a scan looks like under an OCR layer's word.
DARK = 90
UNIFORM = 40
#: A fill this transparent (alpha, 0..255) over text is a box that does not hide it.
OPAQUE_ALPHA = 250
#: Findings need this many letters or digits: a hidden period at a box's edge is not a leak.
MIN_CHARS = 2


Rect = tuple[float, float, float, float]  # left, bottom, right, top in PDF user space


@dataclass
class _Cover:
    order: int  # draw order; annotations come after every page object
    rect: Rect
    kind: str  # under_shape, under_image, under_annotation, patterned_fill, translucent_box
    how: str
    opaque: bool = True
    gray: int | None = None  # the fill's grey level, for a single-colour fill


@dataclass
class _Char:
    index: int
    char: str
    rect: Rect
    order: int  # draw order of its text object
    invisible_mode: bool
    alpha: int
    seen: bool = True
    dark_beneath: bool = False


Box = tuple[float, float, float, float]  # fractions of the page as shown, origin top left


@dataclass
class PageLeaks:
    findings: list[Finding] = field(default_factory=list)
    hidden_words: set[str] = field(default_factory=set)
    #: A scan's invisible text layer, word by word with its box, when the OCR that follows
    #: decides which words lie under boxes on the image (see ocr_under_boxes).
    layer_words: list[tuple[str, Box]] = field(default_factory=list)


def page_leaks(pdf: pdfium.PdfDocument, index: int, scanned: bool) -> PageLeaks:
    """Everything page `index` (0-based) draws that a person does not see."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            return leaks_on(page, textpage, index + 1, scanned)
        finally:
            textpage.close()
    finally:
        page.close()


def leaks_on(
    page: Any,
    textpage: Any,
    number: int,
    scanned: bool,
    ocr_follows: bool = False,
    objects: gate.PageObjects | None = None,
) -> PageLeaks:
    """page_leaks on a page already open. With `ocr_follows`, a scan's invisible layer is not
    rendered here: its words come back in layer_words for ocr_under_boxes, since the OCR of
    the page finds the image's boxes anyway (ingest.pipeline)."""
    crop = _rect(page.get_cropbox())
    if crop[2] <= crop[0] or crop[3] <= crop[1] or textpage.count_chars() == 0:
        return PageLeaks()
    deferred = scanned and ocr_follows
    objects = objects if objects is not None else gate.read(page)
    result = PageLeaks(layer_words=layer_words(page, textpage) if deferred else [])
    result.findings = cropped_images(objects, crop, number)
    verdict = gate.suspect(page, crop, not deferred, objects)
    if verdict.pixels:
        found, result.hidden_words = _pixel_test(page, textpage, number, crop, scanned)
        if deferred:
            found = [f for f in found if f.kind != "ocr_under_box"]
    else:
        found = _white_on_white(verdict.white, textpage, number, crop)
        result.hidden_words = {w.lower() for f in found for w in f.text.split()}
    result.findings += found
    return result


#: An image is 'cropped' when this share of its area lies outside the crop box.
CROPPED_SHARE = 0.1


def cropped_images(objects: gate.PageObjects, crop: Rect, number: int) -> list[Finding]:
    """Images placed partly outside the crop box: the file keeps all their pixels.

    Images drawn by a form XObject are left out: on the corpus they are letterhead art that a
    designer let bleed off the page (metra's letters: three pieces, 11-37% outside), and
    the form's own box clips them as drawn."""
    findings = []
    left, bottom, right, top = crop
    for image in objects.fills:
        if image.kind != raw.FPDF_PAGEOBJ_IMAGE or image.level > 0:
            continue
        x0, y0, x1, y1 = image.rect
        area = max(x1 - x0, 0) * max(y1 - y0, 0)
        inside = max(0, min(x1, right) - max(x0, left)) * max(0, min(y1, top) - max(y0, bottom))
        if area > 0 and inside > 0 and (area - inside) / area >= CROPPED_SHARE:
            width, height = ctypes.c_uint(), ctypes.c_uint()
            raw.FPDFImageObj_GetImagePixelSize(
                image.handle, ctypes.byref(width), ctypes.byref(height)
            )
            findings.append(
                Finding(
                    "cropped_image",
                    number,
                    None,
                    f"image {width.value}x{height.value} px, "
                    f"{(area - inside) / area:.0%} of it outside the page",
                    "the image's placement reaches past the crop box; the file keeps all of "
                    "its pixels",
                )
            )
    return findings


def _pixel_test(
    page: Any, textpage: Any, number: int, crop: Rect, scanned: bool
) -> tuple[list[Finding], set[str]]:
    orders, text_objects, covers = _objects(page)
    covers += _annotation_covers(page, len(orders))
    chars = _chars(textpage, orders)
    if not chars:
        return [], set()
    redacts = _redact_marks(page)
    _look(page, text_objects, chars, covers)
    labelled: list[tuple[_Char, str, str]] = []
    for char in chars:
        label = _label(char, covers, redacts, crop, scanned)
        if label:
            labelled.append((char, *label))
    findings: list[Finding] = []
    hidden: set[str] = set()
    for kind, how, run in _runs(labelled):
        text = "".join(c.char for c in run).strip()
        if sum(ch.isalnum() for ch in text) < MIN_CHARS:
            continue
        box = _fraction(_union([c.rect for c in run]), crop)
        findings.append(Finding(kind, number, box, text, how))
        hidden.update(w.lower() for w in text.split())
    return findings, hidden


def _white_on_white(
    texts: list[gate.Text], textpage: Any, number: int, crop: Rect
) -> list[Finding]:
    """Text objects coloured like the white page with nothing drawn beneath or over them, as
    the gate found them: what the pixel test would say, without rendering (a Federal Register
    page's white typesetting slug, on every page of the corpus's fedreg file)."""
    findings = []
    how = "coloured like the white page, with nothing drawn beneath or over it (page objects)"
    for text in texts:
        size = raw.FPDFTextObj_GetText(text.handle, textpage.raw, None, 0)
        if size <= 2:
            continue
        buffer = (ctypes.c_ushort * (size // 2))()
        raw.FPDFTextObj_GetText(text.handle, textpage.raw, buffer, size)
        value = bytes(buffer)[: size - 2].decode("utf-16-le", errors="replace").strip()
        if sum(ch.isalnum() for ch in value) >= MIN_CHARS:
            box = _fraction(text.rect, crop)
            findings.append(Finding("background_text", number, box, value, how))
    return findings


def layer_words(page: Any, textpage: Any) -> list[tuple[str, Box]]:
    """The words of the page's invisible text (render mode 3 or 7, or alpha 0), each with its
    box as fractions of the page as rendered (rotation included), in the layer's order."""
    words: list[tuple[str, Box]] = []
    invisible: dict[int, bool] = {}
    edges = [ctypes.c_double() for _ in range(4)]
    letters: list[str] = []
    rects: list[Rect] = []

    def flush() -> None:
        if letters:
            words.append(("".join(letters), _shown(page, _union(rects))))
            letters.clear()
            rects.clear()

    for index in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage.raw, index)
        obj = raw.FPDFText_GetTextObject(textpage.raw, index)
        key = ctypes.cast(obj, ctypes.c_void_p).value or 0
        if key not in invisible:
            invisible[key] = bool(obj) and _invisible(obj)
        if code == 0 or code > 0x10FFFF or chr(code).isspace() or not invisible[key]:
            flush()
            continue
        if raw.FPDFText_GetCharBox(textpage.raw, index, *(ctypes.byref(e) for e in edges)):
            left, right, bottom, top = (e.value for e in edges)
            letters.append(chr(code))
            rects.append((left, bottom, right, top))
    flush()
    return words


def _invisible(obj: Any) -> bool:
    if raw.FPDFTextObj_GetTextRenderMode(obj) in (
        raw.FPDF_TEXTRENDERMODE_INVISIBLE,
        raw.FPDF_TEXTRENDERMODE_CLIP,
    ):
        return True
    r, g, b, a = (ctypes.c_uint(0) for _ in range(4))
    return bool(raw.FPDFPageObj_GetFillColor(obj, *(ctypes.byref(c) for c in (r, g, b, a)))) and (
        a.value == 0
    )


#: Device size for page-to-fraction conversion (pdfium maps to whole device pixels).
_UNIT = 100_000


def _shown(page: Any, rect: Rect) -> Box:
    x0, y0, x1, y1 = _pixels(page, rect, _UNIT, _UNIT)
    return (round(x0 / _UNIT, 4), round(y0 / _UNIT, 4), round(x1 / _UNIT, 4), round(y1 / _UNIT, 4))


def ocr_under_boxes(
    words: list[tuple[str, Box]],
    boxes: list[dict[str, Any]],
    number: int,
    read: list[tuple[str, Box]] | None = None,
) -> list[Finding]:
    """A scan's layer words whose centres lie in a solid box OCR found on the image: the agency
    OCR'd the page, then boxed part of the image, and the layer kept the words. A layer word
    that our OCR also read at that spot (`read`: its words and boxes), or that is the box's
    label, is printed on the box - the white '(b)(6)' of a page OCR'd after redaction - and
    a person sees it."""
    solid = [b for b in boxes if b.get("kind") == "filled"]
    runs: list[tuple[int, list[tuple[str, Box]]]] = []
    for word, box in words:
        cover = next((i for i, s in enumerate(solid) if _centre_in_box(box, s["box"])), -1)
        if cover < 0 or _seen_on_box(word, box, solid[cover], read or []):
            runs.append((-1, []))  # a visible word ends a run
            continue
        if runs and runs[-1][0] == cover:
            runs[-1][1].append((word, box))
        else:
            runs.append((cover, [(word, box)]))
    findings = []
    for cover, run in runs:
        text = " ".join(word for word, _ in run)
        if cover >= 0 and sum(ch.isalnum() for ch in text) >= MIN_CHARS:
            box = _union([b for _, b in run])
            how = "an OCR layer word over a solid box that OCR found in the scanned image"
            findings.append(Finding("ocr_under_box", number, box, text, how))
    return findings


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _seen_on_box(word: str, box: Box, cover: dict[str, Any], read: list[tuple[str, Box]]) -> bool:
    letters = _letters(word)
    if letters and letters in _letters(str(cover.get("label") or "")):
        return True
    for text, where in read:
        other = _letters(text)
        near = _centre_in_box(where, box) or _centre_in_box(box, where)
        if near and letters and other and (letters in other or other in letters):
            return True
    return False


def _centre_in_box(box: Box, area: tuple[float, ...]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] <= cx <= area[2] and area[1] <= cy <= area[3]


def _rect(values: Any) -> Rect:
    left, bottom, right, top = (float(v) for v in values)
    return left, bottom, right, top


def _objects(page: Any) -> tuple[dict[int, int], list[Any], list[_Cover]]:
    """Draw order of every object (by its handle), the text objects, and what may cover text."""
    orders: dict[int, int] = {}
    texts: list[Any] = []
    covers: list[_Cover] = []
    for order, obj in enumerate(page.get_objects(max_depth=3)):
        orders[ctypes.cast(obj.raw, ctypes.c_void_p).value or 0] = order
        if obj.type == raw.FPDF_PAGEOBJ_TEXT:
            texts.append(obj)
        elif obj.type == raw.FPDF_PAGEOBJ_IMAGE:
            covers.append(
                _Cover(order, object_bounds(obj), "under_image", "an image drawn over it")
            )
        elif obj.type == raw.FPDF_PAGEOBJ_PATH:
            cover = _path_cover(obj, order)
            if cover:
                covers.append(cover)
    return orders, texts, covers


def _path_cover(obj: Any, order: int) -> _Cover | None:
    fill_mode, stroke = ctypes.c_int(0), ctypes.c_int(0)
    if not raw.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill_mode), ctypes.byref(stroke)):
        return None
    if fill_mode.value == 0:
        return None
    rect = object_bounds(obj)
    r, g, b, a = (ctypes.c_uint(0) for _ in range(4))
    if not raw.FPDFPageObj_GetFillColor(obj.raw, *(ctypes.byref(c) for c in (r, g, b, a))):
        # pdfium has no single colour for a pattern (hatching) or shading fill
        return _Cover(order, rect, "patterned_fill", "a patterned fill drawn over it", False)
    if a.value < OPAQUE_ALPHA:
        if a.value == 0 or max(r.value, g.value, b.value) > 120:
            return None  # a light tint over text is a highlight, not an attempt to hide it
        return _Cover(
            order, rect, "translucent_box", f"a box of alpha {a.value}/255 drawn over it", False
        )
    gray = round(0.299 * r.value + 0.587 * g.value + 0.114 * b.value)
    return _Cover(order, rect, "under_shape", "an opaque shape drawn over it", gray=gray)


def _annotation_covers(page: Any, after: int) -> list[_Cover]:
    covers = []
    for annot in _annotations(page):
        subtype = raw.FPDFAnnot_GetSubtype(annot)
        if subtype in gate.ANNOTATION_COVERS:
            rect = _annot_rect(annot)
            if rect:
                name = _SUBTYPE_NAMES.get(subtype, "an")
                covers.append(
                    _Cover(after, rect, "under_annotation", f"a {name} annotation over it")
                )
        raw.FPDFPage_CloseAnnot(annot)
    return covers


_SUBTYPE_NAMES = {
    raw.FPDF_ANNOT_HIGHLIGHT: "highlight",
    raw.FPDF_ANNOT_SQUARE: "square",
    raw.FPDF_ANNOT_INK: "ink",
    raw.FPDF_ANNOT_POLYGON: "polygon",
    raw.FPDF_ANNOT_CIRCLE: "circle",
    raw.FPDF_ANNOT_STAMP: "stamp",
    raw.FPDF_ANNOT_FREETEXT: "free text",
}


def _annotations(page: Any) -> list[Any]:
    return [raw.FPDFPage_GetAnnot(page.raw, i) for i in range(raw.FPDFPage_GetAnnotCount(page.raw))]


def _annot_rect(annot: Any) -> Rect | None:
    rect = raw.FS_RECTF()
    if not raw.FPDFAnnot_GetRect(annot, ctypes.byref(rect)):
        return None
    return (
        min(rect.left, rect.right),
        min(rect.bottom, rect.top),
        max(rect.left, rect.right),
        max(rect.bottom, rect.top),
    )


def _redact_marks(page: Any) -> list[tuple[Rect, str]]:
    """Unapplied /Redact annotations: their area and the overlay text they would print."""
    marks = []
    for annot in _annotations(page):
        if raw.FPDFAnnot_GetSubtype(annot) == raw.FPDF_ANNOT_REDACT:
            rect = _annot_rect(annot)
            if rect:
                marks.append((rect, _annot_string(annot, "OverlayText")))
        raw.FPDFPage_CloseAnnot(annot)
    return marks


def _annot_string(annot: Any, key: str) -> str:
    size = raw.FPDFAnnot_GetStringValue(annot, key.encode(), None, 0)
    if size <= 2:
        return ""
    buffer = (ctypes.c_ushort * (size // 2))()
    raw.FPDFAnnot_GetStringValue(annot, key.encode(), buffer, size)
    return bytes(buffer)[: size - 2].decode("utf-16-le", errors="replace")


def _chars(textpage: Any, orders: dict[int, int]) -> list[_Char]:
    chars = []
    edges = [ctypes.c_double() for _ in range(4)]
    colour = [ctypes.c_uint() for _ in range(4)]
    for index in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage.raw, index)
        if code == 0 or code > 0x10FFFF:
            continue
        char = chr(code)
        if not raw.FPDFText_GetCharBox(textpage.raw, index, *(ctypes.byref(e) for e in edges)):
            continue
        left, right, bottom, top = (e.value for e in edges)
        obj = raw.FPDFText_GetTextObject(textpage.raw, index)
        order = orders.get(ctypes.cast(obj, ctypes.c_void_p).value or 0, -1) if obj else -1
        mode = raw.FPDFTextObj_GetTextRenderMode(obj) if obj else 0
        alpha = 255
        if raw.FPDFText_GetFillColor(textpage.raw, index, *(ctypes.byref(c) for c in colour)):
            alpha = colour[3].value
        chars.append(
            _Char(
                index,
                char,
                (left, bottom, right, top),
                order,
                mode == raw.FPDF_TEXTRENDERMODE_INVISIBLE,
                alpha,
            )
        )
    return chars


def _look(page: Any, text_objects: list[Any], chars: list[_Char], covers: list[_Cover]) -> None:
    """Render with and without the text; mark each character seen or not by its pixels, and
    each single-colour fill whose pixels are not that colour as a pattern (pdfium reports a
    pattern fill as a plain colour)."""
    import numpy as np

    with_text = _render(page)
    for obj in text_objects:
        raw.FPDFPageObj_SetIsActive(obj.raw, 0)
    try:
        without = _render(page)
    finally:
        for obj in text_objects:
            raw.FPDFPageObj_SetIsActive(obj.raw, 1)
    height, width = with_text.shape
    for cover in covers:
        if cover.gray is not None:
            x0, y0, x1, y1 = _pixels(page, cover.rect, width, height)
            region = without[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1]
            if region.size and (np.abs(region.astype(np.int16) - cover.gray) < 40).mean() < 0.8:
                cover.kind, cover.opaque = "patterned_fill", False
                cover.how = "a patterned fill drawn over it"
    delta = np.abs(with_text.astype(np.int16) - without.astype(np.int16))
    for char in chars:
        if char.char.isspace():
            continue
        x0, y0, x1, y1 = _pixels(page, char.rect, width, height)
        if x1 <= x0 or y1 <= y0:
            char.seen = False  # outside what the page shows
            continue
        char.seen = bool(delta[y0:y1, x0:x1].max() >= SEEN_DELTA)
        region = without[y0:y1, x0:x1]
        char.dark_beneath = bool(
            region.mean() < DARK and int(region.max()) - int(region.min()) < UNIFORM
        )


def _render(page: Any) -> Any:
    import numpy as np

    bitmap = page.render(scale=SCALE, grayscale=True, may_draw_forms=True, draw_annots=True)
    try:
        return np.array(bitmap.to_pil().convert("L"))
    finally:
        bitmap.close()


def _pixels(page: Any, rect: Rect, width: int, height: int) -> tuple[int, int, int, int]:
    """A rectangle of page space as clipped pixel bounds of the render (rotation included)."""
    xs, ys = [], []
    for x, y in ((rect[0], rect[1]), (rect[2], rect[3])):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(
            page.raw, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy)
        )
        xs.append(dx.value)
        ys.append(dy.value)
    x0, x1 = max(0, min(xs)), min(width, max(xs) + 1)
    y0, y1 = max(0, min(ys)), min(height, max(ys) + 1)
    return x0, y0, x1, y1


def _centre_in(rect: Rect, area: Rect) -> bool:
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    return area[0] <= cx <= area[2] and area[1] <= cy <= area[3]


def _label(
    char: _Char,
    covers: list[_Cover],
    redacts: list[tuple[Rect, str]],
    crop: Rect,
    scanned: bool,
) -> tuple[str, str] | None:
    """The kind of leak a character is and how that was decided, or None when it is not one."""
    if char.char.isspace():
        return None
    for rect, overlay in redacts:
        if _centre_in(char.rect, rect):
            said = f" (overlay text {overlay!r})" if overlay else ""
            return "redact_annotation", f"inside a /Redact annotation never applied{said}"
    if not _centre_in(char.rect, crop):
        return "outside_crop", "its box lies outside the crop box, so no viewer shows it"
    over = [c for c in covers if c.order > char.order and _centre_in(char.rect, c.rect)]
    if char.seen:
        for cover in over:
            if not cover.opaque:
                return cover.kind, f"{cover.how}; the text shows through it"
        return None
    if char.invisible_mode or char.alpha == 0:
        if scanned:
            if char.dark_beneath:
                return "ocr_under_box", "an OCR layer word over a dark box in the scanned image"
            return None  # a scan's OCR layer over its own ink: the image shows the words
        mode = "render mode 3 (invisible)" if char.invisible_mode else "fill alpha 0"
        return "invisible_text", f"drawn with {mode}; the pixels do not change with it"
    for cover in sorted(over, key=lambda c: -c.order):
        return cover.kind, f"{cover.how}; the pixels do not change with it (draw order, render)"
    return "background_text", "coloured like what lies beneath: the pixels do not change with it"


def _runs(labelled: list[tuple[_Char, str, str]]) -> list[tuple[str, str, list[_Char]]]:
    """Consecutive characters of one kind on one line, as one finding each."""
    runs: list[tuple[str, str, list[_Char]]] = []
    for char, kind, how in labelled:
        if runs:
            last_kind, _, chars = runs[-1]
            previous = chars[-1]
            same_line = abs(previous.rect[1] - char.rect[1]) < max(
                2.0, (previous.rect[3] - previous.rect[1]) * 0.8
            )
            if last_kind == kind and char.index - previous.index <= 3 and same_line:
                if char.index - previous.index > 1:
                    chars.append(_Char(-1, " ", previous.rect, previous.order, False, 255))
                chars.append(char)
                continue
        runs.append((kind, how, [char]))
    return runs


def _union(rects: list[Rect]) -> Rect:
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )


def _fraction(rect: Rect, crop: Rect) -> tuple[float, float, float, float]:
    width, height = crop[2] - crop[0], crop[3] - crop[1]

    def clip(v: float) -> float:
        return round(min(1.0, max(0.0, v)), 4)

    return (
        clip((rect[0] - crop[0]) / width),
        clip((crop[3] - rect[3]) / height),
        clip((rect[2] - crop[0]) / width),
        clip((crop[3] - rect[1]) / height),
    )
