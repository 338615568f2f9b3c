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

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

from foiarchive.ingest.errors import IngestError

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
    """The soffice command, or an IngestError saying how to install it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise IngestError(
            "LibreOffice is needed to read Office documents: apt-get install "
            "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui"
        )
    return found


@functools.cache
def _offline() -> list[str]:
    """A command prefix that runs a program without network access, when the system allows."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    try:
        probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [unshare, "-rn"] if probe.returncode == 0 else []


@functools.cache
def version() -> str:
    """'LibreOffice 7.4.7.2', asked once per process."""
    try:
        done = subprocess.run(
            [libreoffice(), "--version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return "LibreOffice"
    return " ".join(done.stdout.split()[:2]) or "LibreOffice"


def render(source: Path, target: Path, fmt: str) -> Path:
    """Convert `source` to `fmt` at `target` (kept if already made); returns target."""
    if target.exists() and target.stat().st_size:
        return target
    soffice = libreoffice()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="foiarchive-lo-") as scratch:
        work = Path(scratch)
        # LibreOffice names its output after the input: give it a plain name of our own.
        staged = work / f"input{source.suffix.lower() or '.bin'}"
        shutil.copyfile(source, staged)
        command = [
            *_offline(),
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            fmt,
            "--outdir",
            str(work / "out"),
            str(staged),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT, cwd=work, check=False)
        except subprocess.TimeoutExpired:
            raise IngestError(f"LibreOffice took over {TIMEOUT} s to convert it") from None
        except OSError as exc:
            raise IngestError(f"cannot run LibreOffice: {exc}") from None
        produced = work / "out" / f"input.{fmt}"
        if not produced.exists() or not produced.stat().st_size:
            raise IngestError("LibreOffice could not convert it (damaged or unsupported file)")
        partial = target.with_name(target.name + ".partial")
        shutil.move(produced, partial)
        partial.replace(target)
    return target
