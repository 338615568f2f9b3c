"""The interface every search backend implements, and the shapes they return."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Self

from foiarchive.index.catalog import IndexablePage
from foiarchive.index.query import Node
from foiarchive.schemas.errors import FoiarchiveError

Sort = Literal["relevance", "released", "-released"]


class BackendError(FoiarchiveError, RuntimeError):
    """The search backend cannot serve the request (missing index, server down, ...)."""


@dataclass
class RawHit:
    key: str  # "<document id>:<page number>"
    score: float


@dataclass
class RawResults:
    total: int
    hits: list[RawHit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def page_order(key: str) -> tuple[str, int]:
    """A page key's place in a scan: its document, then its page number (not "10" < "2")."""
    document_id, _, number = key.rpartition(":")
    return document_id.lower(), int(number)


def bucket_key(value: object) -> str:
    """A facet bucket's value as text: 2017, not 2017.0, whichever engine counted it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class ClosedOnExit:
    """`with backend:` closes it at the end of the block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SearchBackend(Protocol):
    name: str

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    @property
    def generation(self) -> str:
        """An id for this physical index; it changes when the index is created anew."""
        ...

    def replace(self, document_ids: Sequence[str], pages: Sequence[IndexablePage]) -> None:
        """Drop every page of these documents, then add these pages (not yet visible)."""
        ...

    def commit(self) -> None:
        """Make everything replaced so far durable and visible to searches."""
        ...

    def begin_rebuild(self) -> None:
        """Start filling the index anew; searches see the old contents until `commit`."""
        ...

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
        """Pages matching `query`; `facets` maps a facet's name to the index field it counts."""
        ...

    def matching_keys(self, query: Node, cap: int) -> list[str]:
        """The keys of every matching page, at most `cap` of them (in no particular order)."""
        ...

    def scan(self, query: Node, batch: int) -> Iterator[list[str]]:
        """The keys of every matching page, in batches of about `batch`, in document then page
        order (a document's pages together), from one snapshot of the index and without deep
        offsets: memory stays that of one batch however many pages match."""
        ...

    def count(self) -> int:
        """Pages in the index."""
        ...

    def close(self) -> None: ...
