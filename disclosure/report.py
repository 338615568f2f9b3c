"""The disclosure profile of a production: what was released, what was withheld, and how."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from foiarchive.disclosure.leaks import archive_leaks, by_kind
from foiarchive.disclosure.tally import Tally
from foiarchive.index.catalog import Catalog
from foiarchive.schemas import parse_bates

#: A box hiding at least this many characters of the PDF's own text is a failed redaction.
LEAK_MIN_CHARS = 3
CONFIDENCE_BUCKETS = ((0, 50), (50, 70), (70, 85), (85, 95), (95, 101))


@dataclass
class BatesRange:
    document: str
    path: str
    first: str
    last: str


@dataclass
class Report:
    production: str
    documents: int = 0
    failed_documents: int = 0
    pages: int = 0
    pages_ocr: int = 0
    pages_with_redactions: int = 0
    redaction_boxes: int = 0
    redacted_area_pages: float = 0.0  # sum over pages of the share covered: "pages' worth"
    uncertain_boxes: int = 0  # image boxes with no code to back them (Tally): not counted above
    pages_withheld_in_full: int = 0
    pages_listed_withheld: int = 0  # on deleted page information sheets
    withheld_reasons: dict[str, int] = field(default_factory=dict)
    pages_with_leaks: list[dict[str, Any]] = field(default_factory=list)
    exemptions_by_code: dict[str, int] = field(default_factory=dict)  # pages citing each
    exemption_cells_by_code: dict[str, int] = field(default_factory=dict)  # table cells citing
    exemptions_by_document: dict[str, dict[str, int]] = field(default_factory=dict)
    #: share of each document's page area under redaction boxes, by path (documents with any)
    redacted_share_by_document: dict[str, float] = field(default_factory=dict)
    other_citations: dict[str, int] = field(default_factory=dict)  # state law, by statute+code
    bates_ranges: list[BatesRange] = field(default_factory=list)
    bates_gaps: list[dict[str, Any]] = field(default_factory=list)
    ocr_confidence: dict[str, int] = field(default_factory=dict)
    #: Everything the release still carries that its redactor meant to remove (ingest.leaks).
    leaks: list[dict[str, Any]] = field(default_factory=list)
    leaks_by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def disclosure_report(catalog: Catalog, production_id: str) -> Report:
    report = Report(production_id)
    tally = Tally()
    other: Counter[str] = Counter()
    confidence: Counter[str] = Counter()
    stamped: dict[str, list[int]] = {}
    for document in catalog.documents(production_id):
        if document.status != "ok":
            report.failed_documents += 1
            continue
        report.documents += 1
        per_document = Tally()
        for page in catalog.pages(document.id):
            tally.add(page, document.columns)
            per_document.add(page)
            if page.text_source == "ocr" and page.ocr_confidence is not None:
                low, high = next(b for b in CONFIDENCE_BUCKETS if page.ocr_confidence < b[1])
                confidence[f"{low}-{min(high, 100)}"] += 1
            if page.redactions:
                hidden = sum(
                    r.get("text_under", 0)
                    for r in page.redactions
                    if r.get("text_under", 0) >= LEAK_MIN_CHARS
                )
                if hidden:
                    report.pages_with_leaks.append(
                        {
                            "document": document.id,
                            "path": document.path,
                            "page": page.number,
                            "characters_under_boxes": hidden,
                        }
                    )
            other.update(
                f"{c['statute']} {c['code']}"
                for c in page.citations
                if c["statute"] != "5 U.S.C. 552(b)"
            )
            for stamp in page.bates:
                parsed = parse_bates(stamp)
                if parsed:
                    stamped.setdefault(parsed.prefix, []).append(parsed.number)
        if per_document.redacted_area:
            report.redacted_share_by_document[document.path] = per_document.redacted_share
        if per_document.exemptions:
            report.exemptions_by_document[document.path] = dict(
                sorted(per_document.exemptions.items())
            )
        if document.bates_first:
            report.bates_ranges.append(
                BatesRange(document.id, document.path, document.bates_first, document.bates_last)
            )
    report.pages, report.pages_ocr = tally.pages, tally.pages_ocr
    report.pages_with_redactions = tally.pages_with_redactions
    report.redaction_boxes = tally.redaction_boxes
    report.uncertain_boxes = tally.uncertain_boxes
    report.redacted_area_pages = round(tally.redacted_area, 3)
    report.pages_withheld_in_full = tally.withheld_in_full
    report.pages_listed_withheld = tally.listed_withheld
    report.withheld_reasons = dict(tally.withheld_reasons.most_common())
    report.exemptions_by_code = dict(tally.exemptions.most_common())
    report.exemption_cells_by_code = dict(tally.exemption_cells.most_common())
    report.other_citations = dict(other.most_common())
    report.ocr_confidence = dict(
        sorted(confidence.items(), key=lambda kv: int(kv[0].split("-")[0]))
    )
    report.bates_gaps = _gaps(stamped)
    report.leaks = archive_leaks(catalog, production_id)
    report.leaks_by_kind = by_kind(report.leaks)
    return report


def _gaps(stamped: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Numbers missing inside each prefix's range: usually pages withheld in full."""
    gaps = []
    for prefix, numbers in sorted(stamped.items()):
        present = sorted(set(numbers))
        for low, high in pairwise(present):
            if high - low > 1:
                gaps.append(
                    {"prefix": prefix, "from": low + 1, "to": high - 1, "missing": high - low - 1}
                )
    return gaps
