"""Leaks: what a release still carries that its redactor meant to remove.

One vocabulary for every detector (ingest.leaks), the catalog, the query language (`leak:KIND`),
the command line and the web. A Finding is plain data: it pickles between processes and goes
into the catalog as JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: Every kind of finding, with the sentence a report prints for it. Kinds are named here once.
KINDS: dict[str, str] = {
    # text a page draws but a person does not see
    "under_shape": "text under an opaque shape drawn over it",
    "under_image": "text under an image drawn over it",
    "under_annotation": "text under a dark annotation (highlight, square, ink)",
    "redact_annotation": "a redaction mark that was never applied: the text is still there",
    "invisible_text": "text the page draws invisibly (render mode 3 or fully transparent)",
    "background_text": "text coloured like what lies beneath it",
    "outside_crop": "text outside the page's crop box",
    "patterned_fill": "text under a cross-hatched or patterned fill",
    "translucent_box": "text under a box whose fill is not opaque",
    "ocr_under_box": "a scan's text layer with words under a box on the image",
    # residual content
    "earlier_revision": "text an earlier revision kept by an incremental update had",
    "embedded_file": "an embedded file or attachment",
    "form_field": "a form field value that is not shown",
    "bookmark": "a bookmark or link naming text the pages do not show",
    "metadata": "document metadata (subject, keywords, custom fields, edit history)",
    "cropped_image": "an image cropped by the page but stored whole",
    # Office files and spreadsheets
    "tracked_change": "a tracked deletion still in the file",
    "comment": "a comment",
    "hidden_text": "text formatted hidden",
    "hidden_sheet": "a hidden or very hidden sheet",
    "hidden_cells": "values in hidden rows or columns",
    "invisible_cell": "a cell formatted invisible (font colour = fill, ';;;' format)",
    "covered_cell": "a cell under a black fill that still holds its value",
    "speaker_notes": "speaker notes",
    "cached_formula": "the cached value of a formula whose inputs were deleted",
}


_NOTHING = "nothing on the page"
#: What a person looking at the page sees where the machine reads a finding's text (the viewer
#: shows the two side by side).
SEEN: dict[str, str] = {
    "under_shape": "a filled shape",
    "under_image": "an image",
    "under_annotation": "a dark annotation",
    "redact_annotation": "the text, marked for a redaction nobody applied",
    "invisible_text": "nothing: the text is drawn invisibly",
    "background_text": "nothing: the text is the colour of what lies beneath it",
    "outside_crop": "nothing: the text lies outside the page as shown",
    "patterned_fill": "a hatched box, the text showing through",
    "translucent_box": "a see-through box, the text showing through",
    "ocr_under_box": "a black box on the scanned image",
    "earlier_revision": _NOTHING + ": an earlier version of the file had it",
    "embedded_file": _NOTHING + ": the file is attached inside the PDF",
    "form_field": "nothing: the field is hidden",
    "bookmark": "a bookmark or link, not the page",
    "metadata": _NOTHING + ": the file's properties hold it",
    "cropped_image": "the part of the image inside the page",
    "tracked_change": "the document with the change accepted",
    "comment": "the document without its comments",
    "hidden_text": "nothing: the text is formatted hidden",
    "hidden_sheet": "the workbook without the sheet",
    "hidden_cells": "the sheet without those rows or columns",
    "invisible_cell": "an empty-looking cell",
    "covered_cell": "a black cell",
    "speaker_notes": "the slides, without their notes",
    "cached_formula": "a formula's last value; its inputs are gone",
}


def is_kind(value: str) -> bool:
    return value in KINDS


@dataclass
class Finding:
    """One leak: its kind, where it is (page 1-based, or None for the whole file; box as
    fractions of the page, origin top left), what can be recovered, and how it was decided."""

    kind: str
    page: int | None = None
    box: tuple[float, float, float, float] | None = None
    text: str = ""  # the recoverable text, or a description of the object (file name, ...)
    how: str = ""  # the rule that decided it, in words a person checks by

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["box"] = list(self.box) if self.box else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        box = data.get("box")
        return cls(
            kind=data["kind"],
            page=data.get("page"),
            box=(box[0], box[1], box[2], box[3]) if box else None,
            text=data.get("text", ""),
            how=data.get("how", ""),
        )
