"""Batch search: a list of terms (names, phrases, any query) checked against every production.

Each line is one query in the normal language; each answer says how many pages and documents
match in each production and shows the first hits. A line that is not a query gives one error
row and the batch goes on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foiarchive.index.analysis import normalize_keyword
from foiarchive.index.backend import BackendError, SearchBackend
from foiarchive.index.catalog import Catalog
from foiarchive.index.fields import FACET_FIELDS
from foiarchive.index.query import QueryError
from foiarchive.index.search import (
    MAX_DOCUMENT_GROUPS,
    Hit,
    SearchRequest,
    dress,
    prepare,
)
from foiarchive.schemas.errors import FoiarchiveError

#: A term list longer than this is refused (a batch of 1,000 takes seconds; 100,000 would
#: hold a server for minutes).
MAX_TERMS = 10_000
MAX_TERM_LIST_BYTES = 5 * 1024 * 1024
FIRST_HITS = 3
#: Fields a whole term list can be aimed at (`--field title`: each line becomes title:(line)).
TERM_FIELDS = ("text", "title", "from", "to", "subject")
HEADERS = {"query", "term", "terms", "name", "names"}


class TermListError(FoiarchiveError):
    """A term list that cannot be read at all (not one bad line: those are reported per line)."""


@dataclass
class Term:
    line: int
    query: str


@dataclass
class ProductionCount:
    production: str
    pages: int = 0
    documents: int = 0


@dataclass
class BatchResult:
    line: int
    query: str
    pages: int = 0
    documents: int = 0
    productions: list[ProductionCount] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "query": self.query,
            "pages": self.pages,
            "documents": self.documents,
            "productions": [vars(p) for p in self.productions],
            "hits": [
                {"production": h.production, "document": h.document, "path": h.path}
                | {"page": h.page, "bates": h.bates}
                for h in self.hits
            ],
            "error": self.error,
        }


def read_terms(
    name: str,
    data: bytes,
    field_name: str = "",
    *,
    max_terms: int = MAX_TERMS,
    max_bytes: int = MAX_TERM_LIST_BYTES,
) -> list[Term]:
    """The queries of a term list: a .csv file's first column, else one query a line; blank
    lines and a header cell such as 'query' or 'name' are skipped."""
    if len(data) > max_bytes:
        raise TermListError(f"{name}: larger than {_size(max_bytes)}")
    if field_name and field_name not in TERM_FIELDS:
        raise TermListError(f"--field {field_name!r}: choose one of {', '.join(TERM_FIELDS)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TermListError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if name.lower().endswith(".csv"):
        rows = csv.reader(io.StringIO(text))
        lines = [(n, row[0] if row else "") for n, row in enumerate(rows, 1)]
    else:
        lines = list(enumerate(text.splitlines(), 1))
    terms = []
    for number, value in lines:
        value = value.strip()
        if not value or (number == 1 and value.lower() in HEADERS):
            continue
        terms.append(Term(number, f"{field_name}:({value})" if field_name else value))
    if len(terms) > max_terms:
        raise TermListError(
            f"{name}: {len(terms):,} terms (non-blank lines); at most {max_terms:,} at a time"
        )
    return terms


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"


def read_term_file(path: Path, field_name: str = "") -> list[Term]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TermListError(f"{path}: cannot read the term list: {exc.strerror}") from None
    return read_terms(str(path), data, field_name)


def batch_search(
    catalog: Catalog,
    backend: SearchBackend,
    terms: Iterable[Term],
    *,
    hidden_productions: frozenset[str] = frozenset(),
    first_hits: int = FIRST_HITS,
) -> Iterator[BatchResult]:
    """One result per term, in the list's order; a term that is not a query (or that the engine
    refuses) yields a result with its error, and the batch goes on."""
    owners = {
        normalize_keyword(document): production
        for document, production in catalog.document_productions()
    }
    names = {normalize_keyword(p): p for p in set(owners.values())}
    for term in terms:
        result = BatchResult(term.line, term.query)
        request = SearchRequest(term.query, limit=first_hits, hidden_productions=hidden_productions)
        try:
            node, (words, prefixes) = prepare(catalog, backend, request)
            raw = backend.search(
                node,
                limit=first_hits,
                offset=0,
                sort="relevance",
                facets={"production": FACET_FIELDS["production"], "document": "document"},
                facet_size=MAX_DOCUMENT_GROUPS,
            )
        except (QueryError, BackendError) as exc:
            result.error = str(exc)
            yield result
            continue
        _fill(result, raw.total, raw.facets, owners, names)
        result.hits = [hit for _, hit in dress(catalog, raw.hits, words, prefixes)]
        yield result


def _fill(
    result: BatchResult,
    total: int,
    facets: dict[str, list[tuple[str, int]]],
    owners: dict[str, str],
    names: dict[str, str],
) -> None:
    """Pages per production from the production facet; documents per production by counting
    the document facet's values under the production each belongs to (the catalog's)."""
    counts = {
        names.get(value, value): ProductionCount(names.get(value, value), pages=pages)
        for value, pages in facets.get("production", [])
    }
    documents = facets.get("document", [])
    for document, _ in documents:
        owner = owners.get(document)
        if owner is not None:
            counts.setdefault(owner, ProductionCount(owner)).documents += 1
    result.pages = total
    result.documents = len(documents)
    result.productions = sorted(counts.values(), key=lambda c: (-c.pages, c.production))


BATCH_COLUMNS: tuple[str, ...] = (
    "line",
    "query",
    "pages",
    "documents",
    "production",
    "production_pages",
    "production_documents",
    "first_hits",
    "error",
)


def batch_rows(results: Iterable[BatchResult]) -> Iterator[dict[str, Any]]:
    """One row per query and production it matches in (one row for a query without matches,
    one for an error): a table a spreadsheet filters and sums."""
    for result in results:
        base = {
            "line": result.line,
            "query": result.query,
            "pages": result.pages,
            "documents": result.documents,
            "first_hits": " | ".join(
                f"{h.production} {h.path} p.{h.page}" + (f" {h.bates}" if h.bates else "")
                for h in result.hits
            ),
            "error": result.error,
        }
        if not result.productions:
            yield base
        for count in result.productions:
            yield {
                **base,
                "production": count.production,
                "production_pages": count.pages,
                "production_documents": count.documents,
            }
