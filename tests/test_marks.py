"""FOIA marks: exemption citations, Bates numbers, redaction boxes, withheld pages."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw

from foiarchive import Archive
from foiarchive.disclosure.report import disclosure_report
from foiarchive.ingest.marks import (
    annotate,
    assign_bates,
    deleted_page_sheet,
    is_withheld_placeholder,
)
from foiarchive.ingest.redactions import find_in_image, find_in_pdf_page
from foiarchive.ingest.sample import write_text_pdf
from foiarchive.schemas import Page, find_bates, parse_bates
from foiarchive.schemas.exemptions import exemption_codes, find_citations

from .conftest import run_cli, run_json


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("withheld pursuant to Exemptions (b)(6) and (b)(7)(C)", ["b6", "b7c"]),
        ("(B)(6)", ["b6"]),
        ("(b) (6) and (b) (7) (E)", ["b6", "b7e"]),
        ("(bX6)", ["b6"]),  # OCR read ')(' as 'X'
        ("b)(6)", ["b6"]),  # OCR lost the opening parenthesis
        ("(6)(6)", ["b6"]),  # OCR read 'b' as '6'
        ("b6 -1,-2,-7 Per FBI b7C -1", ["b6", "b7c"]),  # FBI margin codes
        ("Ex. 5", ["b5"]),
        ("FOIA Exemption 4", ["b4"]),
        ("Exemptions 6 and 7(C)", ["b6", "b7c"]),
        ("5 U.S.C. 552(b)(3)", ["b3"]),
        # labels printed together on a box: the "(b)" before "(7)" opens the next citation
        ("(b) (6), (b) (7)(b) (7)(E)", ["b6", "b7e"]),
        ("(b)(1) (b)(7)(A)\n(b)(2) (b)(7)(B)", ["b1", "b2", "b7a", "b7b"]),  # a checklist
        ("(b)(7)(E)(b)(6)(b)(7)(C)", ["b6", "b7c", "b7e"]),  # one spreadsheet cell
        ("b7¢ -1,-2 b6 -1", ["b6", "b7c"]),  # OCR's cent sign for the C of a margin b7C
        ("b6 b7C b7 b7C", ["b6", "b7c"]),  # a bare b7 beside b7C is a b7C that lost its C
        ("b6é -1 bIC -1 b7Ee -4", ["b6", "b7c", "b7e"]),  # OCR's glue, 7 read as I
        ("(b)(1) (A) specifically authorized under criteria", ["b1"]),  # the statute's text
        ("SERIALIZED, bé 1 Per FBI", ["b6"]),  # the 6 read as é before a subcategory
        ("—b6 -3,-5-\n-b5 Per EOUSA-—", ["b5", "b6"]),  # form rules run into the codes
        ("café 12 and abbé -2 minutes", []),
        ("I was late b/c the bus broke down; b/d and b|a too", []),  # "because", not b7c
        ("Exemption 7 protects law enforcement records", ["b7"]),
        # two boxes' labels, each on its line: the (b) that opens the second is no letter of b6
        ("(b)(7)(C), (b)(7)(E), b6\n(b)(7)(E)", ["b6", "b7c", "b7e"]),
        ("b6 (b)(5)", ["b5", "b6"]),
        ("b7(C) (1)", ["b7c"]),
    ],
)
def test_federal_exemption_citations_are_normalized(text: str, codes: list[str]) -> None:
    assert exemption_codes(text) == codes


@pytest.mark.parametrize(
    "text",
    [
        "see (b) below",
        "under paragraph (b), the agency",
        "vitamin B6 and form B1",
        "Section 7 of the contract, page 6",
        "b6b7 is a hash",
        "call 555-0106",
    ],
)
def test_ordinary_text_is_never_a_citation(text: str) -> None:
    assert exemption_codes(text) == []


def test_state_citations_keep_their_statute() -> None:
    found = find_citations("exempt under 5 ILCS 140/7(1)(c) and Section 7 (1)(b)")
    assert [(c.code, c.statute) for c in found] == [("7(1)(c)", "5 ILCS 140")]
    assert exemption_codes("5 ILCS 140/7(1)(c)") == []  # not a federal b7c


@pytest.mark.parametrize(
    ("stamp", "prefix", "number"),
    [
        ("ICE-2017-000123", "ICE-2017", 123),
        ("DHS 000045", "DHS", 45),
        ("EOUSA-0001234", "EOUSA", 1234),
        ("19-cv-4048(FBI)-1515", "19-cv-4048(FBI)", 1515),
    ],
)
def test_bates_stamps(stamp: str, prefix: str, number: int) -> None:
    found = find_bates(f"some words  {stamp}")
    assert [(b.prefix, b.number) for b in found] == [(prefix, number)]
    parsed = parse_bates(stamp.replace("-", " "))
    assert parsed is not None and parsed.key == found[0].key


@pytest.mark.parametrize(
    "text", ["Page 12 of 40", "June 8, 2017", "Phone 555-1234", "FOIA 2017-ICFO-12345", "Box 1234"]
)
def test_things_that_are_not_bates(text: str) -> None:
    assert find_bates(text) == []


@pytest.mark.parametrize(
    ("printed", "text"),
    [
        ("2019-ICLI-00003 -022454", "2019-ICLI-00003-022454"),  # a space before the number
        ("19-cv-4048(FBI )-2026", "19-cv-4048(FBI)-2026"),  # OCR's space inside parentheses
    ],
)
def test_bates_as_ocr_spaces_them(printed: str, text: str) -> None:
    assert [b.text for b in find_bates(printed)] == [text]


def test_a_fund_code_in_a_table_is_no_bates() -> None:
    assert find_bates("Fund (AF-2013 appropriation") == []


def test_numbers_inside_lines_and_table_rows_are_not_stamps() -> None:
    pages = [
        Page(1, "Transactions\n7/25/13 1223 PET SUPPLIES PLUS 0202187696, 0202187621 367.88"),
        Page(2, "Payments\nDHAW20190070 09/09/2019 CITIBANK - TRAVEL CBA CARD 08/12/2019 411.49"),
    ]
    assert assign_bates(pages) == ("", "")
    assert [p.bates for p in pages] == [[], []]
    stamped = [Page(1, "Memo\nbody\nOK VPI 19-cv-4048(FBI)-5521 — a |")]  # specks after it
    assert assign_bates(stamped)[0] == "19-cv-4048(FBI)-5521"


def test_unstamped_pages_before_the_first_stamp_get_no_number() -> None:
    """A cover letter and a deleted page sheet ahead of the stamped records, and a sheet between
    two stamped pages, keep no stamp; a page OCR missed between two agreeing stamps gets one."""
    pages = [
        Page(1, "Dear requester, enclosed are the records."),
        Page(2, "DELETED PAGE INFORMATION SHEET\nPage 1 ~ b6;\nPage 2 ~ b6;"),
        Page(3, "body\nICE-000103"),
        Page(4, "body, stamp unread"),
        Page(5, "body\nICE-000105"),
        Page(6, "DELETED PAGE INFORMATION SHEET\nPage 7 ~ b6;\nPage 8 ~ b6;"),
        Page(7, "body\nICE-000107"),
    ]
    for page in pages:
        annotate(page)
    assign_bates(pages)
    assert [p.bates for p in pages] == [
        [], [], ["ICE-000103"], ["ICE-000104"], ["ICE-000105"], [], ["ICE-000107"],
    ]  # fmt: skip


def test_document_bates_follow_the_dominant_prefix_and_fill_misread_pages() -> None:
    pages = [
        Page(1, "RE: 2017-ICFO-12345\nletter body\nICE-2017-000101"),
        Page(2, "more body\nICE-2017-OOO1O2 (misread)"),
        Page(3, "end\nICE-2017-000103"),
    ]
    assert assign_bates(pages) == ("ICE-2017-000101", "ICE-2017-000103")
    assert [p.bates for p in pages] == [
        ["ICE-2017-000101"],
        ["ICE-2017-000102"],
        ["ICE-2017-000103"],
    ]


def test_withheld_placeholders_and_deleted_page_sheets() -> None:
    assert is_withheld_placeholder("Page withheld in full pursuant to exemption (b)(5)")
    assert not is_withheld_placeholder("The agency withheld in full " + "word " * 200)
    sheet = deleted_page_sheet(
        "FEDERAL BUREAU OF INVESTIGATION\nDELETED PAGE INFORMATION SHEET\n"
        "Page 1 ~ Duplicate;\nPage 12 ~ b6; b7C;\nPage 49 ~ Referral/Consult;\n"
    )
    assert [(w.page, w.reasons) for w in sheet] == [
        (1, ("duplicate",)),
        (12, ("b6", "b7c")),
        (49, ("referral/consult",)),
    ]
    page = Page(1, "Page 12 ~ b6; b7C;\nPage 13 ~ b6;")
    annotate(page)
    assert page.withheld_pages == [
        {"page": 12, "reasons": ["b6", "b7c"]},
        {"page": 13, "reasons": ["b6"]},
    ]
    assert not page.withheld_in_full


def _scan_with_boxes() -> Image.Image:
    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    for y in range(200, 2000, 60):
        draw.text((150, y), "Ordinary words of a memorandum " * 3, fill=0)
    draw.rectangle((400, 500, 900, 540), fill=0)  # a solid black redaction
    draw.rectangle((300, 1203, 800, 1257), outline=0, width=3, fill=255)  # an outlined one
    draw.rectangle((0, 0, 1700, 40), fill=0)  # a copier's dark edge: not a redaction
    return image


def test_redaction_boxes_in_a_scan() -> None:
    found = find_in_image(_scan_with_boxes(), dpi=200)
    assert sorted(r["kind"] for r in found) == ["filled", "outlined"]
    filled = next(r for r in found if r["kind"] == "filled")
    x0, _, _, y1 = filled["box"]
    assert abs(x0 - 400 / 1700) < 0.01 and abs(y1 - 540 / 2200) < 0.01


def test_vector_redactions_and_text_left_under_them(tmp_path: Path) -> None:
    write_text_pdf(
        tmp_path / "r.pdf",
        [["Officer John Smith called about the detainer."] * 3],
        boxes={0: [(110, 728, 60, 14)]},
    )
    pdf = pdfium.PdfDocument(str(tmp_path / "r.pdf"))
    page = pdf[0]
    (box,) = find_in_pdf_page(page, page.get_textpage())
    assert box["kind"] == "filled" and box["source"] == "vector"
    assert box["text_under"] >= 3  # the name is still there under the box: a leak


def test_marks_are_searchable_and_reported(sample_archive: Path) -> None:
    redacted = run_json("search", "redacted:true", "--limit", "50", archive=sample_archive)
    assert {"final-response-letter.pdf", "scans/ERO memos 2017 (scanned).pdf"} <= {
        h["path"] for h in redacted["hits"]
    }
    assert run_json("search", "exemption:b7c", archive=sample_archive)["total"] >= 2
    stamped = run_json("search", "bates:ICE-2017-000002", archive=sample_archive)
    assert [(h["path"], h["page"], h["bates"]) for h in stamped["hits"]] == [
        ("scans/ERO memos 2017 (scanned).pdf", 2, "ICE-2017-000002")
    ]
    report = run_json("report", "ice-2017-r1", archive=sample_archive)
    assert report["redaction_boxes"] >= 6
    assert report["exemptions_by_code"]["b6"] >= 2
    assert [leak["path"] for leak in report["pages_with_leaks"]] == ["final-response-letter.pdf"]
    assert any(r["first"] == "ICE-2017-000001" for r in report["bates_ranges"])
    text = run_cli("report", "ice-2017-r1", archive=sample_archive).output
    assert "LEAK: final-response-letter.pdf p. 1" in text


def test_bates_gaps_point_at_withheld_pages(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    write_text_pdf(source / "a.pdf", [[f"Memo body {n}", "", f"DHS-{n:06d}"] for n in (1, 2, 3)])
    write_text_pdf(source / "b.pdf", [[f"Memo body {n}", "", f"DHS-{n:06d}"] for n in (7, 8)])
    archive = tmp_path / "archive"
    assert run_cli("ingest", source, "--id", "p", "--ocr", "never", archive=archive).exit_code == 0
    with Archive(archive).catalog() as catalog:
        report = disclosure_report(catalog, "p")
    assert report.bates_gaps == [{"prefix": "DHS", "from": 4, "to": 6, "missing": 3}]


def test_a_misread_prefix_takes_the_spelling_the_production_uses() -> None:
    from foiarchive.ingest.marks import harmonize, respell
    from foiarchive.schemas import Document

    def stamped(name: str, first: str, pages: int) -> Document:
        return Document(
            id=name,
            production_id="p",
            path=name,
            sha256="",
            size=0,
            media_type="application/pdf",
            page_count=pages,
            bates_first=first,
            bates_last=first,
        )

    documents = [
        stamped("a", "EOUSA-000001", 4),
        stamped("b", "EQUSA-000005", 4),
        stamped("c", "EOUSA-000009", 4),
        stamped("d", "DHS 000001", 2),
    ]
    assert harmonize(documents) == {"b": "EOUSA"}
    assert respell(["EQUSA-000005", "EQUSA-000006"], "EOUSA") == ["EOUSA-000005", "EOUSA-000006"]


def test_a_deleted_page_sheet_read_column_by_column() -> None:
    """OCR often reads a sheet's table a column at a time: labels, numbers, reasons apart."""
    text = "\n".join(
        ["FEDERAL BUREAU OF INVESTIGATION", "DELETED PAGE INFORMATION SHEET"]
        + ["Page"] * 3
        + ["12", "13", "14"]
        + ["Duplicate;", "b6 - 2,-6; b7C - 2,-6;", "Referral/Consult;"]
    )
    page = Page(1, text)
    annotate(page)
    assert page.withheld_pages == [
        {"page": 12, "reasons": ["duplicate"]},
        {"page": 13, "reasons": ["b6", "b7c"]},
        {"page": 14, "reasons": ["referral/consult"]},
    ]
    # a continuation sheet with no title, its numbers lost: one entry per label all the same
    garbled = Page(2, "\n".join(["Page"] * 6 + ["b6 - 2; bIC - 2,-5;"] * 4))
    annotate(garbled)
    assert [e["page"] for e in garbled.withheld_pages] == [0] * 6
    # a titled sheet whose entries are all unreadable still stands for withheld pages
    titled = Page(3, "FEDKRAL BUREAU\nDELETED PAGE INFORMATION SHEET\nnoise")
    annotate(titled)
    assert titled.withheld_pages == [{"page": 0, "reasons": []}]
    ordinary = Page(4, "Page\nPage\nThe report continues on the next page.")
    annotate(ordinary)
    assert ordinary.withheld_pages == [] and not ordinary.withheld_in_full


