"""Bates numbers: the page stamps of a production, parsed and compared the same way everywhere.

Shared by ingest (reading stamps off pages) and index (matching what a researcher types), so
'ICE-2017-000123', 'ICE 2017 000123' and 'ice2017-123' all name the same page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

# A prefix (letters, digits, parenthesised agency) and a number of 4 to 10 digits:
# ICE-2017-000123, DHS 000045, EOUSA-0001234, 19-cv-4048(FBI)-1515.
_BATES = regex.compile(
    r"(?<![\w(-])([A-Za-z0-9()]{2,}(?:[-_][A-Za-z0-9()]+){0,3})(?:(?<=[A-Za-z)])[-_ ]?|[-_ ])"
    r"(\d{4,10})(?![\w]|[-_]\d)"
)
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
    ]
)


@dataclass(frozen=True)
class Bates:
    prefix: str  # as printed, e.g. "ICE-2017"
    number: int
    digits: int  # printed width, for zero padding
    text: str  # as printed, e.g. "ICE-2017-000123"

    @property
    def key(self) -> str:
        return bates_key(self.prefix, self.number)


def bates_key(prefix: str, number: int) -> str:
    """Bates numbers compare on letters and digits of the prefix and the number's value, so
    'ICE-2017-000123', 'ICE 2017 000123' and 'ice2017-123' are the same page."""
    return f"{re.sub(r'[^A-Za-z0-9]', '', prefix).lower()}-{number}"


def find_bates(text: str) -> list[Bates]:
    """Bates-like stamps in a text (typically the band at the top or bottom of a page)."""
    found = []
    for match in _BATES.finditer(text):
        prefix, digits = match.group(1).strip(" -_"), match.group(2)
        letters = re.sub(r"[^A-Za-z]", "", prefix)
        words = {w.upper() for w in re.findall(r"[A-Za-z]+", prefix)}
        if not re.search(r"[A-Z]{2,}", prefix) or words & _NOT_PREFIXES or len(letters) > 12:
            continue
        found.append(Bates(prefix, int(digits), len(digits), match.group(0).strip()))
    return found


def parse_bates(value: str) -> Bates | None:
    """A Bates number as a user types it in a query ('ICE 2017 000123' too)."""
    found = find_bates(re.sub(r"\s+", "-", value.strip()))
    return found[-1] if found else None
