"""The scale-out search backend: an Elasticsearch index behind an alias.

Searches go to the alias (default `foiarchive-pages`); the alias points at one physical index
(`foiarchive-pages-20261128t193000-1a2b3c`), whose name is this backend's generation. A rebuild
fills a new physical index and swaps the alias in one atomic step, so searches keep answering
from the old index until the new one is complete. Works on the minimal test distribution:
standard analyzer only, no scripts, no delete-by-query (stale pages are found and deleted by id).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import elasticsearch
from elasticsearch import helpers

from foiarchive.index.analysis import normalize_keyword
from foiarchive.index.backend import (
    BackendError,
    ClosedOnExit,
    RawHit,
    RawResults,
    Sort,
    bucket_key,
)
from foiarchive.index.catalog import IndexablePage
from foiarchive.index.fields import analyzed_text, page_fields
from foiarchive.index.query import (
    DATE_FIELDS,
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
from foiarchive.index.settings import ElasticsearchSettings
from foiarchive.schemas import elasticsearch_mapping

#: Bump when the mapping changes: an index of another version is rebuilt from the catalog.
MAPPING_VERSION = "3"  # 2: email fields; 3: leak kinds
BULK_CHUNK_PAGES = 500
BULK_CHUNK_BYTES = 10 * 1024 * 1024
BULK_RETRIES = 5
#: Physical indexes left behind by a crashed rebuild are removed after this long.
ORPHAN_AGE = timedelta(days=1)
_PAGE = 10_000  # keys fetched per request when listing matches
_PIT_KEEP_ALIVE = "2m"  # between two batches of a scan (an export writing a slow disk)


class ElasticsearchBackend(ClosedOnExit):
    """Search over pages in an Elasticsearch cluster; safe with several writers."""

    name = "elasticsearch"

    def __init__(self, settings: ElasticsearchSettings, *, writable: bool = False) -> None:
        self.settings = settings
        self.alias = settings.index
        self.where = f"Elasticsearch at {_without_credentials(settings.url)}"
        # the client takes its own "not given" for a missing CA bundle, never None
        tls: dict[str, Any] = {"ca_certs": settings.ca_certs} if settings.ca_certs else {}
        try:
            self._client = elasticsearch.Elasticsearch(
                settings.url,
                api_key=settings.api_key,
                **tls,
                request_timeout=settings.timeout,
                max_retries=3,
                retry_on_timeout=True,
            )
        except ValueError as exc:  # e.g. TLS options with an http:// URL
            raise BackendError(f"{self.where}: {exc}") from None
        self._rebuild_index: str | None = None
        self._older_mapping = ""  # the mapping version of an index of another foiarchive
        self._generation = self._current_index()
        if self._generation is None and writable:
            self._generation = self._create_index()
            with self._calls():
                self._client.indices.update_aliases(
                    actions=[{"add": {"index": self._generation, "alias": self.alias}}]
                )
        elif self._generation is None and self._older_mapping:
            raise BackendError(
                f"{self.where}: the search index '{self.alias}' was built by another version "
                f"of foiarchive (mapping {self._older_mapping}, this one reads "
                f"{MAPPING_VERSION}); run 'foiarchive reindex --backend elasticsearch'"
            )
        elif self._generation is None:
            raise BackendError(
                f"{self.where}: no search index '{self.alias}' yet; run "
                "'foiarchive reindex --backend elasticsearch'"
            )

    @property
    def generation(self) -> str:
        return self._generation or ""

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _calls(self) -> Iterator[None]:
        """Every failure of the cluster becomes one BackendError line naming it."""
        try:
            yield
        except elasticsearch.ConnectionError as exc:
            raise BackendError(f"{self.where} is not reachable ({_reason(exc)})") from None
        except (elasticsearch.AuthenticationException, elasticsearch.AuthorizationException):
            raise BackendError(f"{self.where} refused the credentials (check api_key)") from None
        except elasticsearch.ApiError as exc:
            raise BackendError(f"{self.where}: {exc.meta.status} {_reason(exc)}") from None
        except elasticsearch.TransportError as exc:
            raise BackendError(f"{self.where}: {_reason(exc)}") from None

    def _current_index(self) -> str | None:
        """The physical index behind the alias, if it is one of ours and of this mapping."""
        with self._calls():
            found = self._client.options(ignore_status=404).indices.get_alias(name=self.alias)
            if found.meta.status == 404:
                return None
            names = sorted(found.body)
            if len(names) != 1:
                raise BackendError(
                    f"{self.where}: alias '{self.alias}' points at {len(names)} indexes"
                )
            mapping = self._client.indices.get_mapping(index=names[0]).body
        meta = mapping[names[0]]["mappings"].get("_meta", {})
        if meta.get("foiarchive_mapping") == MAPPING_VERSION:
            return names[0]
        self._older_mapping = str(meta.get("foiarchive_mapping", "none"))
        return None

    def _create_index(self, *, bulk_load: bool = False) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dt%H%M%S")
        name = f"{self.alias}-{stamp}-{uuid.uuid4().hex[:6]}"
        definition = elasticsearch_mapping()
        definition["mappings"]["_meta"] = {"foiarchive_mapping": MAPPING_VERSION}
        index_settings = definition["settings"]["index"]
        index_settings["number_of_shards"] = self.settings.shards
        if bulk_load:
            index_settings["refresh_interval"] = "-1"
        with self._calls():
            self._client.indices.create(index=name, **definition)
        return name

    # -- writing ----------------------------------------------------------------------------
    def begin_rebuild(self) -> None:
        self._rebuild_index = self._create_index(bulk_load=True)

    def replace(self, document_ids: Sequence[str], pages: Sequence[IndexablePage]) -> None:
        target = self._rebuild_index or self.generation
        actions: list[dict[str, Any]] = []
        new_keys = {item.key for item in pages}
        if self._rebuild_index is None and document_ids:
            documents = sorted({d.lower() for d in document_ids})
            stale = self._keys({"terms": {"document": documents}}, index=target) - new_keys
            actions.extend({"_op_type": "delete", "_index": target, "_id": key} for key in stale)
        for item in pages:
            fields = page_fields(item)
            fields.update(analyzed_text(fields))
            for name in DATE_FIELDS:
                if fields[name] is not None:
                    fields[name] = fields[name].isoformat()
            actions.append({"_index": target, "_id": item.key, "_source": fields})
        self._bulk(actions)

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        failures: list[str] = []
        with self._calls():
            for ok, result in helpers.streaming_bulk(
                self._client,
                actions,
                chunk_size=BULK_CHUNK_PAGES,
                max_chunk_bytes=BULK_CHUNK_BYTES,
                max_retries=BULK_RETRIES,
                initial_backoff=1,
                max_backoff=30,
                raise_on_error=False,
                yield_ok=False,
            ):
                ((operation, detail),) = result.items()
                if operation == "delete" and detail.get("status") == 404:
                    continue  # already gone
                if not ok:
                    failures.append(f"{detail.get('_id')}: {_reason_of(detail.get('error'))}")
        if failures:
            raise BackendError(
                f"{self.where}: {len(failures)} pages not indexed (first: {failures[0]})"
            )

    def commit(self) -> None:
        with self._calls():
            if self._rebuild_index is None:
                self._client.indices.refresh(index=self.generation)
                return
            new = self._rebuild_index
            self._client.indices.put_settings(index=new, settings={"refresh_interval": None})
            self._client.indices.refresh(index=new)
            found = self._client.options(ignore_status=404).indices.get_alias(name=self.alias)
            old = sorted(found.body) if found.meta.status != 404 else []
            actions: list[dict[str, Any]] = [
                {"remove": {"index": o, "alias": self.alias}} for o in old
            ]
            actions.append({"add": {"index": new, "alias": self.alias}})
            self._client.indices.update_aliases(actions=actions)
            for index_name in old:
                self._client.options(ignore_status=404).indices.delete(index=index_name)
            self._remove_orphans(keep=new)
        self._generation, self._rebuild_index = new, None

    def _remove_orphans(self, keep: str) -> None:
        """Drop physical indexes a crashed rebuild left behind (old enough not to be running)."""
        pattern = re.compile(re.escape(self.alias) + r"-\d{8}t\d{6}-[0-9a-f]{6}")
        listing = self._client.indices.get_settings(
            index=f"{self.alias}-*", name="index.creation_date", expand_wildcards="open"
        ).body
        cutoff = (datetime.now(UTC) - ORPHAN_AGE).timestamp() * 1000
        for index_name, data in listing.items():
            created = int(data["settings"]["index"]["creation_date"])
            if index_name != keep and pattern.fullmatch(index_name) and created < cutoff:
                self._client.options(ignore_status=404).indices.delete(index=index_name)

    def close(self) -> None:
        if self._rebuild_index is not None:  # an unfinished rebuild is of no use to anyone
            with self._calls():
                self._client.options(ignore_status=404).indices.delete(index=self._rebuild_index)
            self._rebuild_index = None
        self._client.close()

    # -- searching --------------------------------------------------------------------------
    def count(self) -> int:
        with self._calls():
            return int(self._client.count(index=self.alias)["count"])

    def matching_keys(self, query: Node, cap: int) -> list[str]:
        return sorted(self._keys(compile_query(query), index=self.alias, cap=cap))

    def _keys(self, query: dict[str, Any], *, index: str, cap: int | None = None) -> set[str]:
        """Every matching page key (up to cap), in pages of 10,000 sorted by key."""
        keys: set[str] = set()
        after: list[Any] | None = None
        with self._calls():
            while cap is None or len(keys) < cap:
                size = _PAGE if cap is None else min(_PAGE, cap - len(keys))
                body: dict[str, Any] = {"query": query, "size": size, "sort": [{"key": "asc"}]}
                if after is not None:
                    body["search_after"] = after
                hits = self._client.search(index=index, source=False, **body)["hits"]["hits"]
                keys.update(hit["_id"] for hit in hits)
                if len(hits) < size:
                    break
                after = hits[-1]["sort"]
        return keys

    def scan(self, query: Node, batch: int) -> Iterator[list[str]]:
        """A point in time (one snapshot, whatever is indexed meanwhile) read with search_after
        in (document, page) order: no request goes deeper than one batch."""
        compiled = compile_query(query)
        with self._calls():
            pit = self._client.open_point_in_time(index=self.alias, keep_alive=_PIT_KEEP_ALIVE)
        pit_id = pit["id"]
        try:
            after: list[Any] | None = None
            while True:
                body: dict[str, Any] = {
                    "query": compiled,
                    "size": batch,
                    "sort": [{"document": "asc"}, {"page": "asc"}, {"_shard_doc": "asc"}],
                    "pit": {"id": pit_id, "keep_alive": _PIT_KEEP_ALIVE},
                    "track_total_hits": False,
                }
                if after is not None:
                    body["search_after"] = after
                with self._calls():
                    response = self._client.search(source=False, **body)
                pit_id = response.get("pit_id", pit_id)
                hits = response["hits"]["hits"]
                if hits:
                    yield [hit["_id"] for hit in hits]
                if len(hits) < batch:
                    return
                after = hits[-1]["sort"]
        finally:
            with self._calls():
                self._client.options(ignore_status=404).close_point_in_time(id=pit_id)

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
        body: dict[str, Any] = {
            "query": compile_query(query),
            "from": offset,
            "size": limit,
            "track_total_hits": True,
        }
        if sort != "relevance":
            order = "desc" if sort == "-released" else "asc"
            body["sort"] = [{"released": {"order": order}}, {"key": "asc"}]
        if facets:
            body["aggs"] = {
                name: {"terms": {"field": field, "size": facet_size}}
                for name, field in facets.items()
            }
        with self._calls():
            response = self._client.search(index=self.alias, source=False, **body)
        hits = [
            RawHit(key=hit["_id"], score=float(hit["_score"] or 0.0))
            for hit in response["hits"]["hits"]
        ]
        facet_counts = {
            name: [
                (bucket_key(b["key"]), int(b["doc_count"]))
                for b in response.get("aggregations", {}).get(name, {}).get("buckets", [])
            ]
            for name in facets
        }
        total = int(response["hits"]["total"]["value"])
        return RawResults(total=total, hits=hits, facets=facet_counts)


# -- AST -> Elasticsearch query DSL ---------------------------------------------------------
def _filter(query: dict[str, Any]) -> dict[str, Any]:
    """Filters narrow the hits without moving their relevance scores."""
    return {"bool": {"filter": [query]}}


def compile_query(node: Node) -> dict[str, Any]:
    """Translate the query AST into the query DSL (as data; never through query_string)."""
    match node:
        case MatchAll():
            return {"match_all": {}}
        case Text(field=field, terms=(term,)):
            return {"term": {field: term}}
        case Text(field=field, terms=terms, slop=slop):
            # The terms are already analyzed; the standard analyzer splits them identically.
            return {"match_phrase": {field: {"query": " ".join(terms), "slop": slop}}}
        case TextPrefix(field=field, prefix=prefix):
            return {"prefix": {field: {"value": prefix}}}
        case Keyword(field=field, value=value, prefix=True):
            return _filter({"prefix": {field: {"value": value}}})
        case Keyword(field=field, value=value):
            return _filter({"term": {field: value}})
        case Flag(field=field, value=value):
            return _filter({"term": {field: value}})
        case DateRange(field=field, start=None, end=None):
            return _filter({"exists": {"field": field}})  # open at both ends: has a value
        case DateRange(field=field, start=start, end=end):
            bounds: dict[str, Any] = {"format": "strict_date"}
            if start:
                bounds["gte"] = start.isoformat()
            if end:
                bounds["lte"] = end.isoformat()
            return _filter({"range": {field: bounds}})
        case PageKeys(keys=keys):
            return _filter({"terms": {"key": sorted(keys)}})
        case DocumentKeys(keys=keys):
            return _filter({"terms": {"document": sorted({normalize_keyword(k) for k in keys})}})
        case And(items=items):
            return {
                "bool": {
                    "must": [compile_query(i) for i in items if not isinstance(i, Not)],
                    "must_not": [compile_query(i.item) for i in items if isinstance(i, Not)],
                }
            }
        case Or(items=items):
            return {
                "bool": {"should": [compile_query(i) for i in items], "minimum_should_match": 1}
            }
        case Not(item=item):
            return {"bool": {"must": [{"match_all": {}}], "must_not": [compile_query(item)]}}
    raise TypeError(f"unknown query node {node!r}")


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _reason(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and "error" in body:
        return _reason_of(body["error"])
    message = getattr(exc, "message", None) or str(exc)
    return str(message).splitlines()[0][:300]


def _reason_of(error: Any) -> str:
    if isinstance(error, dict):
        root = (error.get("root_cause") or [error])[0]
        return f"{root.get('type', 'error')}: {root.get('reason', '')}"[:300]
    return str(error)[:300]
