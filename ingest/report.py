"""What an ingest run did, file by file: the report the command line prints and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileIssue:
    path: str
    reason: str


@dataclass
class IngestReport:
    production: str
    files: int = 0
    ingested: int = 0
    skipped: int = 0
    pages: int = 0
    pages_ocr: int = 0
    pages_ocr_cached: int = 0
    text_layers_replaced: int = 0  # scanned pages whose poor text layer our OCR replaced
    failures: list[FileIssue] = field(default_factory=list)
    warnings: list[FileIssue] = field(default_factory=list)
    seconds: float = 0.0
    indexed_pages: int = 0
    index_warning: str = ""
    bag_files: int = 0
    bag_warning: str = ""
    splits: list[dict[str, Any]] = field(default_factory=list)  # merged PDFs cut into records
    cluster: dict[str, Any] = field(default_factory=dict)  # a cluster run: tasks, bytes sent
    #: what the archive's watches found new, one line per watch and production
    watches: list[str] = field(default_factory=list)
    watch_warning: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "production": self.production,
            "files": self.files,
            "ingested": self.ingested,
            "skipped": self.skipped,
            "pages": self.pages,
            "pages_ocr": self.pages_ocr,
            "pages_ocr_cached": self.pages_ocr_cached,
            "text_layers_replaced": self.text_layers_replaced,
            "failed": len(self.failures),
            "failures": [vars(f) for f in self.failures],
            "warnings": [vars(w) for w in self.warnings],
            "seconds": round(self.seconds, 2),
            "indexed_pages": self.indexed_pages,
            "index_warning": self.index_warning,
            "splits": self.splits,
            "bag_files": self.bag_files,
            "bag_warning": self.bag_warning,
            **({"cluster": self.cluster} if self.cluster else {}),
            "watches": self.watches,
            "watch_warning": self.watch_warning,
        }
