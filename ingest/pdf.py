"""PDF reading: the text layer (pypdfium2), page rendering for OCR, and metadata (info + XMP).

pypdfium2 gives bulk text about a hundred times faster than pdfplumber's layout analysis;
pdfplumber is kept for geometry (words with positions, filled rectangles for redactions).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from lxml import etree
from PIL import Image

from foiarchive.index.analysis import terms
from foiarchive.ingest.errors import DamagedPdf, IngestError
from foiarchive.ingest.leaks import gate as leak_gate
from foiarchive.ingest.leaks import pages as leak_pages
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.redactions import Filled, find_in_pdf_page

# A page's text layer is trusted when it has this many visible characters and looks like words.
MIN_TEXT_CHARS = 40
MIN_WORDLIKE_SHARE = 0.5
_WORDLIKE = re.compile(r"^[^\W\d_]{2,}[.,;:!?)'\"]*$|^\d[\d.,/-]*$|^[^\W\d_]$")


@dataclass
class PageText:
    number: int
    text: str
    width: float  # points
    height: float
    good: bool  # usable as is; otherwise the page is OCR'd
    redactions: list[dict[str, Any]] = field(default_factory=list)  # filled dark vector boxes
    #: The page is a picture of paper (one image covers most of it), whatever text layer
    #: someone added: its boxes and margin codes are in the pixels, so it is read as a scan.
    scanned: bool = False
    #: What the page draws that a person does not see (schemas.findings, as dicts).
    leaks: list[dict[str, Any]] = field(default_factory=list)
    #: A scan's invisible text layer, (word, box), for the OCR that follows to compare with
    #: the boxes it finds in the image (leaks.pages.ocr_under_boxes).
    layer_words: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)


@contextlib.contextmanager
def open_pdf(path: Path) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF, turning pdfium's failures into one-line reasons."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise IngestError("encrypted PDF: a password is required to open it") from None
        if "format" in message.lower() or "file" in message.lower():
            raise DamagedPdf(f"damaged or truncated PDF ({message})") from None
        raise IngestError(f"cannot open PDF: {message}") from None
    try:
        yield pdf
    finally:
        pdf.close()


def page_count(path: Path, limits: Limits) -> int:
    with open_pdf(path) as pdf:
        count = len(pdf)
    if count == 0:
        raise IngestError("PDF has no pages")
    if count > limits.max_pages:
        raise IngestError(f"PDF has {count} pages, over the limit of {limits.max_pages}")
    return count


def text_is_good(text: str) -> bool:
    """Is this text layer real text (not empty, not a lone stamp, not glyph garbage)?"""
    visible = sum(1 for ch in text if not ch.isspace())
    if visible < MIN_TEXT_CHARS:
        return False
    tokens = text.split(maxsplit=400)[:400]  # a sample is enough to judge, and cheap
    wordlike = sum(1 for t in tokens if _WORDLIKE.match(t))
    return wordlike / len(tokens) >= MIN_WORDLIKE_SHARE


def read_text_layer(path: Path, first: int, last: int, ocr_follows: bool = False) -> list[PageText]:
    """The text layer of pages first..last (1-based, inclusive), with what each page hides.

    `ocr_follows`: scanned pages will be OCR'd, and their text layers are checked against the
    boxes OCR finds (leaks.pages.leaks_on)."""
    pages = []
    with open_pdf(path) as pdf:
        for number in range(first, last + 1):
            page = pdf[number - 1]
            boxes: list[dict[str, Any]] = []
            leaks = leak_pages.PageLeaks()
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
                    # one read of the page's objects for the boxes, the scan test and the leaks
                    objects = leak_gate.read(page)
                    boxes = find_in_pdf_page(page, textpage, _filled_paths(objects))
                    scanned = _is_scan(page, textpage, width, height, objects)
                    leaks = leak_pages.leaks_on(
                        page, textpage, number, scanned, ocr_follows, objects
                    )
                finally:
                    textpage.close()
            except pdfium.PdfiumError:
                width, height, text, scanned = 0.0, 0.0, "", False
            finally:
                page.close()
            text = text.replace("\x00", "").replace("\ufffe", "").replace("\x02", "")
            good = text_is_good(text)
            pages.append(PageText(number, text, width, height, good, boxes, scanned))
            pages[-1].leaks = [f.to_dict() for f in leaks.findings]
            pages[-1].layer_words = leaks.layer_words
    return pages


def is_scan(pdf: pdfium.PdfDocument, index: int) -> bool:
    """Is page `index` (0-based) a picture of paper (see _is_scan)?"""
    page = pdf[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            return _is_scan(page, textpage, width, height)
        finally:
            textpage.close()
    finally:
        page.close()


#: An image covering this share of the page makes it a scan.
SCAN_COVERAGE = 0.7
#: A scan may carry a little visible text drawn on it (a digital Bates stamp: these many
#: characters); a page with more visible text is a born-digital page over a background image
#: (a letterhead, a form, a watermark), whose text is kept as delivered.
SCAN_VISIBLE_CHARS = 40


def _is_scan(
    page: pdfium.PdfPage,
    textpage: pdfium.PdfTextPage,
    width: float,
    height: float,
    objects: leak_gate.PageObjects | None = None,
) -> bool:
    """One image covers most of the page and the text on it, if any, is invisible: a picture of
    paper with someone's OCR layer, not born-digital text over a background picture."""
    if width <= 0 or height <= 0:
        return False
    objects = objects if objects is not None else leak_gate.read(page, max_depth=2)
    covered = False
    for image in objects.fills:
        if image.kind != pdfium_c.FPDF_PAGEOBJ_IMAGE or image.level > 1:
            continue
        left, bottom, right, top = image.rect
        if (right - left) * (top - bottom) >= SCAN_COVERAGE * width * height:
            covered = True
            break
    if not covered:
        return False
    visible = 0
    for text in objects.texts:
        if text.level <= 1 and text.mode != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
            # the length in bytes of the object's text as UTF-16 with its terminator
            visible += pdfium_c.FPDFTextObj_GetText(text.handle, textpage.raw, None, 0) // 2 - 1
            if visible > SCAN_VISIBLE_CHARS:
                return False
    return True


