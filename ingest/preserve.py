"""Keeping productions as bags: bag after ingest, verify, export, import and rebuild.

This module wires the catalog (`index`) to the bag machinery (`preservation`): it decides
where each original comes from (the source folder, or the production's previous bag when
the file was ingested in an earlier run) and records every preservation action as an event.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from foiarchive import index, preservation
from foiarchive.archive import Archive
from foiarchive.index.catalog import Catalog, now_iso
from foiarchive.preservation import BagReport, PayloadFile, Problem, packages
from foiarchive.preservation.packages import UnsafePackage
from foiarchive.schemas import Event, Production

AGENT = "foiarchive"
ExportFormat = Literal["dir", "tar", "zip"]


@dataclass
class BagOutcome:
    files: int = 0
    octets: int = 0
    missing: list[str] = field(default_factory=list)  # originals that could not be found


def preserve_production(
    archive: Archive,
    catalog: Catalog,
    production: Production,
    sources: dict[str, tuple[Path, str]],
    *,
    empty_folders: list[str] | None = None,
    workers: int = 2,
) -> BagOutcome:
    """(Re)write the production's bag from the catalog's records and the originals.

    `sources` maps a document path to the file read in this run and its sha256. Originals
    ingested in earlier runs are taken from the previous bag, hard-linked when possible.
    """
    preservation.recover(archive.layout.staging_dir)
    target = archive.layout.bag(production.id)
    previous: dict[str, dict[str, str]] = {}
    if target.is_dir():
        for algorithm in preservation.bag.ALGORITHMS:
            try:
                for path, digest in preservation.read_manifest(target, algorithm).items():
                    previous.setdefault(path, {})[algorithm] = digest
            except OSError:
                previous = {}
                break
    documents = catalog.documents(production.id)
    payload: list[PayloadFile] = []
    outcome = BagOutcome()
    for document in documents:
        if not document.is_original:
            continue  # nothing was read, or its bytes are inside the ZIP or email kept
        source = sources.get(document.path)
        if source is not None and source[1] == document.sha256:
            payload.append(PayloadFile(document.path, source[0], document.sha256))
            continue
        known = previous.get(f"data/{document.path}", {})
        if known.get("sha256") == document.sha256:
            payload.append(
                PayloadFile(
                    document.path,
                    target / "data" / document.path,
                    document.sha256,
                    tuple(sorted(known.items())),
                )
            )
        else:
            outcome.missing.append(document.path)
    summary = preservation.bag_production(
        target,
        production,
        documents,
        catalog.pages,
        catalog.events(production.id),
        payload,
        staging=archive.layout.staging_dir,
        workers=workers,
        empty_folders=empty_folders or (),
    )
    catalog.add_event(
        Event(
            "replication",
            production.id,
            "success",
            f"bag written: {summary.files} files, {summary.octets} bytes, "
            "sha256 and sha512 manifests",
            AGENT,
        )
    )
    outcome.files, outcome.octets = summary.files, summary.octets
    return outcome


# -- verify -------------------------------------------------------------------------------
@dataclass
class Audit:
    production: str
    report: BagReport
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "production": self.production,
            "valid": self.ok,
            "checked": self.report.checked,
            "files": self.report.payload_files,
            "bytes": self.report.payload_bytes,
            "problems": [str(p) for p in self.problems],
        }


def audit(
    archive: Archive,
    catalog: Catalog,
    productions: list[str],
    *,
    fast: bool,
    older_than: float | None = None,
    workers: int = 2,
) -> list[Audit]:
    """Verify the named productions' bags (all when none are named), or only those not fully
    verified in the last `older_than` days."""
    names = productions or [s.production.id for s in catalog.productions()]
    unknown = [n for n in names if catalog.production(n) is None]
    if unknown:
        raise index.CatalogError(f"no production {unknown[0]!r} in this archive")
    if older_than is not None:
        names = unverified(catalog, names, older_than)
    return [verify(archive, catalog, name, fast=fast, workers=workers) for name in names]


def verify(
    archive: Archive, catalog: Catalog, production_id: str, *, fast: bool, workers: int
) -> Audit:
    """Audit one production's bag (fast: completeness and Payload-Oxum; else every checksum),
    check it against the catalog and the profile, and record a fixity-check event."""
    bag = archive.layout.bag(production_id)
    report = preservation.validate_bag(bag, fast=fast, workers=workers)
    problems = list(report.problems)
    if report.version:
        problems += preservation.check_profile(report)
    if (bag / "manifest-sha256.txt").is_file():
        listed = preservation.read_manifest(bag, "sha256")
        for document in catalog.documents(production_id):
            if document.is_original and listed.get(f"data/{document.path}") != document.sha256:
                problems.append(
                    Problem(
                        f"data/{document.path}",
                        "the catalog's sha256 differs from the bag's manifest",
                    )
                )
    mode = "fast (completeness, Payload-Oxum)" if fast else "full (every checksum)"
    detail = f"{mode}: " + ("valid" if not problems else "; ".join(str(p) for p in problems[:20]))
    catalog.add_event(
        Event(
            "fixity check", production_id, "success" if not problems else "failure", detail, AGENT
        )
    )
    if not problems:
        _refresh_premis(catalog, production_id, bag)  # a damaged bag is left as evidence
    return Audit(production_id, report, problems)


def _refresh_premis(
    catalog: Catalog, production_id: str, bag: Path, extra: Event | None = None
) -> None:
    """Write the production's whole event history into the bag's premis.xml."""
    production = catalog.production(production_id)
    if production is None:
        return
    events = catalog.events(production_id) + ([extra] if extra else [])
    preservation.refresh_tag_files(
        bag, preservation.premis_for(production, catalog.documents(production_id), events)
    )


def unverified(catalog: Catalog, productions: list[str], older_than_days: float) -> list[str]:
    """Productions whose last full fixity check is older than N days (or that never had one)."""
    limit = datetime.now(UTC) - timedelta(days=older_than_days)
    stale = []
    for production_id in productions:
        checks = [
            e
            for e in catalog.events(production_id)
            if e.type == "fixity check" and e.detail.startswith("full")
        ]
        last = checks[-1].time if checks else ""
        when = datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None
        if when is None or when < limit:
            stale.append(production_id)
    return stale


# -- export -------------------------------------------------------------------------------
@dataclass
class Export:
    path: Path
    checksum_file: Path | None
    sha256: str


def export(
    archive: Archive,
    catalog: Catalog,
    production_id: str,
    destination: Path,
    fmt: ExportFormat,
    *,
    workers: int = 2,
) -> Export:
    """Copy a bag out (folder, tar or zip), validate the copy, record the export."""
    if catalog.production(production_id) is None:
        raise index.CatalogError(f"no production {production_id!r} in this archive")
    bag = archive.layout.bag(production_id)
    if not (bag / "bagit.txt").is_file():
        raise preservation.BagError(f"{production_id}: no bag in this archive")
    if fmt == "dir":
        target = destination if not destination.exists() else destination / production_id
    else:
        suffix = ".tar" if fmt == "tar" else ".zip"
        target = destination / f"{production_id}{suffix}" if destination.is_dir() else destination
    if target.exists():
        raise preservation.BagError(f"{target}: already exists")
    if not target.parent.is_dir():
        raise preservation.BagError(f"{target.parent}: no such folder to export into")
    event = Event(
        "replication",
        production_id,
        "success",
        f"exported as {fmt} to {target}, validated",
        AGENT,
        now_iso(),
    )
    staging = archive.layout.staging_dir
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging, prefix="export-") as scratch:
        copy = Path(scratch) / production_id
        shutil.copytree(bag, copy)
        _refresh_premis(catalog, production_id, copy, extra=event)  # the copy logs its export
        report = preservation.validate_bag(copy, workers=workers)
        if not report.valid:
            raise preservation.BagError(f"exported copy is invalid: {report.problems[0]}")
        temporary = target.with_name(f".{target.name}.partial")
        if fmt == "dir":
            shutil.copytree(copy, temporary)
            temporary.rename(target)
            result = Export(target, None, "")
        else:
            _serialize(copy, temporary, production_id, fmt)
            problems = verify_package(temporary, workers=workers, checksum=False)
            if problems:
                temporary.unlink()
                raise preservation.BagError(f"exported package is invalid: {problems[0]}")
            digest = preservation.file_digest(temporary)
            temporary.rename(target)
            checksum = target.with_name(target.name + ".sha256")
            checksum.write_text(f"{digest}  {target.name}\n", encoding="utf-8")
            result = Export(target, checksum, digest)
    catalog.add_event(event)
    _refresh_premis(catalog, production_id, bag)
    return result


def _serialize(bag: Path, target: Path, top: str, fmt: ExportFormat) -> None:
    files = sorted(p for p in bag.rglob("*"))
    if fmt == "tar":
        with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in files:
                tar.add(path, arcname=f"{top}/{path.relative_to(bag).as_posix()}", recursive=False)
    else:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as package:
            for path in files:
                name = f"{top}/{path.relative_to(bag).as_posix()}"
                if path.is_dir():
                    package.writestr(zipfile.ZipInfo(name + "/"), b"")
                else:
                    package.write(path, name)


def verify_package(package: Path, *, workers: int = 2, checksum: bool = True) -> list[Problem]:
    """Check a serialized export: its .sha256 sidecar, then the bag inside."""
    problems = []
    sidecar = package.with_name(package.name + ".sha256")
    if checksum and not sidecar.is_file():
        problems.append(Problem(package.name, f"no checksum file {sidecar.name}"))
    elif checksum and preservation.file_digest(package) != sidecar.read_text("utf-8").split()[0]:
        problems.append(Problem(package.name, "package checksum does not match its .sha256"))
    with tempfile.TemporaryDirectory() as scratch:
        try:
            bag = unpack(package, Path(scratch))
        except UnsafePackage as exc:
            return [*problems, Problem(package.name, exc.detail)]
        problems += preservation.validate_bag(bag, workers=workers).problems
    return problems


# -- safe unpacking -----------------------------------------------------------------------
def unpack(package: Path, into: Path) -> Path:
    """Extract a tar or zip bag into `into` (preservation.packages.unpack: the one safe reader,
    with its limits), refusing links, devices, escapes and bombs; returns the bag folder."""
    return packages.unpack(package, into)


# -- rebuild ------------------------------------------------------------------------------
@dataclass
class RebuildReport:
    productions: int = 0
    documents: int = 0
    pages: int = 0
    skipped: list[str] = field(default_factory=list)
    backup: Path | None = None
    index_warning: str = ""


def rebuild(archive: Archive, *, skip_invalid: bool = False) -> RebuildReport:
    """Recreate the catalog (and then the search index) from the bags alone.

    Every bag is checked first (completeness and Payload-Oxum); if one fails, nothing is
    changed unless `skip_invalid`. The current catalog is kept as catalog.sqlite.<time>.bak.
    """
    preservation.recover(archive.layout.staging_dir)
    report = RebuildReport()
    bags = sorted(archive.layout.bags_dir.iterdir()) if archive.layout.bags_dir.is_dir() else []
    if not bags:
        raise preservation.BagError(f"{archive.layout.bags_dir}: no bags to rebuild from")
    invalid = {}
    for bag in bags:
        check = preservation.validate_bag(bag, fast=True)
        if not check.valid:
            invalid[bag.name] = check.problems[0]
    if invalid and not skip_invalid:
        names = "; ".join(f"{name}: {problem}" for name, problem in invalid.items())
        raise preservation.BagError(
            f"{len(invalid)} bags fail their check ({names}); nothing was changed. "
            "Run 'foiarchive verify', or rebuild --skip-invalid to leave them out"
        )
    catalog_file = archive.layout.catalog_file
    new_file = catalog_file.with_name(catalog_file.name + ".rebuilding")
    for leftover in (new_file, Path(f"{new_file}-wal"), Path(f"{new_file}-shm")):
        leftover.unlink(missing_ok=True)
    with Catalog(new_file) as catalog:
        for bag in bags:
            if bag.name in invalid:
                report.skipped.append(f"{bag.name}: {invalid[bag.name]}")
                continue
            try:
                records = preservation.read_records(bag)
            except (OSError, ValueError, KeyError) as exc:
                report.skipped.append(f"{bag.name}: unreadable foiarchive records ({exc})")
                continue
            catalog.put_production(records.production)
            for document in records.documents:
                catalog.put_document(document, records.pages.get(document.id, []))
                report.documents += 1
                report.pages += len(records.pages.get(document.id, []))
            for event in records.events:
                catalog.add_event(event)
            report.productions += 1
        catalog.add_event(
            Event(
                "validation",
                "archive",
                "success",
                f"catalog rebuilt from {report.productions} bags",
                AGENT,
                now_iso(),
            )
        )
    if catalog_file.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        report.backup = catalog_file.with_name(f"{catalog_file.name}.{stamp}.bak")
        Catalog(catalog_file).close()  # the last connection to close checkpoints the WAL
        catalog_file.rename(report.backup)
        for suffix in ("-wal", "-shm"):
            Path(f"{catalog_file}{suffix}").unlink(missing_ok=True)
    os.replace(new_file, catalog_file)
    with archive.catalog() as catalog:
        indexer = archive.indexer(catalog)
        try:
            indexer.sync(full=True)
        finally:
            indexer.close()
        report.index_warning = indexer.warning()
    return report
