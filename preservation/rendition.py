"""Access copies: page images rendered from the preserved files, on demand, and cached.

A page image is derived from the file a page was read from: the original in the bag's
payload, or the derivative that a repaired or converted file was read from; a record cut from a
merged PDF is a run of that PDF's pages. Images are cached under a key of the file's sha256,
so they never go stale and can always be made again; the originals are only ever read.

pdfium is not thread-safe: every call into it here holds one lock, so a threaded web server
renders one PDF page at a time per process (run more processes to use more cores).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pypdfium2 as pdfium
from PIL import Image

from foiarchive.preservation.layout import (
    contained_file,
    member_file,
    original_file,
)
from foiarchive.schemas import Box, Document
from foiarchive.schemas.errors import FoiarchiveError
from foiarchive.schemas.layout import Layout

#: Widths (pixels) a page image is rendered at: a phone, a laptop, zoomed in. A fixed set keeps
#: the cache bounded whatever clients ask for.
WIDTHS = (600, 1100, 1600)
DEFAULT_WIDTH = 1100
#: Bump when rendering changes, so cached images are made again.
RENDER_VERSION = 2
#: Images larger than this are refused rather than decoded (decompression bombs): 120 million
#: pixels is an A0 poster at 300 dpi.
MAX_IMAGE_PIXELS = 120_000_000
JPEG_QUALITY = 85

_PDFIUM = threading.Lock()

SourceKind = Literal["pdf", "image"]


class RenditionError(FoiarchiveError):
    """A page that exists in the catalog but whose image cannot be made (damaged file)."""


@dataclass(frozen=True)
class PageSource:
    """The file a page's image comes from, and which page of it."""

    path: Path
    kind: SourceKind
    index: int  # 0-based page (PDF) or frame (TIFF) in the file
    sha256: str  # of the original file (with index, the cache key)


def page_source(
    layout: Layout,
    document: Document,
    number: int,
    container: Document | None = None,
    image: str = "",
) -> PageSource | None:
    """Where page `number` of a document can be rendered from, or None if no file holds it.

    `container` is the document's parent, if it has one. A record cut from a merged PDF shares
    its bytes (the same sha256) and reads its pages from its offset. A file that came inside a
    ZIP archive or an email is read from its unpacked copy (Layout.members_dir).
    A load-file record has no file of its own: `image` is the page image the page was read from
    (Page.image), in the production.
    """
    if not 1 <= number <= max(document.page_count, 1):
        return None
    holder, index = document, number - 1
    if document.parent and container is not None and container.sha256 == document.sha256:
        holder, index = container, number - 1 + document.page_offset
    elif image:
        path = original_file(layout, document.production_id, image)
        if path is None:
            return None
        key = hashlib.sha256(f"{document.sha256}:{number}".encode()).hexdigest()
        return PageSource(path, "pdf" if path.suffix.lower() == ".pdf" else "image", 0, key)
    if not holder.sha256:
        return None
    derivative = contained_file(layout.derivatives_dir, f"{holder.sha256}.pdf")
    if derivative is not None:
        return PageSource(derivative, "pdf", index, holder.sha256)
    kind: SourceKind
    if holder.media_type == "application/pdf":
        kind = "pdf"
    elif holder.media_type.startswith("image/"):
        kind = "image"
    else:
        return None
    path = delivered_file(layout, holder)
    return PageSource(path, kind, index, holder.sha256) if path else None


def delivered_file(layout: Layout, document: Document) -> Path | None:
    """The bytes of a document as delivered: the bag's file, or the unpacked copy of a file
    that came inside a container. None for records that are parts of another file."""
    if document.is_original:
        return original_file(layout, document.production_id, document.path)
    if document.parent and document.size:
        return member_file(layout, document.sha256)
    return None


