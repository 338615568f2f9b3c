"""Files with one planted leak each, and clean controls that look like them.

The tests and bench/leaks.py build their corpus from here, so both measure the same files.
Each builder writes `folder/NAME` and returns the expected (kind, secret) or None for a control.
Content streams are written by hand (Helvetica, one line of text each) so that every object's
draw order is exactly what the plant needs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SECRET = "Harriet Quimby"
VISIBLE = "The committee met on Tuesday to review the quarterly findings in detail."
_PAGE = (0, 0, 612, 792)


def _pdf(
    path: Path,
    content: str,
    *,
    extra: dict[str, object] | None = None,
    crop: tuple[float, float, float, float] | None = None,
) -> Any:
    """A one-page PDF whose content stream is `content` (Helvetica as /F1); returns the
    pikepdf Pdf, open, for builders that add to it before saving."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    for name, value in (extra or {}).items():
        resources[pikepdf.Name("/" + name)] = value
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=pikepdf.Array(_PAGE),
        Resources=resources,
        Contents=pdf.make_stream(content.encode("latin-1")),
    )
    if crop:
        page.CropBox = pikepdf.Array(crop)
    pdf.pages.append(pikepdf.Page(page))
    return pdf


def _line(text: str, x: float, y: float, size: float = 12, colour: str = "0 g", mode: int = 0):
    return f"BT {colour} {mode} Tr /F1 {size} Tf {x} {y} Td ({text}) Tj ET\n"


def _body(secret_line: str = "") -> str:
    return _line(VISIBLE, 72, 700) + (secret_line or "") + _line("End of memorandum.", 72, 560)


def _save(pdf: Any, path: Path) -> None:
    pdf.save(path)
    pdf.close()


def _draw_gray_image(pdf: Any, pixels: bytes, size: tuple[int, int], content: str) -> None:
    """Give the first page an 8-bit gray image /Im1 of `size` and the content stream `content`
    (which draws it with `/Im1 Do`)."""
    import pikepdf

    image = pdf.make_stream(
        pixels,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=size[0],
        Height=size[1],
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
    )
    page = pdf.pages[0]
    page.Resources.XObject = pikepdf.Dictionary(Im1=image)
    page.Contents = pdf.make_stream(content.encode())


# -- PDFs with a leak --------------------------------------------------------------------
def under_shape(path: Path) -> tuple[str, str]:
    content = _body(_line(SECRET, 72, 650)) + "0 0 0 rg 68 645 100 16 re f\n"
    _save(_pdf(path, content), path)
    return "under_shape", SECRET


def under_image(path: Path) -> tuple[str, str]:

    image_bytes = bytes([20]) * (40 * 8)
    pdf = _pdf(path, "")
    content = _body(_line(SECRET, 72, 650)) + "q 100 0 0 16 68 645 cm /Im1 Do Q\n"
    _draw_gray_image(pdf, image_bytes, (40, 8), content)
    _save(pdf, path)
    return "under_image", SECRET


def _annotated(path: Path, annotation: dict[str, object]) -> Any:
    import pikepdf

    pdf = _pdf(path, _body(_line(SECRET, 72, 650)))
    annot = pdf.make_indirect(pikepdf.Dictionary(annotation))
    pdf.pages[0].Annots = pikepdf.Array([annot])
    return pdf


def _appearance(pdf: Any, rect: tuple[float, ...], ops: str) -> Any:
    import pikepdf

    stream = pdf.make_stream(
        ops.encode(),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=pikepdf.Array([0, 0, rect[2] - rect[0], rect[3] - rect[1]]),
    )
    return pikepdf.Dictionary(N=stream)


def under_annotation(path: Path) -> tuple[str, str]:
    import pikepdf

    rect = (68, 645, 168, 661)
    pdf = _annotated(
        path,
        {
            "/Type": pikepdf.Name.Annot,
            "/Subtype": pikepdf.Name.Square,
            "/Rect": pikepdf.Array(rect),
            "/C": pikepdf.Array([0, 0, 0]),
            "/IC": pikepdf.Array([0, 0, 0]),
        },
    )
    annot = pdf.pages[0].Annots[0]
    annot.AP = _appearance(pdf, rect, "0 g 0 0 100 16 re f")
    _save(pdf, path)
    return "under_annotation", SECRET


