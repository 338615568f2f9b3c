"""Snippets: the passage of a page that best shows why it matched, with the matches marked.

Made here from the catalog's page text rather than by each engine, so both backends show the
same snippet for the same page.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import regex

from foiarchive.index.analysis import Token, lowercase
from foiarchive.schemas import Box

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


@lru_cache(maxsize=256)
def _pattern(words: frozenset[str], prefixes: frozenset[str]) -> regex.Pattern[str]:
    """Whole word segments equal to a query word or starting with a prefix, any case.

    With the WORD flag, \\b is a Unicode (UAX #29) word boundary: the same boundaries the
    analyzer cuts at, so a match is exactly a token; scanning in C spares tokenizing the page.
    """
    alternatives = [regex.escape(w) + r"\b" for w in sorted(words, key=len, reverse=True)]
    alternatives += [regex.escape(p) + r".*?\b" for p in sorted(prefixes, key=len, reverse=True)]
    return regex.compile(
        r"\b(?:" + "|".join(alternatives) + ")", flags=regex.WORD | regex.IGNORECASE | regex.V1
    )


def _matches(text: str, words: set[str], prefixes: Iterable[str]) -> list[Token]:
    prefixes = frozenset(prefixes)
    if not words and not prefixes:
        return []
    return [
        Token(lowercase(m.group()), m.start(), m.end())
        for m in _pattern(frozenset(words), prefixes).finditer(text)
    ]


def best_line(text: str, words: set[str], prefixes: Iterable[str] = ()) -> int | None:
    """The offset of the line holding the most distinct matched terms (the first such line),
    or None without a match: where in a page of rows a hit is."""
    by_line: dict[int, set[str]] = {}
    for token in _matches(text, words, prefixes):
        start = text.rfind("\n", 0, token.start) + 1
        by_line.setdefault(start, set()).add(token.term)
    if not by_line:
        return None
    return max(by_line, key=lambda start: (len(by_line[start]), -start))


def snippet(text: str, words: set[str], prefixes: Iterable[str] = (), *, width: int = 240) -> str:
    """An HTML-escaped excerpt of about `width` characters with matches in <mark> tags.

    The window is the one that holds the most distinct matched terms; without any match, the
    opening of the page.
    """
    hits = _matches(text, words, prefixes)
    if not hits:
        excerpt = " ".join(text[:width].split())
        return html.escape(excerpt + ("…" if len(text) > width else ""))
    best_start, best_score = hits[0], -1
    for i, first in enumerate(hits):
        window_end = first.start + width
        inside = {h.term for h in hits[i:] if h.end <= window_end}
        if len(inside) > best_score:
            best_start, best_score = first, len(inside)
    # Centre a little: show some words before the first match.
    start = max(0, best_start.start - width // 4)
    end = min(len(text), start + width)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space != -1 and start - space < 20 else start
    body = " ".join(_marked(text, hits, start, end).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def marked_text(text: str, words: set[str], prefixes: Iterable[str] = ()) -> str:
    """The whole text HTML-escaped, line breaks kept, with matches in <mark> tags."""
    return _marked(text, _matches(text, words, prefixes), 0, len(text))


def _marked(text: str, hits: list[Token], start: int, end: int) -> str:
    parts: list[str] = []
    cursor = start
    for token in hits:
        if token.start < start or token.end > end:
            continue
        parts.append(html.escape(text[cursor : token.start]))
        parts.append(MARK_OPEN + html.escape(text[token.start : token.end]) + MARK_CLOSE)
        cursor = token.end
    parts.append(html.escape(text[cursor:end]))
    return "".join(parts)


def match_spans(text: str, words: set[str], prefixes: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Where the query's words and prefixes occur in a text: (start, end) character offsets."""
    return [(t.start, t.end) for t in _matches(text, words, prefixes)]


_WORD = re.compile(r"\S+")


def word_boxes_at(text: str, boxes: Sequence[Box], spans: Iterable[tuple[int, int]]) -> list[Box]:
    """The OCR boxes of the words that `spans` of `text` fall in (box i is the i-th
    whitespace-separated word, as schemas.word_boxes_for_text packs them)."""
    starts, ends = [], []
    for match in _WORD.finditer(text):
        starts.append(match.start())
        ends.append(match.end())
    found: dict[int, Box] = {}
    for start, end in spans:
        first = bisect.bisect_right(ends, start)  # the first word ending after the span starts
        for i in range(first, min(len(starts), len(boxes))):
            if starts[i] >= end:
                break
            found[i] = boxes[i]
    return [found[i] for i in sorted(found)]
