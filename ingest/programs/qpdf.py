"""qpdf, through pikepdf (its Python binding, in this process): version, and rewriting a PDF.

qpdf rebuilds a broken cross-reference table when it opens a damaged PDF; saving the result
gives a repaired copy. pikepdf is a library, not a program we start, so there is no timeout
and no process to kill; what this module shares with the others is the version probe and the
one-line errors (ProgramMissing when pikepdf is not installed, ProgramError when qpdf cannot
read the file).
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType

from foiarchive.ingest.programs.runner import ProgramError, ProgramMissing, last_line

NAME = "qpdf"


def _pikepdf() -> ModuleType:
    try:  # imported when needed: most ingests repair nothing
        import pikepdf
    except ImportError:
        raise ProgramMissing(
            NAME, "qpdf is not installed (the Python package pikepdf, a foiarchive dependency)"
        ) from None
    return pikepdf


@functools.cache
def version() -> str:
    """'11.9.0': the libqpdf pikepdf is built on."""
    return str(_pikepdf().__libqpdf_version__)


@functools.cache
def agent() -> str:
    """'qpdf 11.9.0 (pikepdf 9.4.2)', as the PREMIS events name it."""
    return f"qpdf {version()} (pikepdf {_pikepdf().__version__})"


def rewrite_pdf(source: Path, target: Path) -> None:
    """Open `source` with qpdf (repairing what it can) and save it to `target`.

    Raises ProgramError with qpdf's message when it cannot make sense of the file."""
    pikepdf = _pikepdf()
    try:
        with pikepdf.open(source) as pdf:
            pdf.save(target)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        reason = last_line(str(exc)) or type(exc).__name__
        raise ProgramError(NAME, f"qpdf could not repair it: {reason}") from None
