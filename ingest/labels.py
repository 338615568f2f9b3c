"""The exemption label of each redaction box: the code printed inside or beside it.

The page's OCR usually has it among the words on the box's line. Tesseract's layout analysis
often drops a lone code in the margin, though ("b6 -1,-2" beside an FBI box), or reads it as a
low-confidence scrap ("P70" for "b7D"). Those places, and only those, are read again, all in one
Tesseract run over small crops (one run a page, not one a box: Tesseract's start-up costs more
than a crop). A place is worth a second look when it holds

- ink the page's OCR left unread: glyph-sized marks outside the box that no word covers,
  gathered into clusters no bigger than a label, or
- a short word read with low confidence that starts as a code does (b, or a look-alike).

On the 119 labelled real scanned pages, reading every box's whole line again from the box to
the page's edge cost 22 s (a fifth of all OCR time) and found 3 codes the page's OCR missed;
these crops find the same 3 codes in 3.6 s.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image

from foiarchive.ingest.limits import Limits
from foiarchive.ingest.programs import ProgramFailed, ProgramTimedOut, tesseract
from foiarchive.schemas.exemptions import find_citations

if TYPE_CHECKING:
    from foiarchive.ingest.ocr import OcrWord

#: Boxes beyond this many on a page go unlabelled (a page of 200 table cells is no FOIA label's).
MAX_LABELLED_BOXES = 30
#: A word read with less confidence than this (0-100) may be a garbled code.
DOUBTFUL_WORD = 60
#: Sizes in inches: a glyph of a label's type, and the largest a cluster of them may be.
GLYPH_HEIGHT = (0.04, 0.25)
GLYPH_WIDTH = 0.5
LABEL_SIZE = (1.6, 0.6)  # width, height
#: Glyphs this close (inches across, down) belong to one cluster.
GLYPH_GAP = (0.08, 0.03)
INK = 128  # grey level below which a pixel is ink


def label_boxes(
    image: Image.Image,
    redactions: list[dict[str, Any]],
    words: Sequence[OcrWord],
    *,
    languages: str,
    dpi: int,
    limits: Limits,
) -> None:
    """Attach to each redaction box the citations printed inside or beside it, as `label`."""
    width, height = image.size
    # Each place once, with the boxes it may label (boxes on one line share their band).
    second_look: dict[tuple[int, int, int, int], list[dict[str, Any]]] = {}
    for redaction in redactions[:MAX_LABELLED_BOXES]:
        band = _band(redaction["box"])
        beside = [w for w in words if _in_band(w.box, redaction["box"][0], band)]
        found = find_citations(" ".join(w.text for w in sorted(beside, key=lambda w: w.box[0])))
        if found:
            redaction["label"] = ", ".join(c.text for c in found)
            continue
        places = [_pixels(w.box, width, height) for w in beside if _doubtful(w)]
        places += _unread_ink(image, redaction["box"], band, words, dpi)
        margin = int(dpi * 0.04)
        for place in places:
            second_look.setdefault(_grow(place, margin, width, height), []).append(redaction)
    if not second_look:
        return
    crops = [image.crop(area) for area in second_look]
    labels: dict[int, list[str]] = {}
    for boxes, text in zip(
        second_look.values(), _read_crops(crops, languages, dpi, limits), strict=True
    ):
        for redaction, citation in ((r, c) for r in boxes for c in find_citations(text)):
            label = labels.setdefault(id(redaction), [])
            if citation.text not in label:
                label.append(citation.text)
    for redaction in redactions:
        if id(redaction) in labels:
            redaction["label"] = ", ".join(labels[id(redaction)])


def _band(box: Sequence[float]) -> tuple[float, float]:
    """The rows a box's label may sit in: its own, and a third of its height above and below."""
    pad = (box[3] - box[1]) * 0.3
    return max(0.0, box[1] - pad), min(1.0, box[3] + pad)


def _in_band(word: Sequence[float], left: float, band: tuple[float, float]) -> bool:
    """A word whose middle lies in the band, inside the box or to its right."""
    return band[0] <= (word[1] + word[3]) / 2 <= band[1] and (word[0] + word[2]) / 2 > left


#: What Tesseract makes of a code's leading b on real pages: "P70" (b7D), "Bb?7E", "6/7C", "(b".
#: A doubtful word starting otherwise is no code: on the labelled scanned pages the rule takes
#: 44 second looks to 34 and loses none of the codes they find.
B_LOOKALIKES = "bBhP68("


def _doubtful(word: OcrWord) -> bool:
    return (
        word.confidence < DOUBTFUL_WORD
        and 2 <= len(word.text) <= 6
        and word.text[0] in B_LOOKALIKES
    )


