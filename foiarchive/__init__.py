"""foiarchive: ingest, preserve and search FOIA productions.

The rooms are subpackages: `foiarchive.schemas` (records and vocabularies),
`foiarchive.preservation` (bags), `foiarchive.index` (catalog and search), `foiarchive.ingest`,
`foiarchive.search_cli` and `foiarchive.web`.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("foiarchive")
except metadata.PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0+unknown"
