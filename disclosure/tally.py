"""The per-page figures of disclosure, counted one way for the report and the diff alike."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from foiarchive.schemas import Page
from foiarchive.schemas.exemptions import exemption_codes
from foiarchive.schemas.rows import parse_row


def confident(redaction: dict[str, Any], page: Page) -> bool:
    """A box the counts may trust: drawn in the PDF's vector content, or found in the image
    with an exemption code printed in or beside it or cited on its page. Boxes found in an image
    with none of those were table borders on forms and bold typed words: a release with no
    redactions read as 4.4% redacted."""
    return bool(redaction.get("source") != "image" or redaction.get("label") or page.exemptions)


def _area(redaction: dict[str, Any]) -> float:
    x0, y0, x1, y1 = redaction["box"]
    return float((x1 - x0) * (y1 - y0))


@dataclass
class Tally:
    """What a set of pages released and withheld: add pages, read the totals."""

    pages: int = 0
    words: int = 0
    pages_ocr: int = 0
    pages_with_redactions: int = 0
    redaction_boxes: int = 0
    redacted_area: float = 0.0  # pages' worth of area under boxes
    #: Boxes found in a page image with nothing to back them (see confident): counted apart,
    #: in none of the three figures above.
    uncertain_boxes: int = 0
    pages_with_uncertain_boxes: int = 0
    withheld_in_full: int = 0  # placeholder pages standing for a withheld page
    listed_withheld: int = 0  # pages listed on deleted page information sheets
    withheld_reasons: Counter[str] = field(default_factory=Counter)
    exemptions: Counter[str] = field(default_factory=Counter)  # pages citing each code
    #: In spreadsheets: the cells citing each code (a page holds 50 rows of many cells, so
    #: pages say little of how much of a table was withheld).
    exemption_cells: Counter[str] = field(default_factory=Counter)

    def add(self, page: Page, columns: list[str] | None = None) -> None:
        """Count a page; `columns` names the table's columns when it is a page of rows."""
        self.pages += 1
        self.words += len(page.text.split())
        self.pages_ocr += page.text_source == "ocr"
        sure = [r for r in page.redactions if confident(r, page)]
        if sure:
            self.pages_with_redactions += 1
            self.redaction_boxes += len(sure)
            self.redacted_area += min(1.0, sum(_area(r) for r in sure))
        if len(sure) < len(page.redactions):
            self.pages_with_uncertain_boxes += 1
            self.uncertain_boxes += len(page.redactions) - len(sure)
        self.withheld_in_full += page.withheld_in_full
        for entry in page.withheld_pages:
            self.listed_withheld += 1
            self.withheld_reasons.update(entry["reasons"])
        self.exemptions.update(page.exemptions)
        if columns and page.exemptions:
            known = sorted(columns, key=len, reverse=True)
            for line in page.text.split("\n")[1:]:
                for value in parse_row(line, known).values():
                    self.exemption_cells.update(exemption_codes(value))

    @property
    def redacted_share(self) -> float:
        """The share of the pages' area under boxes."""
        return round(self.redacted_area / self.pages, 4) if self.pages else 0.0