def _pixels(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    return (int(box[0] * width), int(box[1] * height), int(box[2] * width), int(box[3] * height))


def _grow(
    area: tuple[int, int, int, int], margin: int, width: int, height: int
) -> tuple[int, int, int, int]:
    return (
        max(0, area[0] - margin),
        max(0, area[1] - margin),
        min(width, area[2] + margin),
        min(height, area[3] + margin),
    )


def _unread_ink(
    image: Image.Image,
    box: Sequence[float],
    band: tuple[float, float],
    words: Sequence[OcrWord],
    dpi: int,
) -> list[tuple[int, int, int, int]]:
    """Clusters of glyph-sized ink in the band, from the box's left edge to the page's right,
    outside the box and under no OCR word: what the page's OCR did not read. Each cluster has
    two glyphs at least (a code is "b6") and is no bigger than a label."""
    import numpy as np  # only the OCR workers need it
    from scipy import ndimage

    width, height = image.size
    left, top, bottom = int(box[0] * width), int(band[0] * height), int(band[1] * height)
    if bottom <= top or left >= width:
        return []
    grey = np.asarray(image.crop((left, top, width, bottom)).convert("L"))
    # What is read already, or is the box: a mask, so each mark's test is one lookup (a loop
    # over the words for every mark cost 20 ms a box on real pages).
    read = np.zeros(grey.shape, dtype=bool)
    for x0, y0, x1, y1 in [_pixels(w.box, width, height) for w in words] + [
        _pixels(box, width, height)
    ]:
        rows = slice(max(0, y0 - top - 3), max(0, y1 - top + 4))
        read[rows, slice(max(0, x0 - left - 3), max(0, x1 - left + 4))] = True
    marks, count = ndimage.label(grey < INK)
    if not count:
        return []
    spans = ndimage.find_objects(marks)
    tall = np.array([rows.stop - rows.start for rows, _ in spans])
    wide = np.array([cols.stop - cols.start for _, cols in spans])
    middle_y = np.array([(rows.start + rows.stop) // 2 for rows, _ in spans])
    middle_x = np.array([(cols.start + cols.stop) // 2 for _, cols in spans])
    sized = (dpi * GLYPH_HEIGHT[0] <= tall) & (tall <= dpi * GLYPH_HEIGHT[1])
    sized &= wide <= dpi * GLYPH_WIDTH
    unread = np.flatnonzero(sized & ~read[middle_y, middle_x])
    glyphs = [
        (spans[i][1].start, spans[i][0].start, spans[i][1].stop, spans[i][0].stop) for i in unread
    ]
    return [
        (left + a, top + b, left + c, top + d) for a, b, c, d in _clusters(glyphs, grey.shape, dpi)
    ]


def _clusters(
    glyphs: list[tuple[int, int, int, int]], shape: tuple[int, ...], dpi: int
) -> list[tuple[int, int, int, int]]:
    """Glyphs gathered into clusters of marks closer than GLYPH_GAP; the clusters of two glyphs
    or more and no bigger than a label, as boxes grown by half the gap.

    The gathering is done on a grid of 1/75 inch: dilating the full-resolution mask cost 40 ms
    a box, most of the second look's time on real pages."""
    import numpy as np
    from scipy import ndimage

    if len(glyphs) < 2:
        return []
    cell = max(1, dpi // 75)
    grid = np.zeros((shape[0] // cell + 1, shape[1] // cell + 1), dtype=bool)
    for x0, y0, x1, y1 in glyphs:
        grid[y0 // cell : (y1 - 1) // cell + 1, x0 // cell : (x1 - 1) // cell + 1] = True
    gap_x, gap_y = int(dpi * GLYPH_GAP[0]), int(dpi * GLYPH_GAP[1])
    reach = np.ones((max(1, gap_y // cell), max(1, gap_x // cell)), dtype=bool)
    groups, _ = ndimage.label(ndimage.binary_dilation(grid, structure=reach))
    members: dict[int, list[tuple[int, int, int, int]]] = {}
    for glyph in glyphs:
        members.setdefault(int(groups[glyph[1] // cell, glyph[0] // cell]), []).append(glyph)
    found = []
    for group in members.values():
        x0, y0 = min(g[0] for g in group) - gap_x // 2, min(g[1] for g in group) - gap_y // 2
        x1, y1 = max(g[2] for g in group) + gap_x // 2, max(g[3] for g in group) + gap_y // 2
        if len(group) >= 2 and x1 - x0 <= dpi * LABEL_SIZE[0] and y1 - y0 <= dpi * LABEL_SIZE[1]:
            found.append((max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)))
    return found


def _read_crops(crops: list[Image.Image], languages: str, dpi: int, limits: Limits) -> list[str]:
    """The text of each crop, read in one Tesseract run over the crops stacked with blank gaps
    between them; each word goes back to the crop its middle lies in."""
    gap = max(20, dpi // 6)
    canvas = Image.new(
        "L", (max(c.width for c in crops), sum(c.height + gap for c in crops) + gap), 255
    )
    spans, y = [], gap
    for crop in crops:
        canvas.paste(crop.convert("L"), (0, y))
        spans.append((y, y + crop.height))
        y += crop.height + gap
    with tempfile.TemporaryDirectory(prefix="foiarchive-ocr-", dir=tesseract.scratch_dir()) as at:
        path = os.path.join(at, "crops.pgm")
        canvas.save(path)
        try:
            data = tesseract.image_to_data(
                path, languages=languages, psm=11, dpi=dpi, timeout=min(60, limits.ocr_timeout)
            )
        except (ProgramFailed, ProgramTimedOut):
            return [""] * len(crops)
    texts: list[list[str]] = [[] for _ in crops]
    for text, top, tall in zip(
        data.get("text", []), data.get("top", []), data.get("height", []), strict=False
    ):
        middle = top + tall / 2
        for index, (start, end) in enumerate(spans):
            if text.strip() and start <= middle < end:
                texts[index].append(text)
    return [" ".join(words) for words in texts]
