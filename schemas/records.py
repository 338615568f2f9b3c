"""Typed records for productions, documents, pages and events.

They are plain dataclasses so that they cost nothing to build in a worker process and pickle
cheaply between processes; `to_dict`/`from_dict` give the JSON shape used by the catalog, the
bag tag files and the JSON output of the command line.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

TextSource = Literal["pdf", "ocr", "mixed", "text", "none"]


class _Record:
    """JSON-shaped conversion shared by the record types."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Build from a dict, ignoring keys this version does not know (newer tag files)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Production(_Record):
    """One release by an agency: what the archivist knows about it."""

    id: str
    title: str = ""
    agency: str = ""
    component: str = ""
    request_number: str = ""
    case_court: str = ""
    case_docket: str = ""
    release_date: str = ""  # ISO date, YYYY-MM-DD
    release_label: str = ""
    requester: str = ""
    exemptions_cited: list[str] = field(default_factory=list)
    access: Literal["public", "restricted"] = "public"
    source: str = ""
    ingested_at: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Production:
        """Also accepts the manifest's nested form: "case": {"court": ..., "docket": ...}."""
        case = data.get("case") or {}
        flat = {"case_court": case.get("court", ""), "case_docket": case.get("docket", ""), **data}
        return super().from_dict(flat)


@dataclass
class Page(_Record):
    """One page of a document: the unit a search hit points at."""

    number: int  # 1-based
    text: str = ""
    text_source: TextSource = "none"
    ocr_confidence: float | None = None
    width: float | None = None  # points for PDF pages, pixels for images
    height: float | None = None
    bates: list[str] = field(default_factory=list)  # as stamped, e.g. "ICE-2017-000123"
    exemptions: list[str] = field(default_factory=list)  # federal codes: b6, b7c, ...
    citations: list[dict[str, Any]] = field(default_factory=list)  # every citation, any statute
    redactions: list[dict[str, Any]] = field(default_factory=list)  # boxes, see ingest.redactions
    withheld_in_full: bool = False  # a placeholder standing for a withheld page
    withheld_pages: list[dict[str, Any]] = field(default_factory=list)  # listed on this sheet
    #: Where OCR read each word of `text`, in order (see pack_word_boxes): what lets a viewer
    #: outline a hit on the page image. Empty for text-layer pages, whose PDF holds positions.
    word_boxes: str = ""
    #: For a page assembled from a page image (litigation load files): that image's path in
    #: the production, where a viewer finds the page as delivered.
    image: str = ""
    #: What the page (or, on page 1, the whole file) still carries that its redactor meant to
    #: remove: schemas.findings.Finding as dicts (kind, page, box, text, how).
    leaks: list[dict[str, Any]] = field(default_factory=list)

    def boxes(self) -> list[Box]:
        return unpack_word_boxes(self.word_boxes)

    def redacted_area(self) -> float:
        """Share of the page under redaction boxes (overlapping boxes counted twice, at most 1)."""
        covered = sum((b[2] - b[0]) * (b[3] - b[1]) for b in (r["box"] for r in self.redactions))
        return round(min(1.0, covered), 4)


#: x0, y0, x1, y1 as fractions (0..1) of the page, origin top left.
Box = tuple[float, float, float, float]
_BOX_SCALE = 65535


def pack_word_boxes(boxes: Iterable[Box]) -> str:
    """Word boxes in 8 bytes each (16-bit fractions of the page), base64 for JSON and SQLite.

    A page of 300 OCR words takes 3.2 kB here against about 15 kB as a JSON list of floats, and
    the precision, 1/65535 of the page, is far finer than a pixel at any scan resolution.
    """
    values = array("H")  # unsigned 16-bit on every platform CPython supports
    for box in boxes:
        values.extend(round(min(1.0, max(0.0, v)) * _BOX_SCALE) for v in box)
    return base64.b64encode(values.tobytes()).decode("ascii")


def unpack_word_boxes(packed: str) -> list[Box]:
    if not packed:
        return []
    values = array("H")
    values.frombytes(base64.b64decode(packed))
    scaled = [v / _BOX_SCALE for v in values]
    return [tuple(scaled[i : i + 4]) for i in range(0, len(scaled) - 3, 4)]  # type: ignore[misc]


def word_boxes_for_text(words: Sequence[tuple[str, Box]]) -> str:
    """Pack the boxes of OCR words so that box i belongs to the i-th whitespace-separated word
    of the page text the words were joined into (a word holding a space counts as two)."""
    return pack_word_boxes(box for text, box in words for _ in text.split())


@dataclass
class Document(_Record):
    """One file of a production, as received, with what was read from it."""

    id: str
    production_id: str
    path: str  # relative path inside the production (the bag payload), '/'-separated
    sha256: str
    size: int
    media_type: str
    pronom: str = ""
    page_count: int = 0
    title: str = ""
    author: str = ""
    created: str = ""
    modified: str = ""
    producer: str = ""
    bates_first: str = ""
    bates_last: str = ""
    text_source: TextSource = "none"
    ocr_confidence: float | None = None
    columns: list[str] = field(default_factory=list)  # a table's header, as released
    parent: str = ""  # the id of the ZIP, mailbox, email or merged PDF it was inside
    page_offset: int = 0  # a record cut from a merged PDF: its page 1 is the PDF's page 1+offset
    email: dict[str, str] = field(default_factory=dict)  # from, to, cc, sent, subject, ...
    fields: dict[str, str] = field(default_factory=dict)  # a load file's fields (BEGBATES, ...)

    @property
    def is_original(self) -> bool:
        """A file of the production as delivered, kept in the bag (not a ZIP or email member)."""
        return bool(self.sha256) and not self.parent

    status: Literal["ok", "error"] = "ok"
    error: str = ""
    ingested_at: str = ""

    @staticmethod
    def make_id(production_id: str, path: str) -> str:
        """A stable id: the same production and path give the same id on every rebuild."""
        digest = hashlib.sha256(f"{production_id}\0{path}".encode()).hexdigest()
        return f"{production_id}.{digest[:10]}"


@dataclass
class Event(_Record):
    """A PREMIS-style event: something done to an object, by an agent, with an outcome."""

    type: str
    object: str
    outcome: Literal["success", "failure", "warning"]
    detail: str = ""
    agent: str = ""
    time: str = ""
