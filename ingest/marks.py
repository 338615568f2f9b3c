"""What agencies stamp on FOIA pages: exemption citations, Bates numbers, withheld pages.

Pure text functions, run inside the ingest pass on the page text (PDF text layer or OCR);
redaction boxes are found in `ingest.redactions` from geometry and pixels, not text.

Exemption citations are read by `schemas.exemptions`, shared with the disclosure reports.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

import regex

from foiarchive.ingest.redactions import WITHHELD_COVERAGE
from foiarchive.schemas import Bates, Document, Page, find_bates, prefix_key
from foiarchive.schemas.exemptions import FEDERAL, federal_codes, find_citations

# -- withheld pages -------------------------------------------------------------------------
_WITHHELD = regex.compile(
    r"(?:withheld\s+in\s+(?:its\s+)?(?:full|entirety)|page\s+(?:has\s+been\s+)?withheld"
    r"|withheld\s+pursuant\s+to|deleted\s+page\(?s?\)?|page\s+denied\s+in\s+full"
    r"|(?:this|entire)\s+page\s+(?:is\s+)?(?:exempt|redacted|denied))",
    flags=regex.IGNORECASE,
)
_SHEET = regex.compile(r"deleted\s+page\s+information\s+sheet", flags=regex.IGNORECASE)
_SHEET_LINE = regex.compile(
    r"^\s*Pages?\s+([0-9][0-9 ,\-]*?)\s*[~\-–]\s*(.+?);?\s*$", flags=regex.IGNORECASE
)


#: A sheet's "Total Deleted Page(s) = 88" line, when OCR lost the title.
_SHEET_TOTAL = regex.compile(r"total\s+deleted\s+pages?\b|total\s+deleted\s+page\(s\)", regex.I)
#: A line holding only an entry's label ("Page", "Page 12", "Pages 3-5"): how OCR reads the first
#: column of a sheet when it reads the sheet column by column.
_PAGE_LABEL = regex.compile(r"\s*Pages?(?:\s+\d+(?:\s*-\s*\d+)?)?\s*", flags=regex.IGNORECASE)
#: So many label lines make a sheet even where its title is unread (a continuation sheet).
_SHEET_LABELS = 5
_REASON_WORDS = regex.compile(r"duplicate|referral|consult|outside|sealed|per\s+\w+", regex.I)


@dataclass(frozen=True)
class WithheldPage:
    page: int  # page number within the withheld records, as the sheet gives it; 0: unread
    reasons: tuple[str, ...]  # exemption codes, or 'duplicate', 'referral/consult', ...


def is_withheld_placeholder(text: str) -> bool:
    """A page that stands for a withheld page: short, and saying so."""
    words = text.split()
    return 0 < len(words) <= 80 and bool(_WITHHELD.search(text)) and not _SHEET.search(text)


def deleted_page_sheet(text: str) -> list[WithheldPage]:
    """The entries of an FBI-style deleted page information sheet ("Page 12 ~ b6; b7C;")."""
    entries: list[WithheldPage] = []
    for line in text.splitlines():
        match = _SHEET_LINE.match(line)
        if not match:
            continue
        pages = _page_numbers(match.group(1))
        reasons = _reasons(match.group(2))
        entries.extend(WithheldPage(page, reasons) for page in pages if reasons)
    if len(entries) >= 2:
        return entries
    by_columns = _sheet_by_columns(text)
    if by_columns:
        return by_columns
    if _SHEET.search(text):
        return entries or [WithheldPage(0, ())]  # a sheet none of whose entries could be read
    return []


def _reasons(text: str) -> tuple[str, ...]:
    codes = [c.code for c in find_citations(text) if c.statute == FEDERAL]
    other = [
        r.strip().lower()
        for r in re.split(r"[;,]", text)
        if r.strip() and not re.search(r"\d|\bb\d", r.strip(), re.IGNORECASE)
    ]
    return tuple(dict.fromkeys(codes + other))


def _sheet_by_columns(text: str) -> list[WithheldPage]:
    """A sheet OCR read column by column: the "Page" labels, then the numbers, then the reasons,
    each in its own run of lines. One entry per label; its number and reasons where the columns
    pair up one to one (number 0 and no reasons where a column was lost or garbled)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    labels = [line for line in lines if _PAGE_LABEL.fullmatch(line)]
    titled = bool(_SHEET.search(text) or _SHEET_TOTAL.search(text))
    if len(labels) < (1 if titled else _SHEET_LABELS):
        return []
    numbers = [int(line) for line in lines if line.isdigit()]
    reasons = [
        _reasons(line)
        for line in lines
        if line.endswith(";") and (find_citations(line) or _REASON_WORDS.search(line))
    ]
    count = len(labels)
    pages = numbers if len(numbers) == count else [0] * count
    why = reasons if len(reasons) == count else [()] * count
    return [WithheldPage(page, reason) for page, reason in zip(pages, why, strict=True)]