class PageImages:
    """Rendered page images in a cache folder (JPEG, one file per page and width)."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def path(self, source: PageSource, width: int) -> Path:
        return cached_path(self.cache, source, width)

    def cached(self, source: PageSource, width: int) -> Path | None:
        path = self.path(source, width)
        return path if path.exists() else None

    def get(self, source: PageSource, width: int) -> Path:
        """The cached image, rendered first if it is not there yet."""
        return self.cached(source, width) or render_into(self.cache, source, width)


def cached_path(cache: Path, source: PageSource, width: int) -> Path:
    name = f"{source.index + 1:05d}-w{width}-v{RENDER_VERSION}.jpg"
    return cache / source.sha256[:2] / source.sha256 / name


def render_into(cache: Path, source: PageSource, width: int) -> Path:
    """Render a page into the cache and return its path; a function of plain values, so it can
    run in a worker process.

    Two requests for the same new page may both render it; each writes a file of its own and
    renames it into place, so readers only ever see a whole image.
    """
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {', '.join(map(str, WIDTHS))}")
    path = cached_path(cache, source, width)
    data = render(source, width)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".render-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return path


def render(source: PageSource, width: int) -> bytes:
    """A page as JPEG bytes, `width` pixels wide (never enlarged past the scan's own pixels)."""
    image = render_image(source, width)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    # 4:2:0 chroma (Pillow's default): black type is all luma and stays sharp; 1.3x faster
    # than 4:4:4 on a page of text, and 5% smaller
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def render_image(source: PageSource, width: int) -> Image.Image:
    """A page as an image `width` pixels wide (a scan is never enlarged past its own pixels)."""
    return _render_pdf(source, width) if source.kind == "pdf" else _render_image(source, width)


def _render_pdf(source: PageSource, width: int) -> Image.Image:
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(source.path)
        except pdfium.PdfiumError as exc:
            raise RenditionError(f"{source.path.name}: cannot open the PDF ({exc})") from None
        try:
            if not 0 <= source.index < len(pdf):
                raise RenditionError(f"{source.path.name}: has no page {source.index + 1}")
            page = pdf[source.index]
            page_width, page_height = page.get_size()
            scale = width / max(page_width, 1.0)
            if page_width * page_height * scale * scale > MAX_IMAGE_PIXELS:
                raise RenditionError(f"{source.path.name}: page {source.index + 1} is too large")
            # RGB byte order straight from pdfium: no channel swap when handing it to Pillow
            return page.render(scale=scale, may_draw_forms=True, rev_byteorder=True).to_pil()
        finally:
            pdf.close()


def _render_image(source: PageSource, width: int) -> Image.Image:
    try:
        with Image.open(source.path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise RenditionError(
                    f"{source.path.name}: {image.width}x{image.height} pixels, over the limit"
                )
            if source.index:
                image.seek(source.index)  # EOFError past the last frame
            height = max(1, round(image.height * width / image.width))
            if image.width > width:
                image.draft("RGB", (width, height))  # JPEG: decode at a reduced scale
                return image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
            return image.convert("RGB")
    except (OSError, EOFError, ValueError, Image.DecompressionBombError) as exc:
        raise RenditionError(f"{source.path.name}: cannot read the image ({exc})") from None


def pdf_text_boxes(
    source: PageSource, find: Callable[[str], Sequence[tuple[int, int]]]
) -> list[Box]:
    """Boxes (fractions of the page as displayed) around the spans `find` picks in the text of
    a PDF page's text layer: one box per line a span covers."""
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(source.path)
        except pdfium.PdfiumError:
            return []
        try:
            if not 0 <= source.index < len(pdf):
                return []
            page = pdf[source.index]
            textpage = page.get_textpage()
            spans = find(textpage.get_text_range())
            left, bottom, right, top = page.get_cropbox()
            to_page = _displayed(left, bottom, right, top, page.get_rotation())
            boxes: list[Box] = []
            for start, end in spans:
                for i in range(textpage.count_rects(start, end - start)):
                    boxes.append(to_page(*textpage.get_rect(i)))
            return boxes
        finally:
            pdf.close()


def _displayed(
    left: float, bottom: float, right: float, top: float, rotation: int
) -> Callable[[float, float, float, float], Box]:
    """Map a rectangle in PDF user space (origin bottom left) to fractions of the page as it
    is displayed, turned clockwise by /Rotate, origin top left."""
    width, height = max(right - left, 1e-9), max(top - bottom, 1e-9)

    def point(x: float, y: float) -> tuple[float, float]:
        if rotation == 90:
            return (y - bottom) / height, (x - left) / width
        if rotation == 180:
            return (right - x) / width, (y - bottom) / height
        if rotation == 270:
            return (top - y) / height, (right - x) / width
        return (x - left) / width, (top - y) / height

    def rect(x0: float, y0: float, x1: float, y1: float) -> Box:
        (ax, ay), (bx, by) = point(x0, y0), point(x1, y1)
        return (_clip(min(ax, bx)), _clip(min(ay, by)), _clip(max(ax, bx)), _clip(max(ay, by)))

    return rect


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 5)
