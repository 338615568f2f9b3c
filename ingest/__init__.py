"""Source files -> records: identify, read text layers, OCR, and take productions into the archive.

from pathlib import Path
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.schemas import Production

report = ingest_production(Path("archive"), Path("release-1"), Production(id="ice-2017-r1"),
                           IngestOptions(jobs=2))
"""

from foiarchive.ingest.errors import IngestError, OcrUnavailable
from foiarchive.ingest.pipeline import (
    IngestOptions,
    IngestReport,
    Interrupted,
    Progress,
    ingest_production,
)

__all__ = [
    "IngestError",
    "IngestOptions",
    "IngestReport",
    "Interrupted",
    "OcrUnavailable",
    "Progress",
    "ingest_production",
]
