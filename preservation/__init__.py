"""Preservation: BagIt bags per production, fixity audits, PREMIS event logs, export and import,
and the one safe reader for the ZIP and tar archives foiarchive opens (`packages`).

The bag is the master copy of a production: the originals bit for bit under data/, and under
foiarchive/ everything needed to rebuild the catalog and search index without them.
"""

from foiarchive.preservation.bag import (
    BagError,
    BagSummary,
    PayloadFile,
    read_manifest,
    recover,
    refresh_tag_files,
    write_bag,
)
from foiarchive.preservation.packages import PackageLimits, UnsafePackage
from foiarchive.preservation.production import BagRecords, bag_production, premis_for, read_records
from foiarchive.preservation.profile import check_profile, foiarchive_profile
from foiarchive.preservation.validate import BagReport, Problem, file_digest, validate_bag

__all__ = [
    "BagError",
    "BagRecords",
    "BagReport",
    "BagSummary",
    "PackageLimits",
    "PayloadFile",
    "Problem",
    "UnsafePackage",
    "bag_production",
    "check_profile",
    "file_digest",
    "foiarchive_profile",
    "premis_for",
    "read_manifest",
    "read_records",
    "recover",
    "refresh_tag_files",
    "validate_bag",
    "write_bag",
]
