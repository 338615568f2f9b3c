"""Redaction boxes in scanned page images (ingest.redactions.find_in_image), on drawn pages."""

from __future__ import annotations

from PIL import Image, ImageDraw

from foiarchive.ingest.redactions import find_in_image

WIDTH, HEIGHT = 2550, 3300  # a letter page at 300 dpi
LINE = 50  # pitch of typed lines, pixels


def _page() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    return image, ImageDraw.Draw(image)


def _text(draw: ImageDraw.ImageDraw, x: int, y: int, words: str, size: int = 3) -> None:
    """Printed words, drawn with the default font scaled up so they look like body text."""
    glyphs = Image.new("L", (len(words) * 6 + 4, 12), 255)
    ImageDraw.Draw(glyphs).text((0, 0), words, fill=0)
    scaled = glyphs.resize((glyphs.width * size, glyphs.height * size))
    draw.bitmap((x, y), scaled.point(lambda v: 255 - v), fill=0)


def _outlined(found: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in found if r["kind"] == "outlined"]


def test_touching_outlined_boxes_in_a_chain_are_counted_one_by_one() -> None:
    image, draw = _page()
    for n in range(12):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    # Boxes on three consecutive lines, each sitting on the one above and shifted right.
    draw.rectangle((700, 700, 1300, 758), outline=0, width=4, fill=255)
    draw.rectangle((1100, 754, 1800, 812), outline=0, width=4, fill=255)
    draw.rectangle((1500, 808, 2200, 866), outline=0, width=4, fill=255)
    assert len(_outlined(find_in_image(image, dpi=300))) == 3


def test_a_form_grid_of_cells_with_printed_text_is_not_a_redaction() -> None:
    image, draw = _page()
    labels = [["NAME", "DATE", "PLACE"], ["ADDRESS", "TELEPHONE", "SIGNATURE"]]
    for row in range(2):
        for col in range(3):
            x0, y0 = 300 + col * 650, 800 + row * 160
            draw.rectangle((x0, y0, x0 + 650, y0 + 160), outline=0, width=4)
            _text(draw, x0 + 20, y0 + 20, labels[row][col])
            _text(draw, x0 + 20, y0 + 80, "printed entry 12/34")
    for skew in (0, 0.8):  # scanned a little askew, too
        page = image.rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255)
        assert find_in_image(page, dpi=300) == []


def test_a_box_crossed_by_a_hand_drawn_stroke_is_one_box() -> None:
    image, draw = _page()
    for n in range(10):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    draw.rectangle((800, 750, 1700, 808), outline=0, width=4, fill=255)
    # A pen stroke from the line above down across the box and out below it.
    draw.line((900, 640, 1500, 900), fill=0, width=5)
    assert len(_outlined(find_in_image(image, dpi=300))) == 1


def test_a_scanner_band_along_the_edge_is_not_a_redaction() -> None:
    image, draw = _page()
    for n in range(20):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    draw.rectangle((WIDTH - 90, 1200, WIDTH - 1, 2600), fill=0)  # a dark strip at the edge
    draw.rectangle((600, 1000, 1200, 1046), fill=0)  # and one black redaction
    found = find_in_image(image, dpi=300)
    assert [r["kind"] for r in found] == ["filled"]


def test_a_box_holding_one_short_label_line_is_found() -> None:
    for label in ("(b)(6)", "b7C -1"):
        image, draw = _page()
        for n in range(10):
            _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
        # The exemption code printed inside the box, as agencies do, and a box as wide as the
        # code alone.
        draw.rectangle((700, 750, 1500, 808), outline=0, width=4, fill=255)
        _text(draw, 712, 762, label, size=4)
        draw.rectangle((1700, 850, 1900, 908), outline=0, width=4, fill=255)
        _text(draw, 1712, 862, label, size=4)
        page = image.rotate(0.5, resample=Image.Resampling.BILINEAR, fillcolor=255)
        found = _outlined(find_in_image(page, dpi=300))
        assert len(found) == 2, label
        assert sorted(round(r["box"][0] * WIDTH, -2) for r in found) == [700, 1700], label