def _filled_paths(objects: leak_gate.PageObjects) -> list[Filled]:
    """The filled paths find_in_pdf_page looks at (on the page and one form deep)."""
    return [
        (fill.rect, fill.colour, fill.alpha)
        for fill in objects.fills
        if fill.kind == pdfium_c.FPDF_PAGEOBJ_PATH and fill.colour is not None and fill.level <= 1
    ]


# On a scanned page our OCR's text replaces someone else's text layer, and how much of the layer
# our OCR confirmed is recorded. Measured on the 23 labelled real pages with agency OCR layers:
# keeping the layers our OCR confirmed at >= 85% or >= 95% of their words found fewer of the
# printed phrases (76.0% against 78.7%), exemption codes (recall 0.774 against 0.792) and Bates
# stamps (7 of 9 against 8 of 9) than replacing them all; keeping them where our OCR was unsure
# (mean confidence < 50) kept a garbage layer (4% confirmed) and lost its Bates stamp.
def layer_agreement(layer: str, ocr: str) -> float:
    """The share of a text layer's words (3 letters or digits and more) that our OCR of the same
    page also read: 1.0 for a layer made by a good OCR engine, far less for a garbled one."""
    words = [w for w in terms(layer) if len(w) >= 3]  # the search analyzer's words
    if not words:
        return 0.0
    read = set(terms(ocr))
    return sum(w in read for w in words) / len(words)


#: A scan's own resolution is used when its two axes agree this closely (a stretched image has
#: no one resolution) and it is at least this much below the dpi asked for (a 299 x 301 dpi
#: scan is rendered at 300 like any other).
_SQUARE_PIXELS = 0.03
_WORTH_KEEPING = 0.95


def scan_resolution(page: pdfium.PdfPage) -> float | None:
    """Pixels per inch of the scan a page is: the finest image drawn on the page itself over
    SCAN_COVERAGE of it (a compressed scan's fine text mask over a coarse background counts at
    the mask's resolution), or None when no image covers it, its pixels are not square, or the
    page cannot be read. Images inside forms are left out: their bounds are in the form's
    space, not the page's."""
    width, height = page.get_size()
    finest = None
    try:
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=1):
            left, bottom, right, top = image.get_bounds()
            if (right - left) * (top - bottom) < SCAN_COVERAGE * width * height:
                continue
            pixels = sorted(image.get_px_size())
            inches = sorted(((right - left) / 72, (top - bottom) / 72))
            if min(inches) <= 0:
                continue
            across, along = pixels[0] / inches[0], pixels[1] / inches[1]
            if abs(across - along) > _SQUARE_PIXELS * max(across, along):
                return None
            finest = max(finest or 0.0, (across + along) / 2)
    except pdfium.PdfiumError:
        return None
    return finest