def _page_numbers(spec: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if re.fullmatch(r"\d+-\d+", part):
            low, high = map(int, part.split("-"))
            if 0 < high - low < 10000:
                numbers.extend(range(low, high + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


# -- putting marks on page records ----------------------------------------------------------
def annotate(page: Page, replaced_layer: str = "") -> None:
    """Read the citations and withheld-page signs of one page into its record.

    `replaced_layer` is the page's own text layer when our OCR replaced it: another reading of
    the same pixels, poorer as a whole but not everywhere. A code it cites that our reading does
    not is kept, marked `"source": "text layer"`: on the labelled real pages such layers cited
    43 codes with no false one, and 5 of the 13 codes our OCR missed (margin codes read "ba",
    "bc", "Bb?7E"; a list column OCR dropped).
    """
    labels = "\n".join(r["label"] for r in page.redactions if r.get("label"))
    citations = find_citations(f"{page.text}\n{labels}" if labels else page.text)
    page.citations = [{"code": c.code, "statute": c.statute, "text": c.text} for c in citations]
    if replaced_layer:
        ours = {c.code for c in citations}
        theirs = [c for c in find_citations(replaced_layer) if c.code not in ours]
        page.citations += [
            {"code": c.code, "statute": c.statute, "text": c.text, "source": "text layer"}
            for c in theirs
        ]
        citations += theirs
    page.exemptions = federal_codes(citations)
    sheet = deleted_page_sheet(page.text)
    page.withheld_pages = [{"page": w.page, "reasons": list(w.reasons)} for w in sheet]
    page.withheld_in_full = not sheet and (
        is_withheld_placeholder(page.text) or page.redacted_area() >= WITHHELD_COVERAGE
    )


#: Stamps sit in the first or last lines of a page's text.
_BAND_LINES = 6


#: A stamp that begins its line is followed by at most this many words ("ICE-000123 Page 2",
#: or a handwritten file number OCR reads as three); one that leads a longer line is the first
#: cell of a table row.
_WORDS_AFTER_STAMP = 3


def _stamp_candidates(text: str) -> list[Bates]:
    lines = [line for line in text.splitlines() if line.strip()]
    band = lines[:_BAND_LINES] + lines[-_BAND_LINES:] if len(lines) > 2 * _BAND_LINES else lines
    return [b for line in band for b in find_bates(line) if _stands_apart(b, line)]


def _stands_apart(stamp: Bates, line: str) -> bool:
    """A stamp is printed apart, in a margin: it ends its line ("CONFIDENTIAL ICE-000123"), or
    begins a short one. A number inside a line of text or a table row is no stamp."""
    words = [w for w in line.split() if sum(c.isalnum() for c in w) >= 2]  # not OCR specks
    digits = str(stamp.number).zfill(stamp.digits)
    position = next((i for i, word in enumerate(words) if digits in word), None)
    if position is None:
        return False
    after = len(words) - 1 - position
    if after == 0:
        return True
    # A stamp whose prefix has its own structure (19-cv-4048(FBI)) is no table cell: what
    # follows it on its line is handwriting or specks OCR read beside it.
    structured = "(" in stamp.prefix or any(c.isdigit() for c in stamp.prefix)
    return position <= 1 and (structured or after <= _WORDS_AFTER_STAMP)


def assign_bates(pages: list[Page]) -> tuple[str, str]:
    """Give each page its Bates number; returns the document's first and last.

    The prefix stamped on most pages wins (a request number in a letterhead does not). A page
    whose stamp OCR missed gets the number its neighbours imply, but only between two stamped
    pages that agree on it (numbered one per page between them): an unstamped cover letter or
    deleted page sheet before the first stamp, or after the last, gets none.
    """
    candidates = {page.number: _stamp_candidates(page.text) for page in pages}
    prefixes = Counter(prefix_key(b.prefix) for found in candidates.values() for b in found)
    if not prefixes:
        return "", ""
    prefix, _ = prefixes.most_common(1)[0]
    chosen: dict[int, Bates] = {}
    for number, found in candidates.items():
        mine = [b for b in found if _same_prefix(prefix_key(b.prefix), prefix)]
        if mine:
            chosen[number] = mine[-1]
    # One document, one spelling: a stamp OCR misread on some pages takes the majority's.
    majority = Counter(b.prefix for b in chosen.values()).most_common(1)[0][0]
    chosen = {n: _respell(b, majority) for n, b in chosen.items()}
    sheets = {page.number for page in pages if page.withheld_pages}
    stamped = sorted(chosen)
    for before, after in pairwise(stamped):
        offset = chosen[before].number - before
        if after - before < 2 or chosen[after].number - after != offset:
            continue
        template = chosen[before]
        for number in range(before + 1, after):
            if number not in sheets:
                chosen[number] = Bates(
                    template.prefix,
                    number + offset,
                    template.digits,
                    _format(template, number + offset),
                )
    for page in pages:
        page.bates = [chosen[page.number].text] if page.number in chosen else []
    ordered = sorted(chosen.values(), key=lambda b: b.number)
    return ordered[0].text, ordered[-1].text


def _same_prefix(key: str, majority: str) -> bool:
    """The document's prefix, or an OCR misreading of it: one letter added, dropped or changed
    in a prefix of eight or more ('19-cyv-4048(FBI)' for '19-cv-4048(FBI)'). Its digits must be
    the same: 'DOJ-OIP-2018' beside 'DOJ-OIP-2019' is another stamp, not a misreading."""
    if key == majority:
        return True
    if len(majority) < 8 or re.sub(r"\D", "", key) != re.sub(r"\D", "", majority):
        return False
    return _one_edit_apart(key, majority)


def _one_edit_apart(a: str, b: str) -> bool:
    """b is a with one character added, dropped or changed."""
    short, long = sorted((a, b), key=len)
    if len(long) - len(short) > 1:
        return False
    same = next(
        (i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short)
    )
    rest = same + 1 if len(short) == len(long) else same
    return short[rest:] == long[same + 1 :]


def respell(stamps: list[str], spelling: str) -> list[str]:
    """Stamps rewritten with another spelling of their prefix (an OCR misreading corrected)."""
    rewritten = []
    for stamp in stamps:
        parsed = find_bates(stamp)
        rewritten.append(_respell(parsed[0], spelling).text if parsed else stamp)
    return rewritten


def harmonize(documents: list[Document]) -> dict[str, str]:
    """For documents stamped with a misread spelling of a prefix the production uses more
    often ('EQUSA' beside 'EOUSA'), the spelling to use instead: {document id: spelling}."""

    def prefix(document: Document) -> str:
        parsed = find_bates(document.bates_first)
        return parsed[0].prefix if parsed else ""

    spellings: Counter[str] = Counter()
    for document in documents:
        if prefix(document):
            spellings[prefix(document)] += document.page_count
    preferred: dict[str, str] = {}
    for spelling, _ in spellings.most_common():
        preferred.setdefault(prefix_key(spelling), spelling)
    return {
        d.id: preferred[prefix_key(prefix(d))]
        for d in documents
        if prefix(d) and preferred[prefix_key(prefix(d))] != prefix(d)
    }


def _respell(stamp: Bates, prefix: str) -> Bates:
    text = prefix + stamp.text[len(stamp.prefix) :]
    return Bates(prefix, stamp.number, stamp.digits, text)


def _format(template: Bates, number: int) -> str:
    separator = template.text[len(template.prefix) : -template.digits] if template.digits else "-"
    return f"{template.prefix}{separator}{number:0{template.digits}d}"
