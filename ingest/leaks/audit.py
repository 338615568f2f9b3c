"""Every detector over one file: what `foiarchive audit` and the ingest of a document run.

PDF pages are examined where the text layer is read (ingest.pdf, one render pair per page);
this module adds what belongs to the whole file and dispatches Office files and workbooks.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium

from foiarchive.ingest import office as renditions
from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.identify import XLSX, identify
from foiarchive.ingest.leaks import office, pages, residual, sheets
from foiarchive.schemas.findings import Finding

PDF = "application/pdf"
#: Files larger than this are not read whole into memory for the revision check.
MAX_REVISION_BYTES = 512 * 1024 * 1024


def document_leaks(
    path: Path, page_findings: list[Finding], texts: Callable[[], list[str]]
) -> list[Finding]:
    """What a PDF keeps besides its pages, given what its pages hid. `texts` gives the final
    text of every page, read only when an earlier revision or a bookmark needs it: reading
    it again doubled the cost of a born-digital file's text layer (bench.ingest)."""
    hidden = {w for f in page_findings for w in residual.words(f.text)}
    final: list[list[str]] = []

    def final_texts() -> list[str]:
        if not final:
            final.append(texts())
        return final[0]

    findings: list[Finding] = []
    if path.stat().st_size <= MAX_REVISION_BYTES:
        ends = residual.revision_ends(path)
        if ends:
            findings += residual.earlier_revisions(path, ends, final_texts())

    def visible() -> set[str]:
        return residual.words("\n".join(final_texts())) - hidden

    return findings + residual.structure(path, visible, hidden)


def pdf_texts(path: Path) -> list[str]:
    try:
        with pdfium.PdfDocument(str(path)) as pdf:
            return residual.page_texts(pdf)
    except pdfium.PdfiumError:
        return []


def original_leaks(path: Path, media_type: str) -> list[Finding]:
    """What an Office original keeps that its rendition does not show."""
    try:
        if media_type == renditions.DOCX:
            return office.word_leaks(path)
        if media_type == renditions.PPTX:
            return office.slides_leaks(path)
        if media_type == XLSX:
            return sheets.sheet_leaks(path)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise IngestError(f"cannot look inside for leaks: {exc}") from None
    return []


def pdf_leaks(path: Path) -> list[Finding]:
    """Every page of a PDF, then the whole file."""
    from foiarchive.ingest.pdf import is_scan, open_pdf

    findings: list[Finding] = []
    texts: list[str] = []
    with open_pdf(path) as pdf:
        for index in range(len(pdf)):
            findings += pages.page_leaks(pdf, index, is_scan(pdf, index)).findings
        texts = residual.page_texts(pdf)
    return findings + document_leaks(path, findings, lambda: texts)


def audit(path: Path) -> list[Finding]:
    """All findings for one file outside any archive; IngestError when it cannot be read."""
    media_type = identify(path).media_type
    if media_type == PDF:
        return pdf_leaks(path)
    findings = original_leaks(path, media_type)
    fmt = renditions.RENDITIONS.get(media_type)
    if fmt == "pdf":
        with tempfile.TemporaryDirectory(prefix="foiarchive-audit-") as folder:
            rendition = renditions.render(path, Path(folder) / f"rendition.{fmt}", fmt)
            findings += [_from_rendition(f) for f in pdf_leaks(rendition)]
    elif fmt == "xlsx":
        with tempfile.TemporaryDirectory(prefix="foiarchive-audit-") as folder:
            rendition = renditions.render(path, Path(folder) / f"rendition.{fmt}", fmt)
            findings += sheets.sheet_leaks(rendition)
    elif media_type not in (XLSX, renditions.DOCX, renditions.PPTX):
        return []
    return findings


def _from_rendition(finding: Finding) -> Finding:
    finding.how = f"{finding.how} (on the PDF rendition)"
    return finding
