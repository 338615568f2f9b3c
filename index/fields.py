"""What a page looks like to a search index: one flat record, the same for every backend.

Keyword fields hold normalized values (trimmed, lowercased) so filters are case-insensitive;
`agency_label` keeps the agency as written, for facets. `text` and `title` hold analyzed words.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from foiarchive.index.analysis import index_text, normalize_keyword
from foiarchive.index.catalog import IndexablePage
from foiarchive.index.query import TEXT_FIELDS
from foiarchive.schemas import parse_bates

#: facet name -> index field that is counted
FACET_FIELDS = {
    "agency": "agency_label",
    "production": "production",
    "exemption": "exemption",
    "year": "year",
    "type": "type",
}


def page_fields(item: IndexablePage) -> dict[str, Any]:
    """The indexed representation of one page."""
    page, document, production = item.page, item.document, item.production
    released = _parse_date(production.release_date)
    mail = document.email
    return {
        "key": item.key,
        "document": normalize_keyword(document.id),
        "production": normalize_keyword(production.id),
        "agency": normalize_keyword(production.agency),
        "agency_label": production.agency.strip(),
        "page": page.number,
        "text": page.text,
        "title": " ".join(filter(None, (document.title, production.title))),
        "bates": [_bates_key(b) for b in page.bates],
        "exemption": sorted({normalize_keyword(e) for e in page.exemptions}),
        "redacted": bool(page.redactions),
        # every kind of leak on the page, and "true" when there is any (leak:true)
        "leak": sorted({f["kind"] for f in page.leaks} | ({"true"} if page.leaks else set())),
        "withheld": page.withheld_in_full,
        "source": page.text_source,
        "type": normalize_keyword(document.media_type),
        "released": released,
        "year": released.year if released else None,
        # emails: who wrote, who received (to, cc, bcc), about what, when
        "from": mail.get("from", ""),
        "to": " ".join(filter(None, (mail.get(k, "") for k in ("to", "cc", "bcc")))),
        "subject": mail.get("subject", ""),
        "sent": _parse_date(mail.get("sent", "")[:10]),
    }


#: Title and email fields repeat on every page of a document: each is analyzed once.
_document_terms = functools.lru_cache(maxsize=4096)(index_text)


def analyzed_text(fields: dict[str, Any]) -> dict[str, str]:
    """The full-text fields of a page record as analyzer terms joined by spaces: what both
    backends index (see index.analysis.index_text)."""
    return {
        name: index_text(fields[name]) if name == "text" else _document_terms(fields[name])
        for name in TEXT_FIELDS
    }


def _bates_key(value: str) -> str:
    parsed = parse_bates(value)
    return parsed.key if parsed else normalize_keyword(value)


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
