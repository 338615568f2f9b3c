"""The one analyzer both search backends use: Unicode word boundaries, lowercased, no stemming.

Elasticsearch's `standard` analyzer (UAX #29 word boundaries + lowercase) is the reference,
because the minimal Elasticsearch distribution has no other. Tantivy's own tokenizers split
differently ("don't", "3.14", "john.doe" stay whole in UAX #29 and break apart in Tantivy), so
the Tantivy backend is fed the terms made here, joined by spaces, and splits them on whitespace
only; queries are tokenized here too. One definition, checked against Elasticsearch's
`_analyze` in the parity tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import regex

#: Lucene's StandardTokenizer cuts longer tokens at this length.
MAX_TOKEN_LENGTH = 255

# A word segment per UAX #29 is a run between Unicode word boundaries (the regex module's WORD
# flag implements them); it is a token when it starts with a letter, digit, mark or connector.
# Punctuation and spaces form segments of their own, so a match from a word character to the
# next boundary is exactly one word segment.
_WORD_SEGMENT = regex.compile(r"\w.*?\b", flags=regex.WORD | regex.V1)
# The same segmentation restricted to ASCII, where UAX #29 reduces to: runs of letters, digits
# and '_', joined across ':' '.' or an apostrophe between two letters (WB6/7) and across
# ',' ';' '.' or an apostrophe between two digits (WB11/12). The standard library's engine
# runs it twice as fast; tests hold it equal to the general pattern on random ASCII.
_ASCII_WORD = re.compile(
    r"[A-Za-z0-9_]+(?:(?:(?<=[A-Za-z])[:.'](?=[A-Za-z])|(?<=[0-9])[.,;'](?=[0-9]))[A-Za-z0-9_]+)*"
)
_LONG_RUN = re.compile(rf"\S{{{MAX_TOKEN_LENGTH + 1}}}")
_IDEOGRAPHIC = regex.compile(r"[\p{Han}\p{Hiragana}]", flags=regex.V1)


# Lucene lowercases code point by code point (Java's Character.toLowerCase); Python's
# str.lower() applies two context rules Java does not: a final sigma becomes 'ς', and 'İ'
# becomes 'i' plus a combining dot. Only texts holding those take the slow path.
_CONTEXT_CASED = regex.compile("[\u0130\u03a3]")


def lowercase(text: str) -> str:
    """Lowercase as Elasticsearch's standard analyzer does."""
    if text.isascii() or not _CONTEXT_CASED.search(text):
        return text.lower()
    return "".join(ch.lower()[0] for ch in text)


class Token(NamedTuple):
    term: str
    start: int  # character offsets into the original text
    end: int


def _pieces(segment: str) -> Iterator[tuple[int, str]]:
    """The tokens of one word segment with their offsets: ideographs one by one, long runs cut."""
    if len(segment) > 1 and _IDEOGRAPHIC.search(segment):
        # Lucene emits each ideograph (and hiragana character) as its own token.
        yield from enumerate(segment)
        return
    for offset in range(0, len(segment), MAX_TOKEN_LENGTH):
        yield offset, segment[offset : offset + MAX_TOKEN_LENGTH]


def _needs_pieces(text: str, longest: int) -> bool:
    return longest > MAX_TOKEN_LENGTH or (not text.isascii() and bool(_IDEOGRAPHIC.search(text)))


def tokenize(text: str) -> list[Token]:
    """Split text the way Elasticsearch's standard analyzer does; offsets index `text`."""
    matches = list(_WORD_SEGMENT.finditer(text))
    longest = max((m.end() - m.start() for m in matches), default=0)
    if not _needs_pieces(text, longest):
        return [Token(lowercase(m.group()), m.start(), m.end()) for m in matches]
    return [
        Token(lowercase(piece), m.start() + offset, m.start() + offset + len(piece))
        for m in matches
        for offset, piece in _pieces(m.group())
    ]


def index_text(text: str) -> str:
    """The terms of a text joined by single spaces: what the Tantivy backend indexes.

    Tantivy splits this on whitespace only, so its positions are the analyzer's positions and
    phrase and proximity queries behave as they do on Elasticsearch.
    """
    words = (_ASCII_WORD if text.isascii() else _WORD_SEGMENT).findall(text)
    # A token over the length limit needs that many characters without a space: a C-speed test.
    longest = max(map(len, words)) if _LONG_RUN.search(text) else 0
    if words and _needs_pieces(text, longest):
        words = [piece for word in words for _, piece in _pieces(word)]
    return lowercase(" ".join(words))


def terms(text: str) -> list[str]:
    """The index terms of a text, in order."""
    joined = index_text(text)
    return joined.split(" ") if joined else []


def normalize_keyword(value: str) -> str:
    """How exact-match fields (agency, production, Bates, exemption) compare: trimmed, lowered."""
    return value.strip().lower()
