"""Typed records for productions, documents, pages and events.

They are plain dataclasses so that they cost nothing to build in a worker process and pickle
cheaply between processes; `to_dict`/`from_dict` give the JSON shape used by the catalog, the
bag tag files and the JSON output of the command line.
"""

from __future__ import annotations

import dataclasses
import hashlib
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

    def redacted_area(self) -> float:
        """Share of the page under redaction boxes (overlapping boxes counted twice, at most 1)."""
        covered = sum((b[2] - b[0]) * (b[3] - b[1]) for b in (r["box"] for r in self.redactions))
        return round(min(1.0, covered), 4)


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