def test_labels_on_boxes_and_glyphs_at_their_edges_are_not_leaks(tmp_path: Path) -> None:
    """White exemption labels printed on black boxes are seen, not hidden; a line of text that
    only touches a box's edge is in plain sight; dark text under a box is a leak."""
    import pikepdf

    content = b"""
    0 0 0 rg 100 700 200 20 re f
    BT /F1 11 Tf 1 1 1 rg 105 705 Td ((b)(6), (b)(7)(C)) Tj ET
    0 0 0 rg 100 400 200 20 re f
    BT /F1 11 Tf 0 0 0 rg 105 405 Td (Agent Jane Roe) Tj ET
    BT /F1 11 Tf 0 0 0 rg 100 418.5 Td (the line above the second box) Tj ET
    """
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                           BaseFont=pikepdf.Name.Helvetica)
    )  # fmt: skip
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(content),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(tmp_path / "labels.pdf")
    document = pdfium.PdfDocument(str(tmp_path / "labels.pdf"))
    found = sorted(
        find_in_pdf_page(document[0], document[0].get_textpage()), key=lambda b: b["box"][1]
    )
    assert [b["text_under"] for b in found] == [0, len("AgentJaneRoe")]


def test_a_prefix_with_other_digits_is_another_stamp_not_a_misreading() -> None:
    """A re-release can carry an older year's stamps: 2018 beside 2019 is not an OCR slip."""
    pages = [
        Page(1, "body\nDOJ-OIP-2019-000045"),
        Page(2, "body\nDOJ-OIP-2018-000999"),
        Page(3, "body\nDOJ-OIP-2019-000047"),
    ]
    assert assign_bates(pages) == ("DOJ-OIP-2019-000045", "DOJ-OIP-2019-000047")
    assert pages[1].bates == ["DOJ-OIP-2019-000046"]
    misread = [Page(1, "body\n19-cv-4048(FBI)-1921"), Page(2, "body\n19-cyv-4048(FBI)-1922")]
    assign_bates(misread)
    assert misread[1].bates == ["19-cv-4048(FBI)-1922"]
