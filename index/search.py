"""Searching an archive: parse the query, ask a backend, and dress the hits from the catalog.

One function serves every backend: the backend only finds and counts pages; paths, Bates
numbers and snippets come from the catalog, so answers look the same whichever engine ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from foiarchive.index.analysis import normalize_keyword
from foiarchive.index.backend import RawHit, RawResults, SearchBackend, Sort
from foiarchive.index.catalog import Catalog
from foiarchive.index.fields import FACET_FIELDS
from foiarchive.index.highlight import best_line, snippet
from foiarchive.index.proximity import resolve
from foiarchive.index.query import (
    And,
    DateRange,
    Keyword,
    Mark,
    MatchAll,
    Node,
    Not,
    Or,
    QueryError,
    highlight_terms,
    parse,
    replace_marks,
)
from foiarchive.schemas import Document
from foiarchive.schemas.rows import row_of_line

#: The documents or pages a workspace mark stands for (a DocumentKeys or PageKeys node).
MarkKeys = Callable[[Mark], Node]
MAX_LIMIT = 1000
#: How deep results can be paged (Elasticsearch's max_result_window; the same on both engines).
MAX_WINDOW = 10_000
#: --by-document counts matching pages per document for at most this many documents.
MAX_DOCUMENT_GROUPS = 50_000
#: --by-document lists at most this many matching pages under each document.
PAGES_PER_DOCUMENT = 3


@dataclass
class SearchRequest:
    query: str
    limit: int = 20
    offset: int = 0
    sort: Sort = "relevance"
    facets: tuple[str, ...] = ()
    facet_size: int = 10
    by_document: bool = False
    #: (facet, value) pairs that narrow the search, as a click on a facet does: the values are
    #: those the facets report, so they are taken literally, never parsed as query syntax.
    filters: tuple[tuple[str, str], ...] = ()
    #: Productions the caller may not see (restricted ones): their pages are neither found nor
    #: counted in totals and facets.
    hidden_productions: frozenset[str] = frozenset()
    #: What tag:, note:, starred: and read: stand for, as the caller sees the team's workspace
    #: (index.marks); without it such a query is refused.
    marks: MarkKeys | None = field(default=None, compare=False, repr=False)


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
    #: For a page of a spreadsheet's rows: the spreadsheet row the first match is on, so a hit
    #: cites the row (rows are kept 50 to a page).
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DocumentHit:
    """One document of a grouped search: its best pages first, and how many pages matched."""

    production: str
    document: str
    path: str
    title: str
    matching_pages: int
    pages: list[Hit]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pages": [p.to_dict() for p in self.pages]}


@dataclass
class SearchResults:
    query: str
    total: int  # matching pages
    hits: list[Hit]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    offset: int = 0
    limit: int = 20
    backend: str = ""
    documents: list[DocumentHit] | None = None  # with by_document
    total_documents: int = 0

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "query": self.query,
            "backend": self.backend,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
        }
        if self.documents is None:
            result["hits"] = [h.to_dict() for h in self.hits]
        else:
            result["total_documents"] = self.total_documents
            result["documents"] = [d.to_dict() for d in self.documents]
        result["facets"] = self.facets
        return result


def search(catalog: Catalog, backend: SearchBackend, request: SearchRequest) -> SearchResults:
    """Run a search; raises QueryError for a query the user must fix."""
    if not 1 <= request.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    if request.offset < 0:
        raise QueryError("offset cannot be negative")
    if request.offset + request.limit > MAX_WINDOW:
        raise QueryError(
            f"results can be paged only to {MAX_WINDOW:,} (offset + limit); narrow the query"
        )
    unknown = [f for f in request.facets if f not in FACET_FIELDS]
    if unknown:
        raise QueryError(f"unknown facet {unknown[0]!r}; facets: {', '.join(FACET_FIELDS)}")
    node, (words, prefixes) = prepare(catalog, backend, request)
    facet_fields = {name: FACET_FIELDS[name] for name in request.facets}
    results = SearchResults(
        request.query, 0, [], offset=request.offset, limit=request.limit, backend=backend.name
    )
    if request.by_document:
        raw = _search_documents(
            catalog, backend, node, request, facet_fields, (words, prefixes), results
        )
    else:
        raw = backend.search(
            node,
            limit=request.limit,
            offset=request.offset,
            sort=request.sort,
            facets=facet_fields,
            facet_size=request.facet_size,
        )
        results.hits = [hit for _, hit in dress(catalog, raw.hits, words, prefixes)]
    results.total = raw.total
    results.facets = {
        name: [{"value": value, "count": count} for value, count in buckets]
        for name, buckets in raw.facets.items()
    }
    return results


def prepare(
    catalog: Catalog, backend: SearchBackend, request: SearchRequest
) -> tuple[Node, tuple[set[str], set[str]]]:
    """The query a request asks the backend, narrowed by its filters and by the productions the
    caller may not see (the one place that rule is applied), and the words to highlight."""
    if not request.query.strip() and request.filters:
        parsed: Node = MatchAll()  # browsing by facets alone
    else:
        parsed = parse(request.query)
    resolved = with_marks(resolve(parsed, catalog, backend), request.marks)
    node = _narrowed(resolved, request.filters, request.hidden_productions)
    return node, highlight_terms(parsed)


def with_marks(node: Node, marks: MarkKeys | None) -> Node:
    """The query with its workspace marks replaced by their keys; QueryError without any."""

    def refuse(mark: Mark) -> Node:
        raise QueryError(
            f"{mark.field}: searches what a team keeps in its workspace, which this search was "
            "not given (index.marks.Marks.keys)"
        )

    return replace_marks(node, marks or refuse)


def matching_pages(
    catalog: Catalog,
    backend: SearchBackend,
    query: str,
    document_id: str,
    hidden_productions: frozenset[str] = frozenset(),
    marks: MarkKeys | None = None,
) -> list[int]:
    """The numbers of a document's pages that match a query, in page order (a viewer's
    previous and next hit); raises QueryError for a query the user must fix."""
    resolved = with_marks(resolve(parse(query), catalog, backend), marks)
    node = _narrowed(resolved, (), hidden_productions)
    keys = backend.matching_keys(_within(node, document_id), MAX_WINDOW)
    return sorted(int(key.rpartition(":")[2]) for key in keys)


def parse_filter(item: str) -> tuple[str, str]:
    """'agency:ICE' -> ('agency', 'ICE'): a filter as the command line and the web API take it
    (the value is everything after the first colon, taken literally)."""
    facet, sep, value = item.partition(":")
    if not sep or facet not in FACET_FIELDS:
        raise QueryError(
            f"filter {item!r}: write facet:value, the facet one of {', '.join(FACET_FIELDS)}"
        )
    return facet, value


def facet_filter(facet: str, value: str) -> Node:
    """The query node for one facet value: what clicking it in a facet list means."""
    if facet not in FACET_FIELDS:
        raise QueryError(f"unknown facet {facet!r}; facets: {', '.join(FACET_FIELDS)}")
    if facet == "year":
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 9999):
            raise QueryError(f"year: {value!r} is not a year")
        year = int(value)
        return DateRange("released", date(year, 1, 1), date(year, 12, 31))
    normalized = normalize_keyword(value)
    if not normalized:
        raise QueryError(f"{facet}: needs a value")
    return Keyword(facet, normalized)


def _narrowed(
    node: Node, filters: Iterable[tuple[str, str]], hidden_productions: Iterable[str]
) -> Node:
    items = [node, *(facet_filter(facet, value) for facet, value in filters)]
    hidden = [Keyword("production", normalize_keyword(p)) for p in sorted(hidden_productions)]
    if hidden:
        items.append(Not(hidden[0] if len(hidden) == 1 else Or(tuple(hidden))))
    return node if len(items) == 1 else And(tuple(items))


def dress(
    catalog: Catalog, raw_hits: list[RawHit], words: set[str], prefixes: set[str]
) -> list[tuple[Document, Hit]]:
    """Paths, Bates numbers and snippets from the catalog, in two queries; hits the catalog no
    longer has (removed since the index was last synced) are dropped."""
    keys = [_key(h) for h in raw_hits]
    found = catalog.pages_for_hits(keys)
    hits = []
    for raw_hit, key in zip(raw_hits, keys, strict=True):
        if key not in found:
            continue
        document, page = found[key]
        hit = Hit(
            production=document.production_id,
            document=document.id,
            path=document.path,
            page=page.number,
            bates=page.bates[0] if page.bates else "",
            score=round(raw_hit.score, 4),
            snippet=snippet(page.text, words, prefixes),
            text_source=page.text_source,
            row=_row(page.text, words, prefixes) if document.columns else None,
        )
        hits.append((document, hit))
    return hits


def _row(text: str, words: set[str], prefixes: set[str]) -> int | None:
    line = best_line(text, words, prefixes)
    return row_of_line(text, line) if line is not None else None


def _search_documents(
    catalog: Catalog,
    backend: SearchBackend,
    node: Node,
    request: SearchRequest,
    facet_fields: dict[str, str],
    highlight: tuple[set[str], set[str]],
    results: SearchResults,
) -> RawResults:
    """--by-document: pages counted per document, documents in the order of their best page."""
    raw = backend.search(
        node,
        limit=1,
        offset=0,
        sort=request.sort,
        facets={**facet_fields, "_documents": "document"},
        facet_size=max(request.facet_size, MAX_DOCUMENT_GROUPS),
    )
    counts = dict(raw.facets.pop("_documents"))
    # the other facets at the requested size, as a plain search counts them
    raw.facets = {name: buckets[: request.facet_size] for name, buckets in raw.facets.items()}
    groups = _document_groups(backend, node, request, counts)
    # every group's pages dressed at once: one catalog round trip, not one per document
    dressed: dict[str, tuple[Document, list[Hit]]] = {}
    for document, hit in dress(catalog, [h for _, hits in groups for h in hits], *highlight):
        dressed.setdefault(document.id, (document, []))[1].append(hit)
    results.documents = []
    results.total_documents = len(counts)
    for document_id, _ in groups:
        if document_id not in dressed:
            continue
        document, pages = dressed[document_id]
        results.documents.append(
            DocumentHit(
                production=document.production_id,
                document=document.id,
                path=document.path,
                title=document.title,
                matching_pages=counts.get(document.id.lower(), len(pages)),
                pages=pages,
            )
        )
    return raw


def _key(hit: RawHit) -> tuple[str, int]:
    document_id, _, number = hit.key.rpartition(":")
    return document_id, int(number)


def _document_groups(
    backend: SearchBackend, node: Node, request: SearchRequest, counts: dict[str, int]
) -> list[tuple[str, list[RawHit]]]:
    """Documents in the order of their best page, sliced by offset and limit.

    Pages are read in the requested order in growing windows until enough distinct documents
    are seen; documents whose pages all lie beyond the deepest window follow, most pages first.
    """
    wanted = request.offset + request.limit
    groups: dict[str, list[RawHit]] = {}
    window, seen_pages = max(100, wanted * 4), 0
    while len(groups) < wanted and seen_pages < MAX_WINDOW:
        size = min(window, MAX_WINDOW) - seen_pages
        raw = backend.search(
            node, limit=size, offset=seen_pages, sort=request.sort, facets={}, facet_size=0
        )
        for raw_hit in raw.hits:
            document_id = raw_hit.key.rpartition(":")[0]
            pages = groups.setdefault(document_id, [])
            if len(pages) < PAGES_PER_DOCUMENT:
                pages.append(raw_hit)
        seen_pages += len(raw.hits)
        if len(raw.hits) < size:
            break
        window *= 4
    if len(groups) < wanted:
        seen = {d.lower() for d in groups}
        rest = sorted((-n, d) for d, n in counts.items() if d not in seen)
        for _, document_id in rest[: wanted - len(groups)]:
            raw = backend.search(
                _within(node, document_id),
                limit=1,
                offset=0,
                sort=request.sort,
                facets={},
                facet_size=0,
            )
            if raw.hits:
                groups[raw.hits[0].key.rpartition(":")[0]] = raw.hits
    return list(groups.items())[request.offset : wanted]


def _within(node: Node, document_id: str) -> Node:
    return And((node, Keyword("document", normalize_keyword(document_id))))
