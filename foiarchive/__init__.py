"""foiarchive: ingest, preserve and search FOIA productions.

`Archive` is the front door (see foiarchive.archive). The rooms are subpackages:
`foiarchive.schemas` (records and vocabularies), `foiarchive.preservation` (bags),
`foiarchive.index` (catalog and search), `foiarchive.disclosure` (reports and diffs),
`foiarchive.ingest`, and the front ends `foiarchive.search_cli` and `foiarchive.web`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from foiarchive.schemas.errors import FoiarchiveError

if TYPE_CHECKING:
    from foiarchive.archive import Archive, ArchiveNotFound

__all__ = ["Archive", "ArchiveNotFound", "FoiarchiveError"]


def __getattr__(name: str) -> Any:
    # Archive pulls in the catalog and search code; importing foiarchive.schemas alone (as a
    # worker process does) should not pay for that.
    if name in ("Archive", "ArchiveNotFound"):
        from foiarchive import archive

        return getattr(archive, name)
    raise AttributeError(f"module 'foiarchive' has no attribute {name!r}")
