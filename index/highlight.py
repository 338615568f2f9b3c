"""Snippets: the passage of a page that best shows why it matched, with the matches marked.

Made here from the catalog's page text rather than by each engine, so both backends show the
same snippet for the same page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from index.analysis import Token, tokenize

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def _matches(tokens: list[Token], words: set[str], prefixes: Iterable[str]) -> list[int]:
    prefixes = tuple(prefixes)
    return [
        i
        for i, token in enumerate(tokens)
        if token.term in words or (prefixes and token.term.startswith(prefixes))
    ]


def snippet(text: str, words: set[str], prefixes: Iterable[str] = (), *, width: int = 240) -> str:
    """An HTML-escaped excerpt of about `width` characters with matches in <mark> tags.

    The window is the one that holds the most distinct matched terms; without any match, the
    opening of the page.
    """
    tokens = tokenize(text)
    hits = _matches(tokens, words, prefixes)
    if not hits:
        excerpt = " ".join(text[:width].split())
        return html.escape(excerpt + ("…" if len(text) > width else ""))
    best_start, best_score = hits[0], -1
    for i, first in enumerate(hits):
        window_end = tokens[first].start + width
        inside = {tokens[h].term for h in hits[i:] if tokens[h].end <= window_end}
        if len(inside) > best_score:
            best_start, best_score = first, len(inside)
    # Centre a little: show some words before the first match.
    start = max(0, tokens[best_start].start - width // 4)
    end = min(len(text), start + width)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space != -1 and start - space < 20 else start
    marked: list[str] = []
    cursor = start
    for h in hits:
        token = tokens[h]
        if token.start < start or token.end > end:
            continue
        marked.append(html.escape(text[cursor : token.start]))
        marked.append(MARK_OPEN + html.escape(text[token.start : token.end]) + MARK_CLOSE)
        cursor = token.end
    marked.append(html.escape(text[cursor:end]))
    body = " ".join("".join(marked).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
