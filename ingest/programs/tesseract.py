"""Tesseract, through pytesseract: version, installed languages, and the three reads ingest makes.

pytesseract runs the `tesseract` command and parses its output; this module gives its calls one
timeout rule and turns its errors into the runner's one-line errors (missing, timed out,
failed with the exit code and Tesseract's last line). Every run gets OMP_THREAD_LIMIT=1 unless
the environment sets it: parallelism comes from the pool of workers, and OpenMP threads
fighting over the same cores made one page take 29 s instead of 5.7 s.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytesseract

from foiarchive.ingest.errors import OcrUnavailable
from foiarchive.ingest.programs.runner import (
    Program,
    ProgramFailed,
    ProgramMissing,
    ProgramTimedOut,
)


class TesseractMissing(ProgramMissing, OcrUnavailable):
    """Tesseract is not installed: an OcrUnavailable, as the command line reports it."""


TESSERACT = Program(
    "Tesseract",
    ("tesseract",),
    "apt-get install tesseract-ocr",
    missing=TesseractMissing,
    needed_for="; install it or ingest with --ocr never",
)


def _call(read: Callable[..., Any], *args: Any, timeout: float | None, **options: Any) -> Any:
    """One pytesseract call, its errors as the runner's (pytesseract's probes take no timeout:
    None)."""
    pytesseract.pytesseract.tesseract_cmd = TESSERACT.path()  # TesseractMissing if none
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        if timeout is not None:
            options["timeout"] = timeout
        return read(*args, **options)
    except pytesseract.TesseractNotFoundError:
        TESSERACT.path()  # gone since: says how to install it
        raise
    except pytesseract.TesseractError as exc:  # a RuntimeError too: caught first
        lines = [line for line in str(exc.message).splitlines() if line.strip()]
        raise ProgramFailed(TESSERACT.name, exc.status, lines[-1] if lines else "") from None
    except RuntimeError:  # how pytesseract says it stopped Tesseract at the timeout
        raise ProgramTimedOut(TESSERACT.name, timeout or 0) from None


@functools.cache
def version() -> str:
    """'5.3.0': Tesseract's version as pytesseract reports it. It is part of every OCR cache key:
    a different string for the same Tesseract would throw the cache away."""
    return str(_call(pytesseract.get_tesseract_version, timeout=None))


@functools.cache
def languages() -> tuple[str, ...]:
    """The installed language data ('eng', 'osd', ...); () when Tesseract cannot tell."""
    try:
        return tuple(_call(pytesseract.get_languages, config="", timeout=None))
    except (ProgramFailed, ProgramTimedOut):
        return ()


def image_to_data(
    image: str | Path, *, languages: str, psm: int, dpi: int, timeout: float
) -> dict[str, list[Any]]:
    """Words with their boxes and confidences, as columns: {'text': [...], 'conf': ...}."""
    result: dict[str, list[Any]] = _call(
        pytesseract.image_to_data,
        os.fspath(image),
        lang=languages,
        config=f"--psm {psm} --dpi {dpi}",
        output_type=pytesseract.Output.DICT,
        timeout=timeout,
    )
    return result


def image_to_string(
    image: str | Path, *, languages: str, psm: int, dpi: int, timeout: float
) -> str:
    text: str = _call(
        pytesseract.image_to_string,
        os.fspath(image),
        lang=languages,
        config=f"--psm {psm} --dpi {dpi}",
        timeout=timeout,
    )
    return text


def orientation(image: str | Path, *, min_characters: int, timeout: float) -> dict[str, Any]:
    """Orientation and script detection: {'rotate': 90, 'orientation_conf': 4.36, ...}.

    ProgramFailed when the page has too few characters to tell.
    """
    result: dict[str, Any] = _call(
        pytesseract.image_to_osd,
        os.fspath(image),
        config=f"--psm 0 -c min_characters_to_try={min_characters}",
        output_type=pytesseract.Output.DICT,
        timeout=timeout,
    )
    return result


def scratch_dir() -> str | None:
    """Where page images for Tesseract are written: memory (/dev/shm) when the system has it."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