def test_the_edge_of_the_paper_and_a_fold_are_no_boxes() -> None:
    """A scan that shows the edge of the sheet as a thin frame, with a fold across the middle,
    holds no redaction: the frame's two halves are not two page-sized outlined boxes."""
    from PIL import Image, ImageDraw

    from foiarchive.ingest.redactions import find_in_image

    page = Image.new("L", (2550, 3300), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((4, 8, 2545, 3292), outline=0, width=5)  # the sheet's edge
    draw.line((4, 1815, 2545, 1815), fill=0, width=5)  # a fold
    for y in range(300, 3000, 70):
        draw.text((300, y), "Ordinary words of a typed report " * 3, fill=0)
    draw.rectangle((700, 1000, 1400, 1060), outline=0, width=4)  # one real outlined box
    found = find_in_image(page, 300)
    assert len(found) == 1 and found[0]["kind"] == "outlined"


def test_punched_holes_and_short_blots_are_no_redactions() -> None:
    """Round holes a quarter inch across (whole, or halved by the scan's edge), and dark bars
    shorter than a line of type (a seal's band, a signature's blot), are not black boxes."""
    image, draw = _page()
    for n in range(12):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    draw.ellipse((1200, 150, 1275, 225), fill=0)  # a punched hole
    draw.ellipse((700, -40, 775, 35), fill=0)  # half of one at the top edge of the scan
    draw.rectangle((1800, 1400, 1900, 1420), fill=0)  # a short dark bar, 5 pt tall
    draw.rectangle((600, 1000, 1200, 1046), fill=0)  # and one black redaction
    found = find_in_image(image, dpi=300)
    assert [(r["kind"], round(r["box"][0] * WIDTH, -2)) for r in found] == [("filled", 600)]


def test_blank_strips_between_the_rules_of_a_double_ruled_table_are_no_boxes() -> None:
    """A table framed by double rules has a narrow blank strip at its top (holding only its
    title) and at its bottom: each is a blank rectangle, but stacked with the table's printed
    rows on the same two sides it is a row of the table, not a redaction."""
    image, draw = _page()
    for n in range(8):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    rules = [2000, 2070, 2250, 2450, 2520]
    for y in rules:
        draw.line((300, y, 2200, y), fill=0, width=4)
    for x in (300, 2200):
        draw.line((x, rules[0], x, rules[-1]), fill=0, width=4)
    _text(draw, 1150, 2020, "RETURN")
    for y in (2090, 2140, 2190, 2270, 2320, 2370):
        _text(draw, 330, y, "Date received and executed with the arrest of the named " * 2)
    assert find_in_image(image, dpi=300) == []


def test_a_form_cell_around_a_redaction_box_is_not_a_second_box() -> None:
    """A redaction box drawn inside a blank cell of a form (the name under SERVED ON): the cell
    is blank but for its label and the box, and it is the form's, not a redaction."""
    image, draw = _page()
    for n in range(8):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    draw.rectangle((300, 1500, 2200, 1800), outline=0, width=4)
    _text(draw, 320, 1515, "SERVED ON (PRINT NAME)")
    draw.rectangle((400, 1600, 1300, 1700), outline=0, width=4)
    found = _outlined(find_in_image(image, dpi=300))
    assert [round(r["box"][0] * WIDTH, -2) for r in found] == [400]


def test_a_piece_of_a_scanner_band_in_the_corner_of_the_scan_is_no_redaction() -> None:
    """A dark band across the foot of the scan, cut by a thin light line near the corner: the
    piece in the corner has the band on one side and the edge of the scan on two others."""
    image, draw = _page()
    for n in range(12):
        _text(draw, 300, 600 + n * LINE + 12, "Ordinary words of a memorandum, typed " * 2)
    draw.rectangle((0, HEIGHT - 180, WIDTH - 75, HEIGHT - 1), fill=0)  # the band
    draw.rectangle((WIDTH - 66, HEIGHT - 180, WIDTH - 5, HEIGHT - 1), fill=0)  # its corner piece
    draw.rectangle((600, 1000, 1200, 1046), fill=0)  # and one black redaction
    found = find_in_image(image, dpi=300)
    assert [(r["kind"], round(r["box"][0] * WIDTH, -2)) for r in found] == [("filled", 600)]
