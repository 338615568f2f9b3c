"""Every hit of a query, streamed: what a researcher pulls into a spreadsheet.

`search` pages through at most 10,000 hits; an export reads the backend's scan (a cursor on
both engines, never a deep offset) batch by batch and dresses each batch from the catalog, so
its memory is that of one batch whether 10 pages match or a million.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import quote, urlencode

from foiarchive.index.backend import SearchBackend
from foiarchive.index.catalog import Catalog
from foiarchive.index.highlight import snippet
from foiarchive.index.search import SearchRequest, prepare

#: What a team keeps on the documents of the rows (with `marks`).
MARK_COLUMNS = ("tags", "notes", "starred")
#: The marks of documents, by document id (index.marks.Marks.summary for one viewer).
MarksOf = Callable[[list[str]], Mapping[str, Any]]
#: Pages dressed from the catalog at a time: one SQL statement of 2 x 500 bound values.
EXPORT_BATCH = 500

PAGE_COLUMNS = (
    "production",
    "document",
    "path",
    "page",
    "bates",
    "exemptions",
    "redacted",
    "withheld",
    "released",
    "text_source",
    "snippet",
    "link",
)
DOCUMENT_COLUMNS = (
    "production",
    "document",
    "path",
    "title",
    "matching_pages",
    "pages",
    "bates_first",
    "bates_last",
    "exemptions",
    "redacted_pages",
    "released",
    "link",
)


@dataclass
class PageRow:
    production: str
    document: str
    path: str
    page: int
    bates: str
    exemptions: str  # "b6 b7c"
    redacted: bool
    withheld: bool
    released: str
    text_source: str
    snippet: str
    link: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DocumentRow:
    production: str
    document: str
    path: str
    title: str
    released: str
    link: str = ""
    page_numbers: list[int] = field(default_factory=list)
    bates: list[str] = field(default_factory=list)
    exemption_codes: set[str] = field(default_factory=set)
    redacted_pages: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "production": self.production,
            "document": self.document,
            "path": self.path,
            "title": self.title,
            "matching_pages": len(self.page_numbers),
            "pages": " ".join(map(str, self.page_numbers)),
            "bates_first": self.bates[0] if self.bates else "",
            "bates_last": self.bates[-1] if self.bates else "",
            "exemptions": " ".join(sorted(self.exemption_codes)),
            "redacted_pages": self.redacted_pages,
            "released": self.released,
            "link": self.link,
        }


def viewer_link(base_url: str, document_id: str, page: int, query: str) -> str:
    """The web viewer's address of a page with the query's matches marked, or "" without a
    base URL."""
    if not base_url:
        return ""
    path = f"/documents/{quote(document_id, safe='')}"
    return base_url.rstrip("/") + path + "?" + urlencode({"page": page, "q": query})


def export_pages(
    catalog: Catalog,
    backend: SearchBackend,
    request: SearchRequest,
    *,
    base_url: str = "",
    batch: int = EXPORT_BATCH,
) -> Iterator[PageRow]:
    """Every page matching the request (its filters and hidden productions apply, its limit
    and offset do not), in document then page order; raises QueryError for a bad query."""
    node, highlight = prepare(catalog, backend, request)
    for keys in backend.scan(node, batch):
        yield from dress_pages(catalog, keys, highlight, request, base_url)


def dress_pages(
    catalog: Catalog,
    keys: list[str],
    highlight: tuple[set[str], set[str]],
    request: SearchRequest,
    base_url: str = "",
) -> list[PageRow]:
    """One batch of page keys as rows, from the catalog in three queries; pages the catalog no
    longer has (removed since the index was synced) are left out."""
    wanted = [page_order_key(key) for key in keys]
    found = catalog.pages_for_hits(wanted, marks=True)
    releases: dict[str, str] = {}
    for document, _ in found.values():
        if document.production_id not in releases:
            production = catalog.production(document.production_id)
            releases[document.production_id] = production.release_date if production else ""
    rows = []
    for key in wanted:
        if key not in found:
            continue
        document, page = found[key]
        rows.append(
            PageRow(
                production=document.production_id,
                document=document.id,
                path=document.path,
                page=page.number,
                bates=page.bates[0] if page.bates else "",
                exemptions=" ".join(page.exemptions),
                redacted=bool(page.redactions),
                withheld=page.withheld_in_full,
                released=str(releases.get(document.production_id) or ""),
                text_source=page.text_source,
                snippet=snippet(page.text, *highlight),
                link=viewer_link(base_url, document.id, page.number, request.query),
            )
        )
    return rows


def page_order_key(key: str) -> tuple[str, int]:
    """'<document id>:<page>' -> (document id, page)."""
    document_id, _, number = key.rpartition(":")
    return document_id, int(number)


def export_documents(
    catalog: Catalog,
    backend: SearchBackend,
    request: SearchRequest,
    *,
    base_url: str = "",
    batch: int = EXPORT_BATCH,
) -> Iterator[DocumentRow]:
    """Every document with a matching page, once, with its matching pages: a scan gives a
    document's pages together, so one document is held at a time."""
    current: DocumentRow | None = None
    for row in export_pages(catalog, backend, request, base_url=base_url, batch=batch):
        if current is None or current.document != row.document:
            if current is not None:
                yield current
            document = catalog.document(row.document)
            current = DocumentRow(
                production=row.production,
                document=row.document,
                path=row.path,
                title=document.title if document else "",
                released=row.released,
                link=viewer_link(base_url, row.document, row.page, request.query),
            )
        current.page_numbers.append(row.page)
        if row.bates:
            current.bates.append(row.bates)
        current.exemption_codes.update(row.exemptions.split())
        current.redacted_pages += row.redacted
    if current is not None:
        yield current


def export_rows(
    catalog: Catalog,
    backend: SearchBackend,
    request: SearchRequest,
    *,
    by_document: bool = False,
    base_url: str = "",
    marks: MarksOf | None = None,
) -> tuple[tuple[str, ...], Iterator[dict[str, Any]]]:
    """The columns and the rows of an export, one a page or one a document (for a table);
    with `marks` (index.marks.Marks.summary for one viewer) each row also carries its
    document's tags, how many notes it has and whether it is starred."""
    if by_document:
        documents = export_documents(catalog, backend, request, base_url=base_url)
        columns, rows = DOCUMENT_COLUMNS, (d.to_dict() for d in documents)
    else:
        pages = export_pages(catalog, backend, request, base_url=base_url)
        columns, rows = PAGE_COLUMNS, (p.to_dict() for p in pages)
    if marks is None:
        return columns, rows
    return columns + MARK_COLUMNS, _with_marks(rows, marks)


def _with_marks(rows: Iterator[dict[str, Any]], marks: MarksOf) -> Iterator[dict[str, Any]]:
    """The rows with their documents' marks, looked up a batch of rows at a time."""
    while batch := list(islice(rows, EXPORT_BATCH)):
        found = marks([row["document"] for row in batch])
        for row in batch:
            kept = found.get(row["document"])
            row["tags"] = "; ".join(kept.tags) if kept else ""
            row["notes"] = kept.notes if kept else 0
            row["starred"] = bool(kept and kept.starred)
        yield from batch
