"""Tesseract, run directly: version, installed languages, and the three reads ingest makes.

Results come back on stdout (no output files to name and clean up) and are parsed the way
pytesseract, which ingest used before, parses them, so OCR results are the same as before
(word confidences truncated to whole numbers, as pytesseract's dictionaries give them).
Every run gets OMP_THREAD_LIMIT=1 unless the caller's environment sets it: parallelism comes
from the pool of workers, and OpenMP threads fighting over the same cores made one page take
29 s instead of 5.7 s.
"""

from __future__ import annotations

import functools
import os
import re
import string
from pathlib import Path
from typing import Any

from foiarchive.ingest.errors import OcrUnavailable
from foiarchive.ingest.programs.runner import Program, ProgramError, ProgramMissing

PROBE_TIMEOUT = 60
_LANGUAGE = re.compile(r"^[a-z_]+$")


class TesseractMissing(ProgramMissing, OcrUnavailable):
    """Tesseract is not installed: an OcrUnavailable, as the command line reports it."""


TESSERACT = Program(
    "Tesseract",
    ("tesseract",),
    "apt-get install tesseract-ocr",
    missing=TesseractMissing,
    needed_for="; install it or ingest with --ocr never",
)


def _environment() -> dict[str, str]:
    return {"OMP_THREAD_LIMIT": "1", **os.environ}


def _run(args: list[str], timeout: float) -> str:
    done = TESSERACT.run(args, timeout=timeout, env=_environment())
    return done.stdout.decode("utf-8")


@functools.cache
def version() -> str:
    """'5.3.0': the version part of `tesseract --version`, as pytesseract reported it.

    It is part of every OCR cache key: a different string for the same Tesseract would
    throw the cache away.
    """
    done = TESSERACT.run(["--version"], timeout=PROBE_TIMEOUT, env=_environment())
    return parse_version((done.stdout + done.stderr).decode("utf-8", "replace"))


def parse_version(output: str) -> str:
    """The version in `tesseract --version` output, normalised as pytesseract does (PEP 440).

    'tesseract 5.3.0' -> '5.3.0', 'tesseract v5.3.0.20221222' -> '5.3.0.20221222',
    'tesseract 4.1.1-rc2-25-g9707' -> '4.1.1'.
    """
    raw = output.lstrip(string.printable[10:]).partition(" ")[0].partition("-")[0]
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # the release numbers alone, normalised the same way
        if re.fullmatch(r"\d+(\.\d+)*", raw):
            return ".".join(str(int(part)) for part in raw.split("."))
        return raw.strip() or "unknown"
    try:
        return str(Version(raw))
    except InvalidVersion:
        return raw.strip() or "unknown"


@functools.cache
def languages() -> tuple[str, ...]:
    """The installed language data ('eng', 'osd', ...); () when Tesseract cannot tell."""
    try:
        done = TESSERACT.run(
            ["--list-langs"], timeout=PROBE_TIMEOUT, env=_environment(), check=False
        )
    except ProgramError:
        return ()
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    return tuple(line.strip() for line in output.splitlines() if _LANGUAGE.match(line.strip()))


def image_to_data(
    image: str | Path, *, languages: str, psm: int, dpi: int, timeout: float
) -> dict[str, list[Any]]:
    """Words with their boxes and confidences (TSV), as columns: {'text': [...], 'conf': ...}."""
    tsv = _run(
        [os.fspath(image), "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi), "tsv"],
        timeout,
    )
    return tsv_columns(tsv)


def image_to_string(
    image: str | Path, *, languages: str, psm: int, dpi: int, timeout: float
) -> str:
    return _run(
        [os.fspath(image), "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi)],
        timeout,
    )


def orientation(image: str | Path, *, min_characters: int, timeout: float) -> dict[str, Any]:
    """Orientation and script detection: {'rotate': 90, 'orientation_conf': 4.36, ...}.

    ProgramFailed when the page has too few characters to tell.
    """
    osd = _run(
        [os.fspath(image), "stdout", "-l", "osd", "--psm", "0",
         "-c", f"min_characters_to_try={min_characters}"],
        timeout,
    )  # fmt: skip
    return osd_fields(osd)


_OSD_FIELDS: dict[str, tuple[str, type]] = {
    "Page number": ("page_num", int),
    "Orientation in degrees": ("orientation", int),
    "Rotate": ("rotate", int),
    "Orientation confidence": ("orientation_conf", float),
    "Script": ("script", str),
    "Script confidence": ("script_conf", float),
}


def osd_fields(osd: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for line in osd.split("\n"):
        label, sep, value = line.partition(": ")
        if not sep or label not in _OSD_FIELDS or ": " in value:
            continue
        key, kind = _OSD_FIELDS[label]
        try:
            if kind is int and not value.isdigit():
                continue
            fields[key] = kind(value)
        except ValueError:
            continue
    return fields


def tsv_columns(tsv: str) -> dict[str, list[Any]]:
    """Tesseract's TSV as columns, numbers as whole numbers (pytesseract's `file_to_dict`).

    The text column, the last, stays text; a last row cut short (its text empty) is padded.
    """
    rows = [row.split("\t") for row in tsv.strip().split("\n")]
    if len(rows) < 2:
        return {}
    header, *rows = rows
    if len(rows[-1]) < len(header):
        rows[-1].append("")
    text_column = len(header) - 1
    columns: dict[str, list[Any]] = {}
    for index, name in enumerate(header):
        values: list[Any] = []
        for row in rows:
            if len(row) <= index:
                continue
            if index == text_column:
                values.append(row[index])
                continue
            try:
                values.append(int(float(row[index])))
            except ValueError:
                values.append(row[index])
        columns[name] = values
    return columns
