"""A production as a bag: which tag files describe it, and reading them back for a rebuild."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from foiarchive.preservation.bag import BagSummary, PayloadFile, write_bag
from foiarchive.preservation.premis import premis_xml, read_events
from foiarchive.preservation.profile import profile_identifier
from foiarchive.schemas import Document, Event, Page, Production

AGENT = "foiarchive"
TAG_DIR = "foiarchive"


def bag_info(production: Production) -> list[tuple[str, str]]:
    """bag-info.txt for a production, in a fixed order (the writer appends the computed fields)."""
    return [
        ("Source-Organization", production.agency or "unknown"),
        ("External-Identifier", production.request_number),
        ("External-Description", production.title),
        ("FOIA-Production-Id", production.id),
        ("FOIA-Agency", production.agency),
        ("FOIA-Component", production.component),
        ("FOIA-Request-Number", production.request_number),
        ("FOIA-Release-Date", production.release_date),
        ("FOIA-Release-Label", production.release_label),
        ("FOIA-Requester", production.requester),
        ("FOIA-Case-Court", production.case_court),
        ("FOIA-Case-Docket", production.case_docket),
        ("Access", production.access),
        # a bag that follows a profile says which (the bagit-profile validator requires it)
        ("BagIt-Profile-Identifier", profile_identifier()),
    ]


def _jsonl(rows: Iterable[dict]) -> bytes:
    return "".join(
        json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows
    ).encode("utf-8")


def tag_files(
    production: Production,
    documents: Sequence[Document],
    pages_of: Callable[[str], list[Page]],
    events: Iterable[Event],
) -> dict[str, bytes]:
    return {
        f"{TAG_DIR}/production.json": (
            json.dumps(production.to_dict(), ensure_ascii=False, indent=2) + "\n"
        ).encode("utf-8"),
        f"{TAG_DIR}/documents.jsonl": _jsonl(d.to_dict() for d in documents),
        f"{TAG_DIR}/pages.jsonl": _jsonl(
            {"document": d.id, **p.to_dict()} for d in documents for p in pages_of(d.id)
        ),
        f"{TAG_DIR}/premis.xml": premis_xml(production, documents, events, AGENT),
    }


def bag_production(
    target: Path,
    production: Production,
    documents: Sequence[Document],
    pages_of: Callable[[str], list[Page]],
    events: Iterable[Event],
    payload: Iterable[PayloadFile],
    *,
    staging: Path,
    workers: int = 2,
    empty_folders: Iterable[str] = (),
) -> BagSummary:
    """Write (or rewrite) the bag of one production."""
    return write_bag(
        target,
        payload,
        tag_files(production, documents, pages_of, events),
        bag_info(production),
        staging=staging,
        workers=workers,
        empty_folders=empty_folders,
    )


def premis_for(
    production: Production, documents: Sequence[Document], events: Iterable[Event]
) -> dict[str, bytes]:
    """The PREMIS tag file alone, to refresh after an audit or an export."""
    return {f"{TAG_DIR}/premis.xml": premis_xml(production, documents, events, AGENT)}


@dataclass
class BagRecords:
    production: Production
    documents: list[Document]
    pages: dict[str, list[Page]]
    events: list[Event]


def read_records(bag: Path) -> BagRecords:
    """The records a foiarchive bag carries, for rebuilding a catalog from bags alone."""
    tags = bag / TAG_DIR
    production = Production.from_dict(json.loads((tags / "production.json").read_text("utf-8")))
    documents = [
        Document.from_dict(json.loads(line))
        for line in (tags / "documents.jsonl").read_text("utf-8").splitlines()
        if line
    ]
    pages: dict[str, list[Page]] = {}
    for line in (tags / "pages.jsonl").read_text("utf-8").splitlines():
        if line:
            row = json.loads(line)
            pages.setdefault(row.pop("document"), []).append(Page.from_dict(row))
    premis = tags / "premis.xml"
    derived = {"message digest calculation", "format identification", "OCR", "ingestion"}
    events = [
        e
        for e in (read_events(premis.read_bytes()) if premis.exists() else [])
        if not (e.type in derived and e.object.startswith("data/"))  # rebuilt from documents
    ]
    return BagRecords(production, documents, pages, events)