def redact_annotation(path: Path) -> tuple[str, str]:
    import pikepdf

    pdf = _annotated(
        path,
        {
            "/Type": pikepdf.Name.Annot,
            "/Subtype": pikepdf.Name.Redact,
            "/Rect": pikepdf.Array([68, 645, 168, 661]),
            "/OverlayText": pikepdf.String("(b)(6)"),
        },
    )
    _save(pdf, path)
    return "redact_annotation", SECRET


def invisible_text(path: Path) -> tuple[str, str]:
    _save(_pdf(path, _body(_line(SECRET, 72, 650, mode=3))), path)
    return "invisible_text", SECRET


def background_text(path: Path) -> tuple[str, str]:
    _save(_pdf(path, _body(_line(SECRET, 72, 650, colour="1 g"))), path)
    return "background_text", SECRET


def outside_crop(path: Path) -> tuple[str, str]:
    _save(_pdf(path, _body(_line(SECRET, 72, 40)), crop=(0, 100, 612, 792)), path)
    return "outside_crop", SECRET


def patterned_fill(path: Path) -> tuple[str, str]:
    import pikepdf

    pdf = _pdf(path, "")
    tile = pdf.make_stream(
        b"0 g 0.8 w 0 0 m 4 4 l S 0 4 m 4 0 l S",
        Type=pikepdf.Name.Pattern,
        PatternType=1,
        PaintType=1,
        TilingType=1,
        BBox=pikepdf.Array([0, 0, 4, 4]),
        XStep=4,
        YStep=4,
        Resources=pikepdf.Dictionary(),
    )
    page = pdf.pages[0]
    page.Resources.Pattern = pikepdf.Dictionary(P1=tile)
    content = _body(_line(SECRET, 72, 650)) + "/Pattern cs /P1 scn 68 645 100 16 re f\n"
    page.Contents = pdf.make_stream(content.encode())
    _save(pdf, path)
    return "patterned_fill", SECRET


def translucent_box(path: Path) -> tuple[str, str]:
    import pikepdf

    state = pikepdf.Dictionary(GS1=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.6))
    content = _body(_line(SECRET, 72, 650)) + "q /GS1 gs 0 0 0 rg 68 645 100 16 re f Q\n"
    _save(_pdf(path, content, extra={"ExtGState": state}), path)
    return "translucent_box", SECRET


def _scan_image(
    words: list[tuple[str, int, int]], boxes: list[tuple[int, ...]], label: str = ""
) -> bytes:
    """A 150 dpi grayscale 'scan' with the words printed and black boxes over some of them,
    each box with `label` printed on it in white."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1275, 1650), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=25)
    for text, x, y in words:
        draw.text((x, y), text, fill=0, font=font)
    for box in boxes:
        draw.rectangle(box, fill=0)
        if label:
            draw.text((box[0] + 30, box[1] + 8), label, fill=255, font=font)
    return image.tobytes()


def _scan_pdf(path: Path, covered: bool, label: str = "") -> None:
    """A scan with an invisible OCR layer; when `covered`, the agency boxed a name on the
    image after OCR, so the layer still has it. With a `label`, the box carries it in white and
    the agency OCR'd after boxing: the layer reads the label, which a person sees too."""

    lines = [(VISIBLE[:40], 150, 200), (SECRET, 150, 300), ("End of memorandum.", 150, 400)]
    pixels = _scan_image(lines, [(140, 290, 420, 335)] if covered else [], label)
    if label:
        lines[1] = (label, 170, 298)
    layer = "".join(
        _line(text, x * 72 / 150, 792 - (y + 25) * 72 / 150, size=12, mode=3)
        for text, x, y in lines
    )
    pdf = _pdf(path, "")
    content = "q 612 0 0 792 0 0 cm /Im1 Do Q\n" + layer
    _draw_gray_image(pdf, pixels, (1275, 1650), content)
    _save(pdf, path)


