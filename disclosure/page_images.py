"""Comparing matched scanned pages by their images (disclosure.pixels) inside the release diff.

The diff works from the catalog; the page images come from the originals in the bags
(preservation.rendition) through `layout_images`, and reading a changed region needs OCR, which
lives in ingest: the caller hands in a `read` function (foiarchive.ingest.crops.read_crop).
Without one, regions are found and named but their passages carry no words.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from PIL import Image

from foiarchive.disclosure import pixels
from foiarchive.index.catalog import Catalog
from foiarchive.preservation.rendition import RenditionError, page_source, render_image
from foiarchive.schemas import Document, Page
from foiarchive.schemas.layout import Layout

if TYPE_CHECKING:
    from foiarchive.disclosure.pixel_cache import PixelCache

#: Page images at this width are compared (see pixels.WIDTH); 1100 is a cached rendition width.
RENDER_WIDTH = 1100
#: Crops are read at this many times their size: a 10-point line is 18 pixels tall at the
#: comparison width, and Tesseract reads best at 30-60.
READ_SCALE = 3
#: Pixels around the changed ink of a crop that is read.
READ_PAD = 6
#: Crops shown side by side are at most this wide (pixels).
SHOWN_WIDTH = 700
#: Pages taller than this many times their width are compared by text, not by image: at the
#: comparison width align and changed_regions hold about 30 bytes a pixel (blur, labels, complex
#: FFT), 110 MB for a 1100 x 3300 page; renditions allow 120 Mpx, and a 1100 x 109,000 strip
#: would have taken several GB for one page of a request to /diff.
MAX_ASPECT = 3.0
#: Pages whose shapes (height over width) differ by more than this share are not one page
#: rescanned but turned or replaced: a letter page scanned on A4 differs by 9%, turned by 68%.
ASPECT_SLACK = 0.15
#: Below this fit score (disclosure.pixels.Aligned.score) the new page does not lie on the old:
#: its regions would be one 'marking' and the text diff of the page lost. The 24 labelled pairs
#: of bench/diff_real.py fit at 0.704 and above; a different memo page of the same layout fits
#: at 0.54, the page turned 180 degrees at 0.43-0.58 (by its rescans), turned 90 at 0.12.
MIN_FIT = 0.65

PageImage = Callable[[Document, int], Image.Image | None]
#: Reads a crop's words; raises CropUnread when it cannot (its OCR missing, failed, timed out).
CropReader = Callable[[Image.Image], str]


class CropUnread(Exception):
    """A changed region's passage could not be read: one line saying why."""


Direction = Literal["released", "withheld", ""]


@dataclass
class PixelCompare:
    """What comparing by pixels needs: the page images, and optionally a reader of crops."""

    images: PageImage
    read: CropReader | None = None
    cache: PixelCache | None = None  # comparisons kept from earlier diffs of the pair


@dataclass
class RegionChange:
    """A place where two matched pages differ, as a reader sees them."""

    kind: pixels.RegionKind
    direction: Direction  # text newly released, newly withheld, or neither
    box: tuple[float, float, float, float]  # fractions of the old page, straightened
    old_side: str  # blank, text or box
    new_side: str
    text: str = ""  # the passage read from the side where it is visible
    words: int = 0
    unread: str = ""  # why the passage has no text although it was to be read
    old_crop: str = field(default="", repr=False)  # PNG data URIs for HTML; not in JSON
    new_crop: str = field(default="", repr=False)


@dataclass
class PixelResult:
    regions: list[RegionChange]
    seconds: float
    score: float  # how well the pages fitted (correlation of their ink)


def layout_images(layout: Layout, catalog: Catalog) -> PageImage:
    """Page images rendered from the archive's preserved files; None where there is no file."""

    def image(document: Document, number: int) -> Image.Image | None:
        container = catalog.document(document.parent) if document.parent else None
        picture = ""
        if document.fields and not document.size:  # a load-file record: pages are images
            picture = catalog.page_image(document.id, number)
        source = page_source(layout, document, number, container, picture)
        if source is None:
            return None
        try:
            return render_image(source, RENDER_WIDTH)
        except RenditionError:
            return None

    return image


def is_scan(page: Page) -> bool:
    """A page read from its pixels (or with nothing to read): compared by image."""
    return page.text_source in ("ocr", "none")


def within_bounds(width: float | None, height: float | None) -> bool:
    """A page of this size (any unit; unknown passes) may be compared by image (MAX_ASPECT)."""
    return not width or not height or height <= width * MAX_ASPECT


def compare_pages(
    old: Image.Image, new: Image.Image, read: CropReader | None
) -> PixelResult | None:
    """compare_images where the two pages can be compared by image; None: compare their text
    (a page out of bounds, of another shape, or one the other does not fit on)."""
    if not (within_bounds(*old.size) and within_bounds(*new.size)):
        return None
    if abs((old.height / old.width) / (new.height / new.width) - 1) > ASPECT_SLACK:
        return None
    started = time.perf_counter()
    aligned = pixels.align(old, new)
    if aligned.score < MIN_FIT:
        return None
    return _result(aligned, read, True, started)


def compare_images(
    old: Image.Image, new: Image.Image, read: CropReader | None, *, crops: bool = True
) -> PixelResult:
    started = time.perf_counter()
    aligned = pixels.align(old, new)
    return _result(aligned, read, crops, started)


def _result(
    aligned: pixels.Aligned, read: CropReader | None, crops: bool, started: float
) -> PixelResult:
    regions = [_change(region, aligned, read, crops) for region in pixels.changed_regions(aligned)]
    return PixelResult(regions, round(time.perf_counter() - started, 3), aligned.score)


def _change(
    region: pixels.Region, aligned: pixels.Aligned, read: CropReader | None, crops: bool
) -> RegionChange:
    direction = _direction(region)
    change = RegionChange(region.kind, direction, region.box, region.old, region.new)
    old_crop = pixels.crop(aligned.old, region.box)
    new_crop = pixels.crop(aligned.new, region.box)
    if read is not None and direction:
        # Read within the box's bounds (or the new ink's, if there was none): the region's reach
        # into the lines above and below put their cut letters into the quote ("erit to the
        # Chicago Polic ers Supervisor").
        if direction == "released":
            image, ink = aligned.new, region.old_ink if region.old == "box" else region.new_ink
        else:
            image, ink = aligned.old, region.new_ink if region.new == "box" else region.old_ink
        shown = pixels.crop(image, ink or region.box, pad=READ_PAD)
        try:
            change.text = " ".join(read(_enlarged(shown)).split())
        except CropUnread as exc:  # the region stands without its words, saying why
            change.unread = f"its text could not be read: {exc}"
        change.words = len(change.text.split())
    if crops:
        change.old_crop, change.new_crop = _data_uri(old_crop), _data_uri(new_crop)
    return change


def _direction(region: pixels.Region) -> Direction:
    """Released: text visible now that was covered or blank; withheld: the reverse."""
    if region.new == "text" and region.old in ("box", "blank") and region.kind != "marking":
        return "released"
    if region.old == "text" and region.new in ("box", "blank") and region.kind != "marking":
        return "withheld"
    return ""


def _enlarged(image: Image.Image) -> Image.Image:
    size = (image.width * READ_SCALE, image.height * READ_SCALE)
    return image.resize(size, Image.Resampling.LANCZOS)


def _data_uri(image: Image.Image) -> str:
    if image.width > SHOWN_WIDTH:
        height = max(1, round(image.height * SHOWN_WIDTH / image.width))
        image = image.resize((SHOWN_WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.convert("L").save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
