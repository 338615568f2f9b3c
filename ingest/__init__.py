"""Source files -> records: identify, read text layers, OCR, and take productions into the archive.

from pathlib import Path
from foiarchive import Archive
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.schemas import Production

report = ingest_production(Archive("archive"), Path("release-1"),
                           Production(id="ice-2017-r1"), IngestOptions(jobs=2))
"""

from foiarchive.ingest.bag_import import InvalidBag, import_bag
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
    "InvalidBag",
    "OcrUnavailable",
    "Progress",
    "import_bag",
    "ingest_production",
]