def ocr_under_box(path: Path) -> tuple[str, str]:
    _scan_pdf(path, covered=True)
    return "ocr_under_box", SECRET


# -- clean controls ----------------------------------------------------------------------
def control_box_under_text(path: Path) -> None:
    content = _line(VISIBLE, 72, 700) + "0.85 g 68 645 200 16 re f\n" + _line(SECRET, 72, 650)
    _save(_pdf(path, content), path)


def control_white_label(path: Path) -> None:
    content = _body("0 0 0 rg 68 645 100 16 re f\n" + _line("(b)(6)", 80, 650, colour="1 g"))
    _save(_pdf(path, content), path)


def control_highlight(path: Path) -> None:
    import pikepdf

    rect = (68, 645, 168, 661)
    pdf = _annotated(
        path,
        {
            "/Type": pikepdf.Name.Annot,
            "/Subtype": pikepdf.Name.Highlight,
            "/Rect": pikepdf.Array(rect),
            "/C": pikepdf.Array([1, 1, 0]),
            "/QuadPoints": pikepdf.Array([68, 661, 168, 661, 68, 645, 168, 645]),
        },
    )
    _save(pdf, path)


def control_tinted_box(path: Path) -> None:
    state = pikepdf_state(0.3)
    content = _body(_line(SECRET, 72, 650)) + "q /GS1 gs 1 1 0 rg 68 645 100 16 re f Q\n"
    _save(_pdf(path, content, extra={"ExtGState": state}), path)


def pikepdf_state(alpha: float) -> Any:
    import pikepdf

    return pikepdf.Dictionary(GS1=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=alpha))


def control_ocr_layer(path: Path) -> None:
    _scan_pdf(path, covered=False)


def control_labelled_box_scan(path: Path) -> None:
    _scan_pdf(path, covered=True, label="(b)(6)")


def control_redacted_properly(path: Path) -> None:
    content = _body("0 0 0 rg 68 645 100 16 re f\n")
    _save(_pdf(path, content), path)


PDF_PLANTS: dict[str, Callable[[Path], tuple[str, str]]] = {
    "under_shape.pdf": under_shape,
    "under_image.pdf": under_image,
    "under_annotation.pdf": under_annotation,
    "redact_annotation.pdf": redact_annotation,
    "invisible_text.pdf": invisible_text,
    "background_text.pdf": background_text,
    "outside_crop.pdf": outside_crop,
    "patterned_fill.pdf": patterned_fill,
    "translucent_box.pdf": translucent_box,
    "ocr_under_box.pdf": ocr_under_box,
}
PDF_CONTROLS: dict[str, Callable[[Path], None]] = {
    "control_box_under_text.pdf": control_box_under_text,
    "control_white_label.pdf": control_white_label,
    "control_highlight.pdf": control_highlight,
    "control_tinted_box.pdf": control_tinted_box,
    "control_ocr_layer.pdf": control_ocr_layer,
    "control_labelled_box_scan.pdf": control_labelled_box_scan,
    "control_redacted_properly.pdf": control_redacted_properly,
}


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# -- what a file keeps besides its pages -------------------------------------------------
def earlier_revision(path: Path) -> tuple[str, str]:
    """An incremental update that replaced the page's content stream by one without the name:
    the first revision, still in the file, has it."""
    import pikepdf

    pdf = _pdf(path, _body(_line(SECRET, 72, 650)))
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    contents = pdf.pages[0].Contents.objgen[0]
    pdf.close()
    data = path.read_bytes()
    previous = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    size = int(data[data.rindex(b"/Size") + 5 :].split(b"/")[0].split(b">")[0].split()[0])
    root = data[data.rindex(b"/Root") + 5 :].split(b"R")[0].strip().decode() + " R"
    body = _body().encode()
    offset = len(data)
    update = f"{contents} 0 obj\n<< /Length {len(body)} >>\nstream\n".encode()
    update += body + b"\nendstream\nendobj\n"
    xref = len(data) + len(update)
    update += f"xref\n{contents} 1\n{offset:010d} 00000 n \n".encode()
    update += f"trailer\n<< /Size {size} /Root {root} /Prev {previous} >>\n".encode()
    update += f"startxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(data + update)
    return "earlier_revision", SECRET


