"""Litigation load files: a Concordance .dat of document fields and an Opticon .opt of pages.

The DAT holds one row per document (fields quoted with þ and separated by ASCII 20, the
first row naming them: BEGBATES, ENDBATES, CUSTODIAN, ...); the OPT lists every page image
in order (`key,volume,path,Y-if-a-document-starts,,,pages`). A document is assembled from
the images between its first and last Bates keys; every DAT field becomes its metadata. Image
paths are taken relative to the load file's folder and never followed out of the production.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from foiarchive.ingest.errors import IngestError
from foiarchive.schemas import bates_columns

QUOTE, SEPARATOR, NEWLINE = "\u00fe", "\x14", "\u00ae"


@dataclass(frozen=True)
class OptPage:
    key: str  # the page's Bates number
    image: str  # as written in the OPT
    starts_document: bool


@dataclass
class Assembled:
    begin: str
    end: str
    fields: dict[str, str]
    pages: list[tuple[str, str]] = field(default_factory=list)  # (Bates key, image path)


def read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def parse_dat(path: Path) -> list[dict[str, str]]:
    """The DAT's rows as {field name: value}; IngestError if it is not one."""
    text = read_text(path)
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cells = [c.strip().strip(QUOTE).replace(NEWLINE, "\n") for c in line.split(SEPARATOR)]
        rows.append(cells)
    if len(rows) < 2:
        raise IngestError(f"{path.name}: a Concordance DAT needs a header row and documents")
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def parse_opt(path: Path) -> list[OptPage]:
    pages = []
    for number, row in enumerate(csv.reader(io.StringIO(read_text(path))), start=1):
        if not row or not row[0].strip():
            continue
        if len(row) < 4:
            raise IngestError(f"{path.name}: line {number} is no Opticon page line")
        pages.append(OptPage(row[0].strip(), row[2].strip(), row[3].strip().upper() == "Y"))
    return pages


def assemble(rows: list[dict[str, str]], pages: list[OptPage]) -> tuple[list[Assembled], list[str]]:
    """Documents with their page images, and one line per problem found."""
    position = {page.key: i for i, page in enumerate(pages)}
    documents, problems = [], []
    names = list(rows[0]) if rows else []  # every row has the DAT header's names
    first, last = bates_columns(names)
    for row in rows:
        begin = row.get(names[first], "") if first is not None else ""
        end = row.get(names[last], "") if last is not None else ""
        if not begin or begin not in position:
            problems.append(f"document {begin or '(no BEGBATES)'}: no such page in the OPT")
            continue
        start = position[begin]
        if end and end in position:
            stop = position[end]
        else:
            stop = next(
                (i - 1 for i in range(start + 1, len(pages)) if pages[i].starts_document),
                len(pages) - 1,
            )
        if stop < start:
            problems.append(f"document {begin}: ENDBATES {end} comes before it in the OPT")
            continue
        document = Assembled(begin, end or pages[stop].key, row)
        document.pages = [(p.key, p.image) for p in pages[start : stop + 1]]
        documents.append(document)
    return documents, problems


def image_path(root: Path, load_file: Path, written: str) -> Path | None:
    """Where an OPT's image path points, or None if it leaves the production folder."""
    windows = PureWindowsPath(written)
    parts = PurePosixPath(*windows.parts) if "\\" in written else PurePosixPath(written)
    if parts.is_absolute() or windows.drive or ".." in parts.parts:
        return None
    for base in (load_file.parent, root):
        candidate = base.joinpath(*parts.parts)
        try:
            candidate.resolve(strict=True).relative_to(root.resolve())
        except (OSError, ValueError, RuntimeError):
            continue
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None
