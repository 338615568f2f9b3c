"""Realistic sample productions, made on the spot: for the README's demo, the tests and benchmarks.

A FOIA production as an agency would release it: scanned memos with black redaction boxes,
exemption codes beside them and Bates stamps in the corner; a born-digital PDF letter; a
photographed form; a multi-page TIFF; a spreadsheet of case records with withheld cells.
Everything is drawn with Pillow and a small PDF writer, so no fonts or tools are needed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

LETTER_POINTS = (612, 792)

MEMO_PARAGRAPHS = [
    "The Secure Communities program uses biometric information sharing between local jails "
    "and federal immigration authorities to identify removable aliens in custody.",
    "Field offices reported that detainers were lodged against persons arrested for minor "
    "traffic offenses, which raised concerns about community trust and public safety.",
    "Deportation officers should prioritize cases involving serious criminal convictions and "
    "document the basis for each detainer in the case management system.",
    "The county sheriff declined to honor detainers without a judicial warrant after the court "
    "ruled that continued detention raised Fourth Amendment questions.",
    "Statistics for the second quarter show an increase in removals of persons with no "
    "criminal record, contrary to the stated enforcement priorities of the agency.",
    "Please coordinate with the Office of Public Affairs before responding to press inquiries "
    "about the interoperability deployment schedule in the remaining jurisdictions.",
]

DENSE_WORDS = [
    "agency",
    "records",
    "request",
    "detention",
    "facility",
    "removal",
    "proceedings",
    "officer",
    "report",
    "analysis",
    "program",
    "enforcement",
    "priority",
    "custody",
    "transfer",
    "memorandum",
    "review",
    "policy",
    "guidance",
    "county",
    "jurisdiction",
    "warrant",
    "hearing",
    "immigration",
    "statistics",
    "quarter",
    "budget",
    "contract",
    "compliance",
    "inspection",
    "audit",
    "complaint",
    "investigation",
    "release",
    "notice",
    "appeal",
    "determination",
]


@dataclass
class Redaction:
    """A black box over a line of text, with the exemption printed beside it."""

    line: int
    start: float  # fraction of the line width where the box starts
    end: float
    code: str = "(b)(6)"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def render_scan(
    lines: list[str],
    *,
    bates: str = "",
    redactions: Sequence[Redaction] = (),
    heading: str = "",
    dpi: int = 200,
    skew: float = 0.0,
    seed: int = 0,
) -> Image.Image:
    """A page as a scanner would return it: grayscale, specks, a slight tilt, a Bates stamp."""
    rng = random.Random(seed)
    scale = dpi / 72
    width, height = int(LETTER_POINTS[0] * scale), int(LETTER_POINTS[1] * scale)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    size = int(12 * scale)
    font, bold = _font(size), _font(int(15 * scale))
    left, top, leading = int(72 * scale), int(80 * scale), int(size * 1.55)
    y = top
    if heading:
        draw.text((left, y), heading, fill=0, font=bold)
        y += int(leading * 2)
    line_boxes = []
    for text in lines:
        draw.text((left, y), text, fill=20, font=font)
        line_boxes.append((left, y, left + draw.textlength(text, font=font), y + size))
        y += leading
    for redaction in redactions:
        x0, y0, x1, y1 = line_boxes[redaction.line]
        span = x1 - x0
        box = (x0 + span * redaction.start, y0 - 4, x0 + span * redaction.end, y1 + 6)
        draw.rectangle(box, fill=0)
        draw.text((width - left * 0.9, y0), redaction.code, fill=0, font=font, anchor="ra")
    if bates:
        draw.text(
            (width - left * 0.6, height - int(40 * scale)), bates, fill=0, font=font, anchor="rs"
        )
    for _ in range(int(width * height / 20000)):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.point((x, y), fill=rng.randrange(0, 120))
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    return page.filter(ImageFilter.GaussianBlur(0.4))


def save_scanned_pdf(path: Path, pages: list[Image.Image], dpi: int = 200) -> None:
    """An image-only PDF, the way a copier's scan-to-PDF makes them."""
    first, *rest = pages
    first.save(path, "PDF", resolution=dpi, save_all=True, append_images=rest)


