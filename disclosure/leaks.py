"""Leaks across an archive: every finding the catalog holds, tied to its production, document,
page and Bates number (the findings themselves are made at ingest: ingest.leaks)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from foiarchive.index.analysis import terms
from foiarchive.index.catalog import Catalog
from foiarchive.schemas import Page

COLUMNS = ("production", "document", "path", "page", "bates", "kind", "text", "how", "box")


def archive_leaks(catalog: Catalog, production_id: str | None = None) -> list[dict[str, Any]]:
    """One row per finding, in production, path and page order."""
    rows: list[dict[str, Any]] = []
    for document in catalog.documents(production_id, status="ok"):
        for page in catalog.pages(document.id):
            for finding in page.leaks:
                rows.append(
                    {
                        "production": document.production_id,
                        "document": document.id,
                        "path": document.path,
                        "page": finding.get("page") or page.number,
                        "bates": page.bates[0] if page.bates else "",
                        "kind": finding["kind"],
                        "text": finding.get("text", ""),
                        "how": finding.get("how", ""),
                        "box": finding.get("box"),
                    }
                )
    return rows


def by_kind(rows: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(row["kind"] for row in rows).most_common())


@dataclass
class LeakChange:
    """A finding on one side of a page pair and not on the other (diff)."""

    kind: str
    text: str
    #: For a leak new in the later release: the earlier page did not show these words (it
    #: withheld them), so the new release gives away what the old one kept back.
    withheld_before: bool = False


def leak_changes(old: Page, new: Page) -> tuple[list[LeakChange], list[LeakChange]]:
    """(leaks the new page has and the old did not, leaks of the old page the new one fixed)."""
    before = {(f["kind"], f.get("text", "")) for f in old.leaks}
    after = {(f["kind"], f.get("text", "")) for f in new.leaks}
    shown = set(terms(old.text))
    added = [
        LeakChange(kind, text, bool(set(terms(text)) - shown))
        for kind, text in sorted(after - before)
    ]
    fixed = [LeakChange(kind, text) for kind, text in sorted(before - after)]
    return added, fixed
