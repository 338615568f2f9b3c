"""Taking an outside bag into the archive: validate it, then ingest its payload as a production.

Apart from `preserve` (which the pipeline calls to write bags) so that the two do not import
each other.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from foiarchive import preservation
from foiarchive.archive import Archive
from foiarchive.ingest.pipeline import IngestOptions, IngestReport, ingest_production
from foiarchive.ingest.preserve import unpack
from foiarchive.ingest.report import FileIssue
from foiarchive.preservation import BagReport, Problem
from foiarchive.schemas import ManifestError, Production, validate_production


class InvalidBag(preservation.BagError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"invalid bag: {problems[0]}" if problems else "invalid bag")
        self.problems = problems


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", value.lower()).strip("-._")
    return slug[:100] or "imported"


def _production_of(bag: Path, report: BagReport) -> Production:
    described = bag / "foiarchive" / "production.json"
    if described.is_file():
        try:
            return validate_production(
                json.loads(described.read_text("utf-8")), source=str(described)
            )
        except (ValueError, ManifestError):
            pass  # fall back to bag-info.txt

    def first(label: str) -> str:
        values = report.info_values(label)
        return values[0] if values else ""

    return Production(
        id=_slug(first("FOIA-Production-Id") or first("External-Identifier") or bag.name),
        title=first("External-Description") or first("Title"),
        agency=first("FOIA-Agency") or first("Source-Organization"),
        request_number=first("FOIA-Request-Number") or first("External-Identifier"),
        release_date=first("FOIA-Release-Date"),
        source=f"imported bag {bag.name}",
    )


def import_bag(
    archive: Archive,
    bag: Path,
    *,
    production_id: str | None = None,
    agency: str | None = None,
    require_profile: bool = False,
    jobs: int = 2,
    notify_command: str = "",
) -> IngestReport:
    """Validate an outside bag (folder, tar or zip) and ingest its payload as a production.

    Reading only: a folder is validated where it lies, an archive is unpacked into the
    archive's staging folder; an invalid bag raises InvalidBag with every problem found.
    """
    staging = archive.layout.staging_dir
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging, prefix="import-") as scratch:
        folder = bag if bag.is_dir() else unpack(bag, Path(scratch))
        report = preservation.validate_bag(folder, workers=jobs)
        problems = list(report.problems)
        if require_profile and report.valid:
            problems += preservation.check_profile(report)
        if problems:
            raise InvalidBag(problems)
        production = _production_of(folder, report)
        if production_id:
            production.id = production_id
        if agency:
            production.agency = agency
        production = validate_production(
            {
                k: v
                for k, v in production.to_dict().items()
                if v not in ("", [], None) and k != "ingested_at"
            },
            source=str(bag),
        )
        options = IngestOptions(jobs=jobs, notify_command=notify_command)
        ingested = ingest_production(archive, folder / "data", production, options)
        # valid but questionable (an md5sum-style manifest, a name in another normalization)
        ingested.warnings[:0] = [
            FileIssue(f"{bag.name}/{w.path}".rstrip("/"), w.message) for w in report.warnings
        ]
        return ingested
