"""Proximity searches both engines cannot be trusted to answer alike, answered here once.

`"a b"~N` and exact phrases are compiled natively: Tantivy and Lucene agree on them. With three
or more words, or a repeated word, Tantivy's sloppy phrase matching is greedy: it misses
matches Lucene finds, and which ones depends on the order of positions. So those searches are
resolved before any engine sees them: the engine lists the pages holding every word, and this
module keeps the pages where the words fit Lucene's definition of `~N` (each word's position
minus its place in the phrase, all within N of each other, each word on its own position),
reading positions from the catalog's text. The engines then receive an exact set of pages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

from foiarchive.index.analysis import terms
from foiarchive.index.backend import SearchBackend
from foiarchive.index.catalog import Catalog
from foiarchive.index.fields import page_fields
from foiarchive.index.query import And, Node, Not, Or, PageKeys, QueryError, Text

#: A proximity search over more candidate pages than this is refused as too broad.
MAX_CANDIDATES = 50_000


def needs_resolving(node: Text) -> bool:
    return node.slop > 0 and (len(node.terms) > 2 or len(set(node.terms)) < len(node.terms))


def resolve(node: Node, catalog: Catalog, backend: SearchBackend) -> Node:
    """The query with every engine-dependent proximity search replaced by its pages."""
    match node:
        case Text() if needs_resolving(node):
            pages = PageKeys(frozenset(_matching_pages(node, catalog, backend)))
            return And((*_every_word(node).items, pages))  # the words still score the pages
        case And(items=items):
            return And(tuple(resolve(i, catalog, backend) for i in items))
        case Or(items=items):
            return Or(tuple(resolve(i, catalog, backend) for i in items))
        case Not(item=item):
            return Not(resolve(item, catalog, backend))
    return node


def _matching_pages(node: Text, catalog: Catalog, backend: SearchBackend) -> list[str]:
    candidates = backend.matching_keys(_every_word(node), MAX_CANDIDATES + 1)
    if len(candidates) > MAX_CANDIDATES:
        phrase = " ".join(node.terms)
        raise QueryError(
            f'"{phrase}"~{node.slop} is too broad: more than {MAX_CANDIDATES:,} pages hold all '
            "its words; search the exact phrase or rarer words"
        )
    text_of = _field_reader(catalog, node.field)
    return [key for key in candidates if within_slop(terms(text_of(key)), node.terms, node.slop)]


def _every_word(node: Text) -> And:
    return And(tuple(Text(node.field, (t,)) for t in dict.fromkeys(node.terms)))


def _field_reader(catalog: Catalog, field: str) -> Callable[[str], str]:
    """key -> the text the index holds in `field` for that page (index.fields decides)."""

    @lru_cache(maxsize=256)
    def of_document(document_id: str) -> dict[int, str]:
        return {
            item.page.number: page_fields(item)[field]
            for item in catalog.indexable_pages(document_id)
        }

    def read(key: str) -> str:
        document_id, _, number = key.rpartition(":")
        return of_document(document_id).get(int(number), "")

    return read


def within_slop(words: Sequence[str], phrase: Sequence[str], slop: int) -> bool:
    """Whether `phrase` occurs in `words` with at most `slop` moves, as Lucene counts them.

    Choose one position p_i for each phrase word i (distinct positions for repeated words);
    the match costs max(p_i - i) - min(p_i - i). Every window of width `slop` over those
    offsets is tried, and a repeated word needs as many distinct positions in it as it repeats.
    """
    wanted = set(phrase)
    positions: dict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(words):
        if word in wanted:
            positions[word].append(position)
    if any(word not in positions for word in wanted):
        return False
    offsets = sorted({p - i for i, word in enumerate(phrase) for p in positions[word]})
    for low in offsets:
        options = [
            [p for p in positions[word] if low <= p - i <= low + slop]
            for i, word in enumerate(phrase)
        ]
        if all(options) and _distinct_choice(options):
            return True
    return False


def _distinct_choice(options: list[list[int]]) -> bool:
    """Can each phrase word take a different position from its options? (bipartite matching)"""
    owner: dict[int, int] = {}  # position -> phrase word holding it

    def place(word: int, seen: set[int]) -> bool:
        for position in options[word]:
            if position not in seen:
                seen.add(position)
                if position not in owner or place(owner[position], seen):
                    owner[position] = word
                    return True
        return False

    return all(place(word, set()) for word in range(len(options)))
