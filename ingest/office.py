"""Office documents read through a rendition LibreOffice makes: pages as they print.

Word, PowerPoint, RTF and OpenDocument files become PDFs (so each page, its text layer and
its image are read like any PDF, with OCR where a page is a picture); legacy Excel and
OpenDocument spreadsheets become .xlsx and are read as tables. Renditions are derivatives in
ARCHIVE/derivatives/, made once per file content; the originals go into the bag untouched.
Each conversion runs with its own throwaway LibreOffice profile, so parallel workers do not
collide, never runs macros (LibreOffice's default in headless conversion), and, where the
system allows a private network namespace (`unshare -rn`), cannot reach the network: a
document's remote links and images stay unfetched.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.programs import soffice

TIMEOUT = 300
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
RTF = "application/rtf"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

#: media type -> the format LibreOffice renders it to for reading
RENDITIONS = {
    DOCX: "pdf",
    PPTX: "pdf",
    DOC: "pdf",
    PPT: "pdf",
    RTF: "pdf",
    ODT: "pdf",
    ODP: "pdf",
    XLS: "xlsx",
    ODS: "xlsx",
}


def libreoffice() -> str:
    """The soffice command, or an IngestError (ProgramMissing) saying how to install it."""
    return soffice.path()


#: The prefix that keeps LibreOffice off the network (`unshare -rn`), or () where not allowed.
_offline = soffice.offline_prefix


def version() -> str:
    """'LibreOffice 7.4.7.2', as the PREMIS events name the renditions' maker."""
    return soffice.agent()


def render(source: Path, target: Path, fmt: str) -> Path:
    """Convert `source` to `fmt` at `target` (kept if already made); returns target."""
    if target.exists() and target.stat().st_size:
        return target
    soffice.path()  # missing: say so before copying anything
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="foiarchive-lo-") as scratch:
        work = Path(scratch)
        # LibreOffice names its output after the input: give it a plain name of our own.
        staged = work / f"input{source.suffix.lower() or '.bin'}"
        shutil.copyfile(source, staged)
        # ProgramTimedOut, ProgramMissing: IngestErrors with their one-line reasons
        soffice.convert(staged, fmt, work / "out", profile=work / "profile", timeout=TIMEOUT)
        produced = work / "out" / f"input.{fmt}"
        if not produced.exists() or not produced.stat().st_size:
            raise IngestError("LibreOffice could not convert it (damaged or unsupported file)")
        partial = target.with_name(target.name + ".partial")
        shutil.move(produced, partial)
        partial.replace(target)
    return target