def render_page(
    path: Path, number: int, dpi: int, limits: Limits, *, native_from: int | None = None
) -> tuple[Image.Image, int]:
    """Render one page in grayscale; returns the image and the dpi actually used.

    With `native_from`, a scanned page whose image has between `native_from` dpi and `dpi` is
    rendered at its own resolution, as OCRmyPDF does: resampling a 200 dpi scan to 300 dpi adds
    no detail to read, and Tesseract took 1.9-2.4x as long on the larger image (the corpus's 17
    pages at 200 dpi). The dpi is lowered for absurdly large pages so no render exceeds the
    pixel limit.
    """
    with open_pdf(path) as pdf:
        page = pdf[number - 1]
        try:
            if native_from is not None:
                native = round(scan_resolution(page) or 0)
                if native_from <= native < dpi * _WORTH_KEEPING:
                    dpi = native
            width, height = page.get_size()
            pixels = (width / 72 * dpi) * (height / 72 * dpi)
            if pixels > limits.max_image_pixels:
                dpi = max(36, int(dpi * (limits.max_image_pixels / pixels) ** 0.5))
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil().copy()
            bitmap.close()
        except pdfium.PdfiumError as exc:
            raise IngestError(f"page {number} cannot be rendered: {exc}") from None
        finally:
            page.close()
    return image, dpi


# -- metadata -----------------------------------------------------------------------------
_SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)
_XMP_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}
_PDF_DATE = re.compile(
    r"^D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz+\-])?\s*(\d{2})?'?(\d{2})?'?"
)


@dataclass
class PdfMetadata:
    title: str = ""
    author: str = ""
    created: str = ""
    modified: str = ""
    producer: str = ""
    #: What the whole file keeps besides its pages (revisions, attachments, ...), as dicts.
    leaks: list[dict[str, Any]] = field(default_factory=list)


def read_metadata(path: Path) -> PdfMetadata:
    """Title, author, dates and producer: XMP where present (it wins), else the info dict."""
    meta = PdfMetadata()
    with open_pdf(path) as pdf:
        info = pdf.get_metadata_dict(skip_empty=True)
    meta.title = info.get("Title", "").strip()
    meta.author = info.get("Author", "").strip()
    meta.producer = info.get("Producer", "").strip()
    meta.created = pdf_date(info.get("CreationDate", ""))
    meta.modified = pdf_date(info.get("ModDate", ""))
    xmp = _read_xmp_packet(path)
    if xmp:
        for name, value in parse_xmp(xmp).items():
            if value:
                setattr(meta, name, value)
    return meta


def pdf_date(value: str) -> str:
    """A PDF date string (D:20170608123000-04'00') as ISO 8601; '' when unreadable."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return ""
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    text = f"{year}-{month or '01'}-{day or '01'}"
    if hour:
        text += f"T{hour}:{minute or '00'}:{second or '00'}"
        if sign in ("Z", "z"):
            text += "Z"
        elif sign in ("+", "-") and tz_hour:
            text += f"{sign}{tz_hour}:{tz_minute or '00'}"
    return text


def _read_xmp_packet(path: Path) -> bytes:
    """The document-level XMP stream, read with pdfminer (pdfplumber's parser)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        with path.open("rb") as handle:
            document = PDFDocument(PDFParser(handle))
            stream = resolve1(document.catalog.get("Metadata"))
            data = stream.get_data() if stream is not None else b""
    except Exception:  # pdfminer raises many types on damaged files; metadata is optional
        return b""
    return data[: 4 * 1024 * 1024] if isinstance(data, bytes) else b""


def parse_xmp(packet: bytes) -> dict[str, str]:
    """Fields of an XMP packet, parsed with entities and network access off."""
    try:
        root = etree.fromstring(packet.strip(b"\x00 \r\n\t"), parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return {}
    if root is None:
        return {}

    def first(xpath: str) -> str:
        found = root.xpath(xpath, namespaces=_XMP_NS)
        for item in found:
            text = item if isinstance(item, str) else (item.text or "")
            if text.strip():
                return str(text).strip()
        return ""

    creators = [
        (li.text or "").strip()
        for li in root.xpath("//dc:creator//rdf:li", namespaces=_XMP_NS)
        if (li.text or "").strip()
    ]
    return {
        "title": first("//dc:title//rdf:li") or first("//dc:title"),
        "author": "; ".join(creators),
        "created": first("//xmp:CreateDate") or first("//@xmp:CreateDate"),
        "modified": first("//xmp:ModifyDate") or first("//@xmp:ModifyDate"),
        "producer": first("//pdf:Producer") or first("//@pdf:Producer"),
    }
