"""Bates numbers: the page stamps of a production, parsed and compared the same way everywhere.

Shared by ingest (reading stamps off pages) and index (matching what a researcher types), so
'ICE-2017-000123', 'ICE 2017 000123' and 'ice2017-123' all name the same page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

# A prefix (letters, digits, parenthesised agency) and a number of 4 to 10 digits:
# ICE-2017-000123, DHS 000045, EOUSA-0001234, 19-cv-4048(FBI)-1515, and OCR's 'EOUSA- 0001234'
# or '2019-ICLI-00003 -022454' (a space before the separator).
_BATES = regex.compile(
    r"(?<![\w(-])([A-Za-z0-9()]{2,}(?:[-_][A-Za-z0-9()]+){0,3})"
    r"(?:(?<=[A-Za-z)]) ?[-_]? ?| ?[-_] ?| )"
    r"(\d{4,10})(?![\w]|[-_]\d)"
)
#: OCR's "(FBI )" in "19-cv-4048(FBI )-2026": spaces inside a short parenthesised word.
_PARENTHESIS_SPACE = re.compile(r"\(\s*[A-Za-z]{2,8}\s*\)")
#: Words that precede numbers in letterheads, dates and citations, never in a Bates prefix.
_NOT_PREFIXES = frozenset(
    [
        "PAGE",
        "PAGES",
        "ROOM",
        "SUITE",
        "BOX",
        "FAX",
        "TEL",
        "PHONE",
        "NO",
        "NUMBER",
        "CASE",
        "FOIA",
        "FOIPA",
        "REQUEST",
        "ZIP",
        "DATE",
        "USC",
        "CFR",
        "ILCS",
        "STAT",
        "PUB",
        "LAW",
        "SECTION",
        "SEC",
        "EXT",
        "TOTAL",
        "FY",
        "PO",
        "JOB",
        "ISO",
        "ID",
        "REF",
        "FILE",
        "FORM",
        "ORDER",
        "INVOICE",
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
        "JAN",
        "FEB",
        "MAR",
        "APR",
        "JUN",
        "JUL",
        "AUG",
        "SEP",
        "SEPT",
        "OCT",
        "NOV",
        "DEC",
    ]
)
#: Two-letter state codes: "DC 20505" is an address, not a stamp.
_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
    ]
)


def _plausible(prefix: str, digits: str) -> bool:
    """Bates numbers are zero-padded or long, or carry a structured prefix (19-cv-4048(FBI))."""
    if prefix.count("(") != prefix.count(")"):
        return False  # "(AF-2013" is a fragment of a table cell, not a stamp's prefix
    words = {w.upper() for w in re.findall(r"[A-Za-z]+", prefix)}
    letters = re.sub(r"[^A-Za-z]", "", prefix)
    if not re.search(r"[A-Z]{2,}", prefix) or words & _NOT_PREFIXES or len(letters) > 12:
        return False
    if prefix.upper() in _STATES and len(digits) in (5, 9):
        return False  # a ZIP code
    structured = "(" in prefix or bool(re.search(r"\d", prefix))
    return digits.startswith("0") or len(digits) >= 6 or structured


@dataclass(frozen=True)
class Bates:
    prefix: str  # as printed, e.g. "ICE-2017"
    number: int
    digits: int  # printed width, for zero padding
    text: str  # as printed, e.g. "ICE-2017-000123"

    @property
    def key(self) -> str:
        return bates_key(self.prefix, self.number)


#: Characters OCR confuses in stamps, folded together when prefixes are compared.
_CONFUSABLE = str.maketrans("oqilzsby", "0011258v")


def prefix_key(prefix: str) -> str:
    """A prefix as compared: letters and digits only, lowercased, OCR look-alikes folded
    ('EOUSA' and a misread 'EQUSA' are one prefix)."""
    return re.sub(r"[^a-z0-9]", "", prefix.lower()).translate(_CONFUSABLE)


def bates_key(prefix: str, number: int) -> str:
    """Bates numbers compare on the prefix key and the number's value, so 'ICE-2017-000123',
    'ICE 2017 000123' and 'ice2017-123' are the same page."""
    return f"{prefix_key(prefix)}-{number}"


def find_bates(text: str) -> list[Bates]:
    """Bates-like stamps in a text (typically the band at the top or bottom of a page)."""
    found = []
    text = _PARENTHESIS_SPACE.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text)
    for match in _BATES.finditer(text):
        prefix, digits = match.group(1), match.group(2)
        if not _plausible(prefix, digits):
            continue
        between = match.group(0)[len(prefix) : -len(digits)]
        separator = between.strip() or between[:1]  # OCR's "EOUSA- 0001234" -> "EOUSA-0001234"
        found.append(Bates(prefix, int(digits), len(digits), f"{prefix}{separator}{digits}"))
    return found


def parse_bates(value: str) -> Bates | None:
    """A Bates number as a user types it in a query ('ICE 2017 000123' too)."""
    found = find_bates(re.sub(r"\s+", "-", value.strip()))
    return found[-1] if found else None


#: Column names, most telling first, under which agencies' inventories and litigation load
#: files give a record's first and last Bates numbers (compared lowercased, letters only).
_FIRST_BATES_COLUMNS = (
    "begbates", "beginbates", "batesbegin", "batesstart", "startbates", "begbate", "prodbeg",
    "begdoc", "begno", "begin", "start", "first", "docid", "controlnumber",
)  # fmt: skip
_LAST_BATES_COLUMNS = (
    "endbates", "batesend", "stopbates", "endbate", "prodend", "enddoc", "endno", "end", "last",
)  # fmt: skip


def bates_columns(names: list[str]) -> tuple[int | None, int | None]:
    """Which of these column names hold the first and the last Bates number of a record."""
    keys = [re.sub(r"[^a-z]", "", name.lower()) for name in names]

    def best(preferred: tuple[str, ...]) -> int | None:
        ranked = [(preferred.index(k), i) for i, k in enumerate(keys) if k in preferred]
        return min(ranked)[1] if ranked else None

    return best(_FIRST_BATES_COLUMNS), best(_LAST_BATES_COLUMNS)
