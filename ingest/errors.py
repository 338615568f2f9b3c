"""Errors a user can cause with a file; each carries a one-line reason for the report."""

from __future__ import annotations

from foiarchive.schemas.errors import FoiarchiveError


class IngestError(FoiarchiveError):
    """A file that cannot be ingested. str(error) is the reason shown beside the file name."""


class UnsupportedFile(IngestError):
    pass


class OcrUnavailable(IngestError):
    """Tesseract (or a requested language) is missing on this machine."""


class DamagedPdf(IngestError):
    """A PDF whose structure is broken (truncated, bad cross-reference table): worth a repair."""


class ClusterError(FoiarchiveError):
    """The Dask cluster cannot be used, or was lost mid-run: the whole ingest stops (the catalog
    keeps every document completed; the same command resumes)."""


class SourceLost(Exception):
    """The only worker holding a source file's bytes died: the file's tasks run again."""