# -- a tiny born-digital PDF writer -------------------------------------------------------
def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def write_text_pdf(
    path: Path,
    pages: list[list[str]],
    *,
    title: str = "",
    author: str = "",
    boxes: dict[int, list[tuple[float, float, float, float]]] | None = None,
    font_size: float = 11,
    created: datetime | None = None,
) -> None:
    """A born-digital PDF: Helvetica text lines per page and filled black boxes (x, y, w, h).

    Enough of the format for tests: an info dictionary and an XMP packet, compressed content
    streams and a correct cross-reference table.
    """
    boxes = boxes or {}
    created = created or datetime(2017, 6, 8, 12, 0, tzinfo=UTC)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = add(b"")  # filled in once the page objects exist
    page_ids = []
    for number, lines in enumerate(pages):
        ops = [b"BT", f"/F1 {font_size} Tf {font_size * 1.3:.1f} TL 72 740 Td".encode()]
        for line in lines:
            ops.append(_pdf_string(line) + b" Tj T*")
        ops.append(b"ET")
        for x, y, w, h in boxes.get(number, []):
            ops.append(f"0 0 0 rg {x:.1f} {y:.1f} {w:.1f} {h:.1f} re f".encode())
        stream = zlib.compress(b"\n".join(ops))
        content = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    stamp = created.strftime("%Y%m%d%H%M%S")
    xmp = _xmp_packet(title, author, created)
    metadata = add(
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp)
        + xmp
        + b"\nendstream"
    )
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R >>" % (pages_id, metadata))
    info = add(
        b"<< /Title "
        + _pdf_string(title)
        + b" /Author "
        + _pdf_string(author)
        + b" /Producer (foiarchive sample writer) /CreationDate (D:"
        + stamp.encode()
        + b"Z) >>"
    )
    path.write_bytes(_serialized(objects, catalog, info))


