"""Where everything lives inside an archive folder: the one place the folder's layout is named.

`foiarchive.Archive` owns a Layout; the rooms below it receive the paths they need from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """The archive folder `root` and the places inside it (DESIGN.md, "The archive on disk")."""

    root: Path

    @property
    def catalog_file(self) -> Path:
        """SQLite (WAL): productions, documents, pages, events; the working source of truth."""
        return self.root / "catalog.sqlite"

    @property
    def workspace_file(self) -> Path:
        """SQLite: what people add beside the records (watches; accounts, notes, tags later).
        Never the catalog: a rebuild from the bags recreates the catalog and keeps this."""
        return self.root / "workspace.sqlite"

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def search_dir(self) -> Path:
        """The embedded Tantivy index, derived from the catalog."""
        return self.root / "search"

    @property
    def bags_dir(self) -> Path:
        """One BagIt bag per production: the preservation master."""
        return self.root / "bags"

    def bag(self, production_id: str) -> Path:
        return self.bags_dir / production_id

    @property
    def ocr_cache_dir(self) -> Path:
        """OCR results by content hash."""
        return self.root / "cache" / "ocr"

    @property
    def page_cache_dir(self) -> Path:
        """Page images the web viewer rendered."""
        return self.root / "cache" / "pages"

    @property
    def diff_cache_dir(self) -> Path:
        """Page-image comparisons of the release diffs the web served (disclosure.pixel_cache)."""
        return self.root / "cache" / "diff"

    @property
    def derivatives_dir(self) -> Path:
        """Copies made to read a file (repaired PDFs, Office files as PDF), named by the sha256
        of the original; the originals stay as delivered."""
        return self.root / "derivatives"

    @property
    def members_dir(self) -> Path:
        """Files that arrived inside a ZIP archive or an email, unpacked once and named by their
        sha256, so that they can be shown and downloaded on their own; the bag keeps them inside
        their container, as delivered."""
        return self.root / "members"

    @property
    def quarantine_dir(self) -> Path:
        """Copies of refused files beside the reason each was refused."""
        return self.root / "quarantine"

    @property
    def staging_dir(self) -> Path:
        """Bags, exports and imports being built; moved into place atomically when whole."""
        return self.root / "staging"