def embedded_file(path: Path) -> tuple[str, str]:
    import pikepdf

    pdf = _pdf(path, _body())
    spec = pikepdf.AttachedFileSpec(pdf, f"Informant: {SECRET}".encode(), mime_type="text/plain")
    pdf.attachments["informant-notes.txt"] = spec
    _save(pdf, path)
    return "embedded_file", "informant-notes.txt"


def form_field(path: Path) -> tuple[str, str]:
    import pikepdf

    pdf = _pdf(path, _body())
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            FT=pikepdf.Name.Tx,
            T=pikepdf.String("witness"),
            V=pikepdf.String(SECRET),
            F=2,
            Rect=pikepdf.Array([72, 600, 272, 620]),
        )
    )
    pdf.pages[0].Annots = pikepdf.Array([field])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    _save(pdf, path)
    return "form_field", SECRET


def bookmark(path: Path) -> tuple[str, str]:
    import pikepdf

    pdf = _pdf(path, _body(_line(SECRET, 72, 650)) + "0 0 0 rg 68 645 100 16 re f\n")
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem(f"Interview of {SECRET}", 0))
    _save(pdf, path)
    return "bookmark", SECRET


def metadata(path: Path) -> tuple[str, str]:
    pdf = _pdf(path, _body())
    pdf.docinfo["/Subject"] = f"Interview of {SECRET}"
    _save(pdf, path)
    return "metadata", SECRET


def cropped_image(path: Path) -> tuple[str, str]:

    pdf = _pdf(path, "", crop=(0, 100, 612, 792))
    content = _body() + "q 200 0 0 200 72 0 cm /Im1 Do Q\n"
    _draw_gray_image(pdf, bytes(range(256)) * 64, (128, 128), content)
    _save(pdf, path)
    return "cropped_image", "128x128"


def control_plain(path: Path) -> None:
    _save(_pdf(path, _body(_line(SECRET, 72, 650))), path)


RESIDUAL_PLANTS: dict[str, Callable[[Path], tuple[str, str]]] = {
    "earlier_revision.pdf": earlier_revision,
    "embedded_file.pdf": embedded_file,
    "form_field.pdf": form_field,
    "bookmark.pdf": bookmark,
    "metadata.pdf": metadata,
    "cropped_image.pdf": cropped_image,
}


# -- Office files and workbooks ----------------------------------------------------------
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_DOCX_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>{extra}</Types>'
)
_COMMENTS_TYPE = (
    '<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.comments+xml"/>'
)
_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_DOC_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/comments" Target="comments.xml"/></Relationships>'
)


def _docx(path: Path, runs: str, comments: str = "") -> None:
    members = {
        "[Content_Types].xml": _DOCX_TYPES.format(extra=_COMMENTS_TYPE if comments else ""),
        "_rels/.rels": _RELS,
        "word/document.xml": f'<?xml version="1.0"?><w:document {_W}><w:body><w:p>'
        f"<w:r><w:t>{VISIBLE}</w:t></w:r>{runs}</w:p></w:body></w:document>",
    }
    if comments:
        members["word/_rels/document.xml.rels"] = _DOC_RELS
        members["word/comments.xml"] = (
            f'<?xml version="1.0"?><w:comments {_W}><w:comment w:id="0" w:author="Reviewer">'
            f"<w:p><w:r><w:t>{comments}</w:t></w:r></w:p></w:comment></w:comments>"
        )
    path.write_bytes(zip_bytes(members))


def tracked_change(path: Path) -> tuple[str, str]:
    runs = f'<w:del w:id="1" w:author="Analyst"><w:r><w:delText>{SECRET}</w:delText></w:r></w:del>'
    _docx(path, runs)
    return "tracked_change", SECRET


def comment(path: Path) -> tuple[str, str]:
    _docx(path, "", comments=f"Source is {SECRET}")
    return "comment", SECRET