def _xmp_packet(title: str, author: str, created: datetime) -> bytes:
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>"
        f"<xmp:CreateDate>{created.strftime('%Y-%m-%dT%H:%M:%SZ')}</xmp:CreateDate>"
        "<pdf:Producer>foiarchive sample writer</pdf:Producer>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _serialized(objects: list[bytes], catalog: int, info: int) -> bytes:
    """The file: header, numbered objects, cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)


def dense_page_lines(rng: random.Random, lines: int = 60, width: int = 95) -> list[str]:
    """A page of filler prose as dense as a Federal Register column."""
    text = " ".join(rng.choice(DENSE_WORDS) for _ in range(lines * width // 7))
    return wrap(text, width)[:lines]


# -- the sample production ----------------------------------------------------------------
def condensed_transcript(
    rng: random.Random, *, caption: str = "", lines: int = 25
) -> tuple[Image.Image, list[str]]:
    """A sheet of a condensed ("4-up") deposition transcript at 300 dpi: four framed pages with
    numbered lines, page 1 top left, 2 below it, 3 top right, 4 below it, and an optional
    caption across the top. Returns the sheet and its lines in reading order."""
    width, height = 2550, 3300
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font, small = _font(27), _font(24)
    truth = []
    if caption:
        draw.text((300, 90), caption, font=small, fill=0)
        truth.append(caption)
    margin_x, margin_y, gutter = 150, 200, 60
    panel_w, panel_h = (width - 2 * margin_x - gutter) // 2, (height - 2 * margin_y - gutter) // 2
    for number, (column, row) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)], start=1):
        x0, y0 = margin_x + column * (panel_w + gutter), margin_y + row * (panel_h + gutter)
        draw.rectangle((x0, y0, x0 + panel_w, y0 + panel_h), outline=0, width=3)
        draw.text((x0 + panel_w // 2 - 60, y0 + 20), f"Page {number}", font=small, fill=0)
        truth.append(f"Page {number}")
        for line in range(1, lines + 1):
            words = " ".join(rng.choice(_TESTIMONY) for _ in range(rng.randint(4, 7)))
            text = f"{rng.choice('QA')}. {words.capitalize()}."[:50]
            draw.text((x0 + 20, y0 + 80 + (line - 1) * 54), f"{line:2d}", font=small, fill=0)
            draw.text((x0 + 80, y0 + 80 + (line - 1) * 54), text, font=font, fill=0)
            truth.append(f"{line} {text}")
    return image, truth


_TESTIMONY_TEXT = (
    "the witness said that he did not recall whether the officer was present at the station "
    "when the detainee arrived and the record shows no entry for that night"
)
_TESTIMONY = _TESTIMONY_TEXT.split()


def memo_lines(paragraphs: list[str], width: int = 70) -> list[str]:
    lines: list[str] = []
    for paragraph in paragraphs:
        lines.extend(wrap(paragraph, width))
        lines.append("")
    return lines[:-1]


def build_sample_production(folder: Path, *, production_id: str = "ice-2017-r1") -> Path:
    """Write a small, realistic production into `folder`; returns its manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scans").mkdir(exist_ok=True)
    prefix = "ICE-2017-"
    _write_memo_scans(folder / "scans" / "ERO memos 2017 (scanned).pdf", prefix)
    _write_response_letter(folder / "final-response-letter.pdf")
    _write_detainer_form(folder / "detainer-form.jpg", prefix)
    _write_removals(folder / "removals-by-county.csv")
    (folder / "README-from-agency.txt").write_text(
        "Production 1 of records responsive to 2017-ICFO-12345.\n"
        "Bates range ICE-2017-000001 through ICE-2017-000004.\n",
        encoding="utf-8",
    )
    manifest = {
        "id": production_id,
        "title": "Secure Communities records, interim release 1",
        "agency": "ICE",
        "component": "Enforcement and Removal Operations",
        "request_number": "2017-ICFO-12345",
        "release_date": "2017-06-08",
        "release_label": "Interim release 1",
        "requester": "Sample Requester",
        "exemptions_cited": ["b6", "b7c"],
        "access": "public",
        "source": "foiarchive sample generator",
    }
    manifest_path = folder / "production.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest_path


def _write_memo_scans(path: Path, prefix: str) -> None:
    """Three scanned memos with boxes over a name and a phone number, the second tilted."""
    scans = []
    for number in range(3):
        paragraphs = [MEMO_PARAGRAPHS[(number * 2 + k) % len(MEMO_PARAGRAPHS)] for k in range(2)]
        lines = [
            "MEMORANDUM FOR: Field Office Directors",
            "FROM: Assistant Director, Enforcement and Removal Operations",
            f"SUBJECT: Secure Communities status report {number + 1}",
            "",
            *memo_lines(paragraphs),
        ]
        scans.append(
            render_scan(
                lines,
                heading="U.S. Immigration and Customs Enforcement",
                bates=f"{prefix}{number + 1:06d}",
                redactions=[
                    Redaction(1, 0.45, 0.95, "(b)(6)"),
                    Redaction(6, 0.1, 0.5, "(b)(7)(C)"),
                ],
                skew=0.8 if number == 1 else 0.0,
                seed=number,
            )
        )
    save_scanned_pdf(path, scans)


