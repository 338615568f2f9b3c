"""Leaks across an archive: every finding the catalog holds, tied to its production, document,
page and Bates number (the findings themselves are made at ingest: ingest.leaks)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from foiarchive.index.catalog import Catalog

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
