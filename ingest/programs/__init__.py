"""The external programs ingest runs, one module each, all through one runner (`runner.run`).

`tesseract`, `soffice` (LibreOffice), `ghostscript` and `qpdf` (a library, pikepdf, rather
than a process) each give a cached `version()` probe and the calls the rest of ingest makes.
Whatever goes wrong is a `ProgramError`, an IngestError with a one-line reason:
`ProgramMissing`, `ProgramTimedOut`, or `ProgramFailed` with the exit code and the last line
the program wrote to stderr.
"""

from foiarchive.ingest.programs.runner import (
    Program,
    ProgramError,
    ProgramFailed,
    ProgramMissing,
    ProgramTimedOut,
    run,
)

__all__ = [
    "Program",
    "ProgramError",
    "ProgramFailed",
    "ProgramMissing",
    "ProgramTimedOut",
    "run",
]
