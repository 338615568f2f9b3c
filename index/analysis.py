"""The one analyzer both search backends use: Unicode word boundaries, lowercased, no stemming.

Elasticsearch's `standard` analyzer (UAX #29 word boundaries + lowercase) is the reference,
because the minimal Elasticsearch distribution has no other. Tantivy's own tokenizers split
differently ("don't", "3.14", "john.doe" stay whole in UAX #29 and break apart in Tantivy), so
the Tantivy backend is fed the terms made here, joined by spaces, and splits them on whitespace
only; queries are tokenized here too. One definition, checked against Elasticsearch's
`_analyze` in the parity tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import regex

#: Lucene's StandardTokenizer cuts longer tokens at this length.
MAX_TOKEN_LENGTH = 255

# A word segment per UAX #29 is a run between Unicode word boundaries; it is a token when it
# holds a letter or digit (Lucene drops punctuation and space segments).
_BOUNDARY = regex.compile(r"\b", flags=regex.WORD | regex.V1)
_WORD_CHAR = regex.compile(r"[\p{L}\p{N}\p{M}\p{Pc}]", flags=regex.V1)
_IDEOGRAPHIC = regex.compile(r"[\p{Han}\p{Hiragana}]", flags=regex.V1)


class Token(NamedTuple):
    term: str
    start: int  # character offsets into the original text
    end: int


def _is_word(segment: str) -> bool:
    first = segment[0]
    return first.isalnum() or first == "_" or _WORD_CHAR.match(segment) is not None


def _pieces(segment: str) -> Iterator[tuple[int, str]]:
    """The tokens of one unusual word segment (ideographs, over-long runs) with their offsets."""
    if len(segment) > 1 and _IDEOGRAPHIC.search(segment):
        # Lucene emits each ideograph (and hiragana character) as its own token.
        yield from enumerate(segment)
        return
    for offset in range(0, len(segment), MAX_TOKEN_LENGTH):
        yield offset, segment[offset : offset + MAX_TOKEN_LENGTH]


def _is_plain(segment: str) -> bool:
    return len(segment) <= MAX_TOKEN_LENGTH and (
        segment.isascii() or not _IDEOGRAPHIC.search(segment)
    )


def tokenize(text: str) -> list[Token]:
    """Split text the way Elasticsearch's standard analyzer does; offsets index `text`."""
    tokens: list[Token] = []
    position = 0
    for segment in _BOUNDARY.split(text):
        start = position
        position += len(segment)
        if not segment or not _is_word(segment):
            continue
        if _is_plain(segment):
            tokens.append(Token(segment.lower(), start, position))
        else:
            tokens.extend(
                Token(piece.lower(), start + offset, start + offset + len(piece))
                for offset, piece in _pieces(segment)
            )
    return tokens


def terms(text: str) -> list[str]:
    """The index terms of a text, in order."""
    joined = index_text(text)
    return joined.split(" ") if joined else []


def index_text(text: str) -> str:
    """The terms of a text joined by single spaces: what the Tantivy backend indexes.

    Tantivy splits this on whitespace only, so its positions are the analyzer's positions and
    phrase and proximity queries behave as they do on Elasticsearch.
    """
    words = [s for s in _BOUNDARY.split(text) if s and _is_word(s)]
    if not all(map(_is_plain, words)):
        words = [piece for word in words for _, piece in _pieces(word)]
    return " ".join(words).lower()


def normalize_keyword(value: str) -> str:
    """How exact-match fields (agency, production, Bates, exemption) compare: trimmed, lowered."""
    return value.strip().lower()
