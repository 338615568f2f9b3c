"""Searching an archive: parse the query, ask a backend, and dress the hits from the catalog.

One function serves every backend: the backend only finds and counts pages; paths, Bates
numbers and snippets come from the catalog, so answers look the same whichever engine ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from index.backend import SearchBackend, Sort
from index.catalog import Catalog
from index.fields import FACET_FIELDS
from index.highlight import snippet
from index.query import QueryError, highlight_terms, parse

MAX_LIMIT = 1000


@dataclass
class SearchRequest:
    query: str
    limit: int = 20
    offset: int = 0
    sort: Sort = "relevance"
    facets: tuple[str, ...] = ()
    facet_size: int = 10


@dataclass
class Hit:
    production: str
    document: str
    path: str
    page: int
    bates: str
    score: float
    snippet: str
    text_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    offset: int = 0
    limit: int = 20
    backend: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "backend": self.backend,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
        }


def search(catalog: Catalog, backend: SearchBackend, request: SearchRequest) -> SearchResults:
    """Run a search; raises QueryError for a query the user must fix."""
    if not 1 <= request.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    if request.offset < 0:
        raise QueryError("offset cannot be negative")
    unknown = [f for f in request.facets if f not in FACET_FIELDS]
    if unknown:
        raise QueryError(f"unknown facet {unknown[0]!r}; facets: {', '.join(FACET_FIELDS)}")
    node = parse(request.query)
    raw = backend.search(
        node,
        limit=request.limit,
        offset=request.offset,
        sort=request.sort,
        facets=request.facets,
        facet_size=request.facet_size,
    )
    words, prefixes = highlight_terms(node)
    hits = []
    for raw_hit in raw.hits:
        document_id, _, number = raw_hit.key.rpartition(":")
        document = catalog.document(document_id)
        page = catalog.page(document_id, int(number))
        if document is None or page is None:
            continue  # removed from the catalog since the index was last synced
        hits.append(
            Hit(
                production=document.production_id,
                document=document.id,
                path=document.path,
                page=page.number,
                bates=page.bates[0] if page.bates else "",
                score=round(raw_hit.score, 4),
                snippet=snippet(page.text, words, prefixes),
                text_source=page.text_source,
            )
        )
    facets = {
        name: [{"value": value, "count": count} for value, count in buckets]
        for name, buckets in raw.facets.items()
    }
    return SearchResults(
        query=request.query,
        total=raw.total,
        hits=hits,
        facets=facets,
        offset=request.offset,
        limit=request.limit,
        backend=backend.name,
    )
