"""Page-pair image comparisons of one production pair's diff, kept between requests.

Comparing a scanned page pair by image renders both pages and reads each changed region with
Tesseract: 1-2 s a pair (bench.diff_real), so a diff of a few hundred scanned pages took minutes
on every request to the web's /diff. A comparison depends only on the two pages' files and the
comparison itself, so an entry is keyed by each document's id, file hash and ingest time and
the page numbers, and the file by CACHE_VERSION: a re-ingested release makes new keys.

One JSON file per (old, new) production pair under ARCHIVE/cache/diff, written under a
temporary name and renamed (two requests may write it at once; each file is whole). Saving keeps
only the entries this diff used, so the file never holds more than the pair's pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from foiarchive.disclosure.page_images import PixelResult, RegionChange
from foiarchive.schemas import Document, Page

#: Part of every file's name: changed when the comparison finds other regions for the same pages.
CACHE_VERSION = 1
#: A cache file larger than this is not read (a pair of 10,000 pages with a region each).
MAX_FILE_BYTES = 256 * 1024 * 1024


class PixelCache:
    """The cached comparisons of one production pair: `get`/`put` by page pair, then `save`."""

    def __init__(self, directory: Path, old_id: str, new_id: str) -> None:
        digest = hashlib.sha256(f"{old_id}\0{new_id}".encode()).hexdigest()[:32]
        self.path = directory / f"v{CACHE_VERSION}-{digest}.json"
        self._stored = _load(self.path)
        self._used: dict[str, dict[str, Any] | None] = {}
        self._added = False

    @staticmethod
    def key(old: Document, old_page: Page, new: Document, new_page: Page) -> str:
        sides = ((old, old_page), (new, new_page))
        return "|".join(f"{d.id}:{d.sha256}:{d.ingested_at}:{p.number}" for d, p in sides)

    def __contains__(self, key: str) -> bool:
        return key in self._stored

    def get(self, key: str) -> PixelResult | None:
        """The stored result (None: the pages were to be compared by text)."""
        data = self._used[key] = self._stored[key]
        if data is None:
            return None
        regions = [RegionChange(**{**r, "box": tuple(r["box"])}) for r in data["regions"]]
        return PixelResult(regions, data["seconds"], data["score"])

    def put(self, key: str, result: PixelResult | None) -> None:
        """Keep a fresh result; one with a region left unread (Tesseract failing) is not kept."""
        if result is not None and any(r.unread for r in result.regions):
            return
        self._used[key] = None if result is None else dataclasses.asdict(result)
        self._added = True

    def save(self) -> None:
        """Write the entries this diff used, if any was new."""
        if not self._added:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=self.path.parent, prefix=".diff-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self._used, out)
            os.replace(scratch, self.path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise


def _load(path: Path) -> dict[str, dict[str, Any] | None]:
    """The stored entries; none from a missing, oversized or unreadable file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
