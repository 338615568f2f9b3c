"""Writing bags: originals copied and hashed in one pass, built in staging, moved in atomically.

bagit-python's `make_bag` bags a folder in place (it would move the sources), writes BagIt 0.97,
sorts bag-info.txt and leaves half a bag when it fails; this writer copies, never moves, writes
BagIt 1.0 with bag-info.txt in the order given, and only ever shows a complete bag under
`bags/`. Bags it writes pass `bagit.py --validate` and this package's own validator.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from foiarchive.preservation.validate import HASH_CHUNK, decode_path, encode_path
from foiarchive.schemas.errors import FoiarchiveError

ALGORITHMS = ("sha256", "sha512")
#: Name and version only: the project owns no web address to put beside them.
SOFTWARE_AGENT = "foiarchive 0.1.0"


class BagError(FoiarchiveError):
    """A bag could not be written; nothing was left under the bags folder."""


@dataclass(frozen=True)
class PayloadFile:
    """A file to put under data/: read from `source`, or hard-linked when `checksums` are known."""

    path: str  # relative to data/, '/'-separated
    source: Path
    sha256: str = ""  # what the file must hash to (from the catalog); '' to accept any
    checksums: tuple[tuple[str, str], ...] = ()  # known (algorithm, digest): link, don't rehash


@dataclass
class BagSummary:
    path: Path
    files: int
    octets: int


def _copy_and_hash(payload: PayloadFile, destination: Path) -> dict[str, str]:
    destination.parent.mkdir(parents=True, exist_ok=True)
    known = dict(payload.checksums)
    if all(a in known for a in ALGORITHMS):
        try:
            os.link(payload.source, destination, follow_symlinks=False)
            return known
        except OSError:
            pass  # another filesystem: copy and hash below
    hashers = {a: hashlib.new(a) for a in ALGORITHMS}
    fd = os.open(payload.source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb", buffering=0) as source, destination.open("xb") as target:
        while chunk := source.read(HASH_CHUNK):
            target.write(chunk)
            for hasher in hashers.values():
                hasher.update(chunk)
        target.flush()
        os.fsync(target.fileno())
    digests = {a: h.hexdigest() for a, h in hashers.items()}
    if payload.sha256 and digests["sha256"] != payload.sha256:
        raise BagError(f"{payload.path}: the file changed since it was ingested (sha256 differs)")
    return digests


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _manifest(entries: dict[str, str]) -> bytes:
    return "".join(
        f"{digest}  {encode_path(path)}\n" for path, digest in sorted(entries.items())
    ).encode("utf-8")


def write_bag(
    target: Path,
    payload: Iterable[PayloadFile],
    tag_files: dict[str, bytes],
    bag_info: Sequence[tuple[str, str]],
    *,
    staging: Path,
    workers: int = 2,
    empty_folders: Iterable[str] = (),
) -> BagSummary:
    """Write a complete bag to `target`, replacing any bag there only once the new one is whole."""
    staging.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    work = staging / f"{target.name}.{token}.partial"
    try:
        work.mkdir()
        data = work / "data"
        data.mkdir()
        files = list(payload)
        for folder in empty_folders:
            keep = data / folder / ".keep"
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.touch()
            files.append(
                PayloadFile(
                    f"{folder}/.keep",
                    keep,
                    checksums=tuple((a, hashlib.new(a).hexdigest()) for a in ALGORITHMS),
                )
            )
        manifests: dict[str, dict[str, str]] = {a: {} for a in ALGORITHMS}

        def place(item: PayloadFile) -> tuple[str, dict[str, str], int]:
            destination = data / item.path
            if destination.exists():  # a .keep written above
                return item.path, dict(item.checksums), 0
            digests = _copy_and_hash(item, destination)
            return item.path, digests, destination.stat().st_size

        octets = 0
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for path, digests, size in pool.map(place, files):
                octets += size
                for algorithm in ALGORITHMS:
                    manifests[algorithm][f"data/{path}"] = digests[algorithm]
        _write(work / "bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        info = [*bag_info]
        info += [
            ("Bagging-Date", datetime.now(UTC).date().isoformat()),
            ("Payload-Oxum", f"{octets}.{len(files)}"),
            ("Bag-Software-Agent", SOFTWARE_AGENT),
        ]
        _write(
            work / "bag-info.txt",
            "".join(
                f"{label}: {' '.join(value.split())}\n" for label, value in info if value
            ).encode("utf-8"),
        )
        for algorithm, entries in manifests.items():
            _write(work / f"manifest-{algorithm}.txt", _manifest(entries))
        for name, content in tag_files.items():
            _write(work / name, content)
        tags = ["bagit.txt", "bag-info.txt", *(f"manifest-{a}.txt" for a in ALGORITHMS), *tag_files]
        for algorithm in ALGORITHMS:
            digests = {
                name: hashlib.new(algorithm, (work / name).read_bytes()).hexdigest()
                for name in tags
            }
            _write(work / f"tagmanifest-{algorithm}.txt", _manifest(digests))
        _install(work, target, staging, token)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BagSummary(target, len(files), octets)


def _install(work: Path, target: Path, staging: Path, token: str) -> None:
    """Swap the finished bag into place; `recover` completes this if we die half way."""
    marker = staging / f"{target.name}.{token}.complete"
    _write(marker, str(target).encode("utf-8"))
    _fsync_dir(staging)
    old = staging / f"{target.name}.{token}.old"
    if target.exists():
        target.rename(old)
    target.parent.mkdir(parents=True, exist_ok=True)
    work.rename(target)
    _fsync_dir(target.parent)
    marker.unlink()
    shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(staging: Path) -> list[str]:
    """After a crash: finish swaps of bags that were complete, delete everything half made."""
    notes: list[str] = []
    if not staging.is_dir():
        return notes
    for marker in sorted(staging.glob("*.complete")):
        name, token = marker.name.rsplit(".", 2)[:2]
        work = staging / f"{name}.{token}.partial"
        target = Path(marker.read_text("utf-8"))
        if work.is_dir():
            old = staging / f"{name}.{token}.old"
            if target.exists():
                target.rename(old)
            work.rename(target)
            notes.append(f"{name}: finished installing a bag interrupted by a crash")
        marker.unlink()
    for leftover in sorted(staging.iterdir()):
        if leftover.name.endswith((".partial", ".old")):
            shutil.rmtree(leftover, ignore_errors=True)
            notes.append(f"{leftover.name}: removed a half-made bag")
    return notes


def read_manifest(bag: Path, algorithm: str) -> dict[str, str]:
    """A manifest of a bag this package wrote: {path inside the bag: digest}."""
    entries = {}
    path = bag / f"manifest-{algorithm}.txt"
    for line in path.read_text("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        entries[decode_path(name)] = digest
    return entries


def refresh_tag_files(bag: Path, files: dict[str, bytes]) -> None:
    """Replace some tag files of a bag (the PREMIS log after an audit or export) and re-hash
    its tag manifests. Each file is written aside and renamed over the old one."""
    tags: set[str] = set()
    algorithms = []
    for algorithm in ALGORITHMS:
        manifest = bag / f"tagmanifest-{algorithm}.txt"
        if manifest.is_file():
            algorithms.append(algorithm)
            tags |= {line.partition("  ")[2] for line in manifest.read_text("utf-8").splitlines()}
    staged: list[tuple[Path, Path]] = []
    contents = dict(files)
    for name in sorted(tags | set(files)):
        if name not in contents:
            contents[name] = (bag / name).read_bytes()
    for algorithm in algorithms:
        digests = {name: hashlib.new(algorithm, contents[name]).hexdigest() for name in contents}
        files = {**files, f"tagmanifest-{algorithm}.txt": _manifest(digests)}
    for name, content in files.items():
        aside = bag / f".{Path(name).name}.{uuid.uuid4().hex[:8]}.tmp"
        _write(aside, content)
        staged.append((aside, bag / name))
    for aside, final in staged:  # tag manifests last: they vouch for the rest
        aside.replace(final)
