"""A second chance for damaged PDFs: qpdf (through pikepdf), then Ghostscript.

The repaired copy is a derivative, kept in ARCHIVE/derivatives/ and read in place of the
original; the original stays in the bag exactly as delivered. A repair that recovers no
content (Ghostscript turns a file cut short into one blank page) is no repair.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.programs import ProgramError, ghostscript, qpdf

GHOSTSCRIPT_TIMEOUT = 300
_BLANK_LEVEL = 250  # a page whose darkest pixel is lighter than this shows nothing


@dataclass(frozen=True)
class Repair:
    path: Path
    tool: str  # "qpdf 11.9.0 (pikepdf)", "Ghostscript 10.00.0"
    pages: int


def repair_pdf(source: Path, target: Path, limits: Limits) -> Repair | None:
    """A readable copy of a damaged PDF at `target`, or None when neither tool recovers one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (_with_qpdf, _with_ghostscript):
        tool = attempt(source, target)
        if tool is None:
            continue
        pages = _readable_pages(target, limits)
        if pages:
            return Repair(target, tool, pages)
    target.unlink(missing_ok=True)
    return None


def _with_qpdf(source: Path, target: Path) -> str | None:
    try:
        qpdf.rewrite_pdf(source, target)  # qpdf rebuilds a broken cross-reference table
        return qpdf.agent()
    except ProgramError:
        return None


def _with_ghostscript(source: Path, target: Path) -> str | None:
    try:
        ghostscript.rewrite_pdf(source, target, timeout=GHOSTSCRIPT_TIMEOUT)
        tool = ghostscript.agent()
    except ProgramError:  # not installed, gave up, or failed: no repair (the caller says so)
        return None
    return tool if target.exists() else None


def _readable_pages(path: Path, limits: Limits) -> int:
    """Pages in the repaired copy, or 0 when it opens to nothing but blank pages."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return 0
    try:
        count = len(pdf)
        if count == 0 or count > limits.max_pages:
            return 0
        for index in range(min(count, 20)):
            page = pdf[index]
            if page.get_textpage().get_text_range().strip():
                return count
            image = page.render(scale=24 / 72).to_pil().convert("L")
            if image.getextrema()[0] < _BLANK_LEVEL:
                return count
        return 0
    except (pdfium.PdfiumError, IngestError):
        return 0
    finally:
        pdf.close()
