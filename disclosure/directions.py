"""The diff's summary of what changed on the pages, in both directions and biggest first: text
newly released and newly withheld, boxes added and lifted, pages added and removed, stamps and
markings changed; then the passages themselves, each with its page and Bates number.

A release that discloses more must read as one: counting only what went missing made a release
that lifted two redactions read as one that withheld 603 words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from foiarchive.disclosure.diff import Diff, DocumentChange, PageChange, Passage

#: Passages quoted in the summary per direction; every one is in the pages of the report.
QUOTED = 5
#: Quotes are cut to this many characters.
QUOTE_CHARS = 160


@dataclass
class Quoted:
    """One passage that changed direction, where it is."""

    direction: str  # released | withheld
    words: int
    text: str
    path: str
    page: int
    bates: str


def passages(diff: Diff) -> list[Quoted]:
    """Every passage newly released or newly withheld, the longest first."""
    found = []
    for change in diff.matched:
        for page in change.pages:
            for passage in page.added:
                found.append(_quoted("released", passage, change.new.path, page.new_bates))
            for passage in page.removed:
                found.append(_quoted("withheld", passage, change.old.path, page.old_bates))
    return sorted(found, key=lambda q: (-q.words, q.path, q.page))


def _quoted(direction: str, passage: Passage, path: str, bates: str) -> Quoted:
    return Quoted(direction, passage.words, passage.text, path, passage.page, bates)


def direction_sentences(diff: Diff) -> list[str]:
    """Sentences for what changed on the pages, the biggest change first."""
    old, new = diff.old.production, diff.new.production
    found = passages(diff)
    pages = [page for change in diff.matched for page in change.pages]
    counted: list[tuple[int, str]] = []
    released = [q for q in found if q.direction == "released"]
    withheld = [q for q in found if q.direction == "withheld"]
    if released:
        counted.append(_passage_total(released, f"newly released in {new} ({old} withheld it "
                                      "or left it out)"))  # fmt: skip
    if withheld:
        counted.append(_passage_total(withheld, f"released in {old} and withheld or missing in "
                                      f"{new}"))  # fmt: skip
    counted += _box_totals(pages)
    counted += _page_totals(diff.matched, old, new)
    markings = sum(page.markings for page in pages)
    if markings:
        counted.append((markings, f"{markings:,} stamps, banners or markings changed."))
    lines = [sentence for _, sentence in sorted(counted, key=lambda c: -c[0])]
    for label, group in (("Newly released", released), ("Newly withheld", withheld)):
        for quoted in group[:QUOTED]:
            lines.append(f"{label}: {_where(quoted)}: {_quote(quoted)}")
    return lines


def _passage_total(group: list[Quoted], what: str) -> tuple[int, str]:
    words = sum(q.words for q in group)
    pages = len({(q.path, q.page) for q in group})
    count = f"{len(group):,} passage" + ("s" if len(group) != 1 else "")
    size = f" ({words:,} words)" if words else ""
    return max(words, len(group)), f"{count}{size} on {pages:,} pages {what}."


def _box_totals(pages: list[PageChange]) -> list[tuple[int, str]]:
    added = sum(page.boxes_added for page in pages)
    lifted = sum(page.boxes_lifted for page in pages)
    if not (added or lifted):
        return []
    return [(max(added, lifted), f"Redaction boxes added: {added:,}; lifted: {lifted:,}.")]


def _page_totals(matched: list[DocumentChange], old: str, new: str) -> list[tuple[int, str]]:
    added = sum(len(change.pages_added) for change in matched)
    removed = sum(len(change.pages_removed) for change in matched)
    totals = []
    if added:
        totals.append((added, f"{added:,} pages of documents in both releases are new in {new}."))
    if removed:
        totals.append((removed, f"{removed:,} pages released in {old} are gone from {new}."))
    return totals


def _where(quoted: Quoted) -> str:
    return f"{quoted.path} p. {quoted.page}" + (f" ({quoted.bates})" if quoted.bates else "")


def _quote(quoted: Quoted) -> str:
    if not quoted.text:
        return "(not read; see the page images)"
    text = quoted.text
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return f"'{text}'"
