"""Ghostscript (`gs`): version, and rewriting a PDF through its pdfwrite device.

pdfwrite reads whatever it can of a damaged PDF and writes a new one from it: the last
resort of the PDF repair (ingest.repair), after qpdf.
"""

from __future__ import annotations

import functools
from pathlib import Path

from foiarchive.ingest.programs.runner import Program, ProgramError

PROBE_TIMEOUT = 30

GHOSTSCRIPT = Program("Ghostscript", ("gs",), "apt-get install ghostscript")


@functools.cache
def version() -> str:
    """'10.00.0', from `gs --version`."""
    done = GHOSTSCRIPT.run(["--version"], timeout=PROBE_TIMEOUT)
    found = done.stdout.decode("utf-8", "replace").strip()
    if not found:
        raise ProgramError(GHOSTSCRIPT.name, "Ghostscript did not say its version")
    return found


def agent() -> str:
    """'Ghostscript 10.00.0', as the PREMIS events name it."""
    return f"Ghostscript {version()}"


def rewrite_pdf(source: Path, target: Path, *, timeout: float) -> None:
    """A new PDF at `target` from what Ghostscript can read of `source` (-dSAFER: no file or
    device access beyond the two). Raises ProgramMissing, ProgramTimedOut or ProgramFailed."""
    GHOSTSCRIPT.run(
        ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
         f"-sOutputFile={target}", "--", str(source)],
        timeout=timeout,
    )  # fmt: skip