def _write_response_letter(path: Path) -> None:
    """The agency's born-digital final response letter, one vector box over a name."""
    write_text_pdf(
        path,
        [
            [
                "U.S. Department of Homeland Security",
                "U.S. Immigration and Customs Enforcement, Freedom of Information Act Office",
                "",
                "June 8, 2017",
                "",
                "RE: ICE FOIA Case Number 2017-ICFO-12345",
                "",
                "This letter is the final response to your Freedom of Information Act request for",
                "records about the Secure Communities program and deportation statistics.",
                "ICE has considered your request under the FOIA, 5 U.S.C. 552. A search of the",
                "Office of Enforcement and Removal Operations produced 4 pages of responsive",
                "records.",
                "Portions are withheld pursuant to Exemptions (b)(6) and (b)(7)(C), which protect",
                "personal privacy, including names and phone numbers of law enforcement officers.",
                "",
                "Sincerely, FOIA Officer",
            ]
        ],
        title="Final response, 2017-ICFO-12345",
        author="ICE FOIA Office",
        boxes={0: [(300, 560, 140, 12)]},
    )


def _write_detainer_form(path: Path, prefix: str) -> None:
    """A form scanned to JPEG at 200 dpi, its name box redacted."""
    form = render_scan(
        [
            "Subject name: [withheld]",
            "Date of arrest: 03/14/2017",
            "Charge: traffic violation",
            "Detainer issued: yes",
            "Disposition: transferred to ICE custody",
        ],
        heading="Record of Deportable Alien",
        bates=f"{prefix}{4:06d}",
        redactions=[Redaction(0, 0.4, 1.0, "(b)(6)")],
        seed=9,
    ).convert("RGB")
    form.save(path, quality=88, dpi=(200, 200))


def _write_removals(path: Path) -> None:
    """A spreadsheet export of 120 cases, the officer column withheld in every row."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "county", "arrest_date", "charge", "officer", "removed"])
        rng = random.Random(7)
        counties = ["Travis", "Harris", "Dallas", "Bexar", "El Paso"]
        charges = ["traffic violation", "no driver license", "assault", "burglary", "DUI"]
        for case in range(1, 121):
            writer.writerow(
                [
                    f"C-{case:05d}",
                    rng.choice(counties),
                    f"2017-0{rng.randint(1, 6)}-1{rng.randint(0, 9)}",
                    rng.choice(charges),
                    "(b)(6), (b)(7)(C)",
                    rng.choice(["yes", "no"]),
                ]
            )


# -- the same page released twice --------------------------------------------------------------
def cover(
    image: Image.Image, box: tuple[float, float, float, float], *, outlined: bool
) -> Image.Image:
    """The page with a redaction box over `box` (fractions of the page): solid black, or white
    with a thin outline as the FBI's are."""
    page = image.convert("L")
    draw = ImageDraw.Draw(page)
    x0, y0, x1, y1 = (round(v * s) for v, s in zip(box, page.size * 2, strict=True))
    line = max(2, page.width // 600)
    if outlined:
        draw.rectangle((x0, y0, x1, y1), fill=255, outline=0, width=line)
    else:
        draw.rectangle((x0, y0, x1, y1), fill=0)
    return page


def rescan(
    image: Image.Image,
    *,
    seed: int,
    skew: float = 0.0,
    scale: float = 1.0,
    shift: tuple[int, int] = (0, 0),
    blur: float = 0.0,
    jpeg: int = 0,
    specks: int = 0,
) -> Image.Image:
    """The page fed through a scanner again: tilted, scaled, shifted, blurred, specked and
    saved as a JPEG of `jpeg` quality (0: not)."""
    rng = random.Random(seed)
    page = image.convert("L")
    if scale != 1.0:
        size = (round(page.width * scale), round(page.height * scale))
        page = page.resize(size, Image.Resampling.BICUBIC)
    canvas = Image.new("L", image.size, 255)
    canvas.paste(page, shift)
    page = canvas
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    draw = ImageDraw.Draw(page)
    for _ in range(specks):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        radius = rng.choice((0, 0, 1))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.randrange(0, 110))
    if blur:
        page = page.filter(ImageFilter.GaussianBlur(blur))
    if jpeg:
        out = io.BytesIO()
        page.save(out, "JPEG", quality=jpeg)
        page = Image.open(io.BytesIO(out.getvalue())).convert("L")
    return page