def hidden_text(path: Path) -> tuple[str, str]:
    _docx(path, f"<w:r><w:rPr><w:vanish/></w:rPr><w:t>{SECRET}</w:t></w:r>")
    return "hidden_text", SECRET


def control_docx(path: Path) -> None:
    _docx(path, f"<w:r><w:t> {SECRET}</w:t></w:r>")


def speaker_notes(path: Path) -> tuple[str, str]:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly review"
    slide.notes_slide.notes_text_frame.text = f"Do not mention {SECRET}"
    deck.save(str(path))
    return "speaker_notes", SECRET


def _workbook() -> Any:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet.append(["Case", "Status"])
    sheet.append(["A-1", "closed"])
    return book


def hidden_sheet(path: Path) -> tuple[str, str]:
    book = _workbook()
    hidden = book.create_sheet("Informants")
    hidden["A1"] = SECRET
    hidden.sheet_state = "veryHidden"
    book.save(path)
    return "hidden_sheet", SECRET


def hidden_cells(path: Path) -> tuple[str, str]:
    book = _workbook()
    sheet = book.active
    sheet["C1"], sheet["C2"] = "Informant", SECRET
    sheet.column_dimensions["C"].hidden = True
    book.save(path)
    return "hidden_cells", SECRET


def invisible_cell(path: Path) -> tuple[str, str]:
    from openpyxl.styles import Font

    book = _workbook()
    sheet = book.active
    sheet["B3"] = SECRET
    sheet["B3"].font = Font(color="FFFFFF")
    book.save(path)
    return "invisible_cell", SECRET


def covered_cell(path: Path) -> tuple[str, str]:
    from openpyxl.styles import PatternFill

    book = _workbook()
    sheet = book.active
    sheet["B3"] = SECRET
    sheet["B3"].fill = PatternFill("solid", fgColor="000000")
    book.save(path)
    return "covered_cell", SECRET


def cached_formula(path: Path) -> tuple[str, str]:
    """A total whose input sheet was deleted: Excel keeps the formula as #REF! and its last
    value (openpyxl writes no cached values, so the value is put into the XML)."""
    book = _workbook()
    sheet = book.active
    sheet["B4"] = "=#REF!B2*12"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n).decode("utf-8") for n in archive.namelist()}
    sheet_xml = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet_xml.replace(
        "<f>#REF!B2*12</f><v></v>", "<f>#REF!B2*12</f><v>918273</v>"
    ).replace("<f>#REF!B2*12</f></c>", "<f>#REF!B2*12</f><v>918273</v></c>")
    path.write_bytes(zip_bytes(members))
    return "cached_formula", "918273"


def control_xlsx(path: Path) -> None:
    from openpyxl.styles import Font, PatternFill

    book = _workbook()
    sheet = book.active
    sheet["B3"] = "(b)(6)"  # a white label on a black cell, as agencies mark withheld cells
    sheet["B3"].fill = PatternFill("solid", fgColor="000000")
    sheet["B3"].font = Font(color="FFFFFF")
    sheet["B4"] = "=B2"
    book.save(path)


OFFICE_PLANTS: dict[str, Callable[[Path], tuple[str, str]]] = {
    "tracked_change.docx": tracked_change,
    "comment.docx": comment,
    "hidden_text.docx": hidden_text,
    "speaker_notes.pptx": speaker_notes,
    "hidden_sheet.xlsx": hidden_sheet,
    "hidden_cells.xlsx": hidden_cells,
    "invisible_cell.xlsx": invisible_cell,
    "covered_cell.xlsx": covered_cell,
    "cached_formula.xlsx": cached_formula,
}
CONTROLS: dict[str, Callable[[Path], None]] = {
    **PDF_CONTROLS,
    "control_plain.pdf": control_plain,
    "control_docx.docx": control_docx,
    "control_xlsx.xlsx": control_xlsx,
}
PLANTS = {**PDF_PLANTS, **RESIDUAL_PLANTS, **OFFICE_PLANTS}
