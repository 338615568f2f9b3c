"""FOIA exemptions: reading citations off a page, recognising withheld table cells, and labels.

One vocabulary for every room: ingest reads citations with it, the disclosure reports count and
label them, and the search filter `exemption:b7c` speaks the same codes.

Codes are normalized to b1..b9 and b7a..b7f. OCR misreadings of the familiar `(b)(6)` shape are
tolerated ((bX6), (b) (6), b)(6), (6)(6)), but a bare "(b)" or "see (b) below" is never a
citation: every pattern requires the exemption number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import regex

FEDERAL = "5 U.S.C. 552(b)"

# A subparagraph letter: (C) in (b)(7)(C). A "(b)" followed by "(7)" starts the next citation
# of a run printed together, "(b) (7)(b) (7)(E)", and is no letter of this one.
_SUB = r"(?:\s*\(\s*([a-fA-F])\s*\)(?!\s*\(\s*[1-9]\s*\)))"
# (b)(6), (b) (6), (b)(7)(C) and the ways OCR garbles them: (bX6), b)(6), (b(7E), (b)(7E),
# glued to the word before. Each form needs the exemption number and a closing parenthesis.
_PAREN = regex.compile(
    r"(?:\(\s*[bB]\s*(?:\)\s*\(|[Xx×]|\()|(?<![\w(])[bB]\s*\)\s*\()"  # (b)( (bX (b( b)(
    r"\s*([1-9])\s*(?:\)" + _SUB + r"?|\(?\s*([a-fA-F])\s*\))",  # 6) 7)(C) 7(C) 7C)
    flags=regex.VERSION1,
)
# 5 U.S.C. 552(b)(3): the statute's own form.
_USC = regex.compile(r"552\s*\(\s*b\s*\)\s*\(\s*([1-9])\s*\)" + _SUB + "?")
# (6)(6): a 'b' read as '6' inside the paren shape.
_SIX = regex.compile(r"(?<![\w)])\(6\)\s*\(([1-9])\)" + _SUB + "?")
# b6, b7C, b7(C) (margin codes), not part of a longer word or number. Lower-case b only:
# "vitamin B6" and "form B1" are not citations.
# OCR reads the C of a margin b7C as a cent or euro sign, the 7 as I or l (before a capital
# letter that makes it a 7: margin codes letter only exemption 7's parts; "b/c" is "because",
# not a b7c), doubles the letter
# (b7Cc) and glues an accent or a letter of the next word to a code (b6é): all read as meant.
# A form rule or leader line may run into a code ("—b6 -3,-5", "-b5 Per EOUSA"), and the 6 of a
# b6 is read as é where an FBI subcategory ("bé -1") or "Per" follows.
_COMPACT = regex.compile(
    r"(?<![\w/.])b([1-9]|[Il](?=\(?[A-F])|é(?=\s*-?\s*\d|\s+Per\b))"
    # The letter is not the b of a "(b)(7)" that follows: "b6\n(b)(7)(E)" (two box labels on
    # lines of their own) is a b6 and a b7e, not one "b6(b)" whose span hid the b7e's.
    r"(?:\s?\(?(?![bB]\s*\)\s*\(\s*[1-9])([a-fA-F¢€])(?i:\2)?\)?)?(?![A-Za-z0-9])"
)
# Exemption 5, Ex. 5, Exemptions 6 and 7(C), FOIA Exemption 4, exemption (b)(5)
_NAMED = regex.compile(
    r"\b(?:FOIA\s+)?(?:Exemptions?|Ex\.|Exs\.)\s*((?:\(?[1-9]\)?(?:\s*\(?[a-fA-F]\)(?![\w]))?"
    r"(?:\s*(?:,|and|&|or)\s*)?)+)",
    flags=regex.IGNORECASE,
)
_NAMED_ITEM = regex.compile(r"\(?([1-9])\)?(?:\s*\(([a-fA-F])\))?")
# Illinois FOIA: 5 ILCS 140/7(1)(c); generic state citations follow the same shape.
_ILCS = regex.compile(r"\b(\d+)\s+ILCS\s+(\d+)\s*/\s*(\d+(?:\.\d+)?)((?:\s*\(\s*\w{1,4}\s*\))*)")


_LETTER = {"¢": "c", "€": "c"}


@dataclass(frozen=True)
class Citation:
    code: str  # b6, b7c for federal FOIA; the section for state law, e.g. 7(1)(c)
    statute: str  # "5 U.S.C. 552(b)" or e.g. "5 ILCS 140"
    text: str  # as printed


def _federal(number: str, sub: str | None) -> str | None:
    if sub and number in "Il":
        number = "7"  # only exemption 7 has lettered parts in a margin code: bIC is a b7C
    number = "6" if number == "é" else number
    if number == "7":
        return f"b7{_LETTER.get(sub, sub).lower()}" if sub else "b7"
    return f"b{number}"


def find_citations(text: str) -> list[Citation]:
    """Every exemption citation on a page, federal and state, in reading order."""
    found: list[tuple[int, Citation]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, code: str | None, statute: str, raw: str) -> None:
        if code and not any(s < end and start < e for s, e in taken):
            taken.append((start, end))
            found.append((start, Citation(code, statute, raw)))

    for match in _ILCS.finditer(text):
        section = match.group(3) + re.sub(r"\s+", "", match.group(4))
        add(
            match.start(),
            match.end(),
            section,
            f"{match.group(1)} ILCS {match.group(2)}",
            match.group(0),
        )
    for pattern in (_USC, _PAREN, _SIX, _COMPACT):
        for match in pattern.finditer(text):
            sub = match.group(2) or (match.group(3) if pattern is _PAREN else None)
            add(
                match.start(),
                match.end(),
                _federal(match.group(1), sub),
                FEDERAL,
                match.group(0),
            )
    for match in _NAMED.finditer(text):
        for item in _NAMED_ITEM.finditer(match.group(1)):
            start = match.start(1) + item.start()
            add(
                start,
                match.start(1) + item.end(),
                _federal(item.group(1), item.group(2)),
                FEDERAL,
                match.group(0),
            )
    return [citation for _, citation in sorted(found, key=lambda pair: pair[0])]


def exemption_codes(text: str) -> list[str]:
    """The distinct federal exemption codes cited on a page (b6, b7c, ...), sorted."""
    return federal_codes(find_citations(text))


def federal_codes(citations: Iterable[Citation]) -> list[str]:
    """The distinct federal codes among these citations, sorted.

    A bare b7 beside b7c (or any lettered 7) on the same page is taken for that citation with
    its letter lost, not for a citation of its own: on the labelled real pages every bare b7
    next to a lettered one was an OCR slip (b7C read as b7).
    """
    codes = {c.code for c in citations if c.statute == FEDERAL}
    if "b7" in codes and any(len(code) == 3 and code.startswith("b7") for code in codes):
        codes.discard("b7")
    return sorted(codes)


# -- table cells ----------------------------------------------------------------------------
_CODE = (
    r"(?:\(\s*b\s*\)\s*\(\s*[1-9]\s*\)(?:\s*\(\s*[a-f]\s*\))?"  # (b)(7)(C)
    r"|b\s*[1-9]\s*[a-f]?"  # b6, B7C
    r"|ex(?:emption|\.)?\s*[1-9]\s*(?:\(?\s*[a-f]\s*\))?)"  # Ex. 6, Exemption 7(C)
)
_WITHHELD_CELL = re.compile(
    rf"^[\s\[(]*(?:{_CODE}|redacted|withheld|exempt(?:ed)?|not\s+released)"
    rf"(?:[\s,;/&]+(?:and\s+)?{_CODE})*[\s\])]*$",
    re.IGNORECASE,
)


def is_withheld_cell(value: str) -> bool:
    return bool(_WITHHELD_CELL.match(value))


# -- labels ---------------------------------------------------------------------------------
def exemption_label(code: str) -> str:
    """b7c -> (b)(7)(C): the form agencies stamp and journalists quote."""
    if not code.startswith("b") or len(code) < 2:
        return code
    label = f"(b)({code[1]})"
    return label + (f"({code[2:].upper()})" if len(code) > 2 else "")
