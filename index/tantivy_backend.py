"""The embedded search backend: a Tantivy index in ARCHIVE/search, no server."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import tantivy

from foiarchive.index.analysis import normalize_keyword
from foiarchive.index.backend import (
    BackendError,
    ClosedOnExit,
    RawHit,
    RawResults,
    Sort,
    bucket_key,
    page_order,
)
from foiarchive.index.catalog import IndexablePage
from foiarchive.index.fields import analyzed_text, page_fields
from foiarchive.index.query import (
    TEXT_FIELDS,
    And,
    DateRange,
    DocumentKeys,
    Flag,
    Keyword,
    MatchAll,
    Node,
    Not,
    Or,
    PageKeys,
    Text,
    TextPrefix,
)

#: Bump when the schema below changes: an index of another version is rebuilt from the catalog.
# 2: lowercasing as Lucene does (İ, final Σ); 3: email fields; 4: leak kinds
SCHEMA_VERSION = "4"
_TERMS_TOKENIZER = "foiarchive_terms"
_KEYWORD_FIELDS = (
    "key",
    "document",
    "production",
    "agency",
    "agency_label",
    "bates",
    "exemption",
    "source",
    "type",
    "leak",
)
_WRITER_HEAP = 128 * 1024 * 1024
#: Documents a scan asks the composite aggregation for at a time (its cursor is after_key).
_SCAN_DOCUMENTS = 1000


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in _KEYWORD_FIELDS:
        builder.add_text_field(name, stored=name == "key", fast=name != "key", tokenizer_name="raw")
    # Text arrives as analyzer terms joined by spaces (index.analysis.index_text).
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=_TERMS_TOKENIZER)
    builder.add_integer_field("page", stored=True, indexed=True, fast=True)
    builder.add_boolean_field("redacted", indexed=True, fast=True)
    builder.add_boolean_field("withheld", indexed=True, fast=True)
    builder.add_date_field("released", indexed=True, fast=True)
    builder.add_date_field("sent", indexed=True, fast=True)
    builder.add_integer_field("year", indexed=True, fast=True)
    return builder.build()


class TantivyBackend(ClosedOnExit):
    """Search over pages in an on-disk Tantivy index; one writer at a time, many readers."""

    name = "tantivy"

    def __init__(self, path: Path, *, writable: bool = False) -> None:
        self.path = path
        self._schema = _schema()
        marker = path / "foiarchive-index.txt"
        if writable:
            fresh = not marker.exists() or not marker.read_text().startswith(SCHEMA_VERSION + " ")
            if fresh and path.exists():
                for child in path.iterdir():
                    if child.is_file():
                        child.unlink()
            path.mkdir(parents=True, exist_ok=True)
            if fresh:
                marker.write_text(f"{SCHEMA_VERSION} {uuid.uuid4().hex}\n")
        elif not marker.exists():
            raise BackendError(
                f"{path}: no search index yet; ingest a production or run 'foiarchive reindex'"
            )
        self._generation = marker.read_text().strip()
        try:
            self._index = tantivy.Index(self._schema, path=str(path), reuse=True)
        except (OSError, ValueError) as exc:
            raise BackendError(f"{path}: cannot open the search index: {exc}") from None
        self._index.register_tokenizer(
            _TERMS_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
        )
        self._writer: Any = None
        self._seen_commit: int | None = None

    @property
    def generation(self) -> str:
        return self._generation

    # -- writing ------------------------------------------------------------------------
    def _get_writer(self) -> Any:
        if self._writer is None:
            try:
                self._writer = self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
            except ValueError as exc:
                raise BackendError(
                    f"{self.path}: the search index is locked by another foiarchive process ({exc})"
                ) from None
        return self._writer

    def replace(self, document_ids: Sequence[str], pages: Sequence[IndexablePage]) -> None:
        writer = self._get_writer()
        for document_id in document_ids:
            writer.delete_documents_by_term("document", document_id.lower())
        for item in pages:
            writer.add_document(_to_tantivy(page_fields(item)))

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._index.reload()

    def begin_rebuild(self) -> None:
        # Readers keep seeing the old contents until the rebuild's commit.
        self._get_writer().delete_all_documents()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None

    # -- searching ----------------------------------------------------------------------
    def _searcher(self) -> Any:
        """A searcher on the latest commit, also one made by another process since this one
        opened the index (an ingest beside a running web server): Tantivy's reader only
        reloads when told; meta.json changes with every commit, and a stat costs microseconds."""
        try:
            commit = (self.path / "meta.json").stat().st_mtime_ns
        except OSError:
            commit = None
        if commit != self._seen_commit:
            self._index.reload()
            self._seen_commit = commit
        return self._index.searcher()

    def count(self) -> int:
        return self._searcher().num_docs

    def matching_keys(self, query: Node, cap: int) -> list[str]:
        searcher = self._searcher()
        result = searcher.search(compile_query(query, self._schema), limit=cap)
        return sorted(searcher.doc(address).get_first("key") for _, address in result.hits)

    def scan(self, query: Node, batch: int) -> Iterator[list[str]]:
        """Documents come from a composite aggregation over the matches, a cursor that resumes
        after the last document seen (after_key), with their page counts; each run of documents
        holding about `batch` pages is then searched alone, so no search goes deeper than it."""
        compiled = compile_query(query, self._schema)
        searcher = self._searcher()  # one snapshot for the whole scan
        after: Any = None
        while True:
            composite: dict[str, Any] = {
                "sources": [{"document": {"terms": {"field": "document"}}}],
                "size": _SCAN_DOCUMENTS,
            }
            if after is not None:
                composite["after"] = after
            found = searcher.aggregate(compiled, {"documents": {"composite": composite}})
            buckets = found.get("documents", {}).get("buckets", [])
            for run in _runs([(b["key"]["document"], int(b["doc_count"])) for b in buckets], batch):
                within = tantivy.Query.term_set_query(self._schema, "document", [d for d, _ in run])
                narrowed = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, compiled), (tantivy.Occur.Must, _filter(within))]
                )
                result = searcher.search(narrowed, limit=sum(n for _, n in run))
                keys = [searcher.doc(address).get_first("key") for _, address in result.hits]
                yield sorted(keys, key=page_order)
            after = found.get("documents", {}).get("after_key")
            if len(buckets) < _SCAN_DOCUMENTS or after is None:
                return

    def search(
        self,
        query: Node,
        *,
        limit: int,
        offset: int,
        sort: Sort,
        facets: Mapping[str, str],
        facet_size: int,
    ) -> RawResults:
        compiled = compile_query(query, self._schema)
        searcher = self._searcher()
        options: dict[str, Any] = {"limit": limit, "offset": offset, "count": True}
        if sort != "relevance":
            options["order_by_field"] = "released"
            options["order"] = tantivy.Order.Desc if sort == "-released" else tantivy.Order.Asc
        try:
            result = searcher.search(compiled, **options)
        except ValueError as exc:
            raise BackendError(f"search failed: {exc}") from None
        hits = []
        for order_key, address in result.hits:
            key = searcher.doc(address).get_first("key")
            score = float(order_key) if sort == "relevance" else 0.0
            hits.append(RawHit(key=key, score=score))
        facet_counts: dict[str, list[tuple[str, int]]] = {}
        if facets:
            spec = {
                name: {"terms": {"field": field, "size": facet_size}}
                for name, field in facets.items()
            }
            aggregations = searcher.aggregate(compiled, spec)
            for name in facets:
                buckets = aggregations.get(name, {}).get("buckets", [])
                facet_counts[name] = [(bucket_key(b["key"]), int(b["doc_count"])) for b in buckets]
        return RawResults(total=result.count or 0, hits=hits, facets=facet_counts)


def _runs(counts: list[tuple[str, int]], batch: int) -> Iterator[list[tuple[str, int]]]:
    """Consecutive documents grouped so that each group holds about `batch` pages (a larger
    document alone)."""
    run: list[tuple[str, int]] = []
    pages = 0
    for document, count in counts:
        if run and pages + count > batch:
            yield run
            run, pages = [], 0
        run.append((document, count))
        pages += count
    if run:
        yield run


def _to_tantivy(fields: dict[str, Any]) -> tantivy.Document:
    doc = tantivy.Document()
    for name in _KEYWORD_FIELDS:
        values = fields[name]
        for value in values if isinstance(values, list) else [values]:
            if value:
                doc.add_text(name, value)
    for name, terms in analyzed_text(fields).items():
        if terms:
            doc.add_text(name, terms)
    doc.add_integer("page", fields["page"])
    doc.add_boolean("redacted", fields["redacted"])
    doc.add_boolean("withheld", fields["withheld"])
    for name in ("released", "sent"):
        day = fields[name]
        if day is not None:
            doc.add_date(name, dt.datetime(day.year, day.month, day.day))
    if fields["year"] is not None:
        doc.add_integer("year", fields["year"])
    return doc


# -- AST -> Tantivy query -----------------------------------------------------------------
_REGEX_META = set('\\.+*?()|[]{}^$#&-~"')


def _regex_escape(value: str) -> str:
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in value)


def _filter(query: tantivy.Query) -> tantivy.Query:
    """Filters narrow the hits without moving their relevance scores."""
    return tantivy.Query.const_score_query(query, 0.0)


def compile_query(node: Node, schema: tantivy.Schema) -> tantivy.Query:
    """Translate the query AST into Tantivy Query objects (never through Tantivy's parser)."""
    Q = tantivy.Query
    match node:
        case MatchAll():
            return Q.all_query()
        case Text(field=field, terms=(term,)):
            return Q.term_query(schema, field, term)
        case Text(field=field, terms=terms, slop=slop):
            return Q.phrase_query(schema, field, list(terms), slop)
        case TextPrefix(field=field, prefix=prefix):
            return Q.regex_query(schema, field, _regex_escape(prefix) + ".*")
        case Keyword(field=field, value=value, prefix=True):
            return _filter(Q.regex_query(schema, field, _regex_escape(value) + ".*"))
        case Keyword(field=field, value=value):
            return _filter(Q.term_query(schema, field, value))
        case Flag(field=field, value=value):
            return _filter(Q.term_query(schema, field, value))
        case DateRange(field=field, start=None, end=None):
            # A range open at both ends means "has a value"; Tantivy refuses a range query
            # without bounds, so the date's fast column answers instead.
            return _filter(Q.exists_query(field))
        case DateRange(field=field, start=start, end=end):
            low = dt.datetime(start.year, start.month, start.day) if start else None
            high = dt.datetime(end.year, end.month, end.day) if end else None
            return _filter(Q.range_query(schema, field, tantivy.FieldType.Date, low, high))
        case PageKeys(keys=keys):
            return _filter(Q.term_set_query(schema, "key", sorted(keys)))
        case DocumentKeys(keys=keys):
            ids = sorted({normalize_keyword(k) for k in keys})
            return _filter(Q.term_set_query(schema, "document", ids))
        case And(items=items):
            return Q.boolean_query([_clause(item, schema, tantivy.Occur.Must) for item in items])
        case Or(items=items):
            return Q.boolean_query(
                [(tantivy.Occur.Should, compile_query(i, schema)) for i in items]
            )
        case Not():
            return Q.boolean_query(
                [(tantivy.Occur.Must, Q.all_query()), _clause(node, schema, tantivy.Occur.Must)]
            )
    raise TypeError(f"unknown query node {node!r}")


def _clause(node: Node, schema: tantivy.Schema, occur: Any) -> tuple[Any, tantivy.Query]:
    if isinstance(node, Not):
        return (tantivy.Occur.MustNot, compile_query(node.item, schema))
    return (occur, compile_query(node, schema))
