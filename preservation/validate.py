"""A BagIt (RFC 8493) validator that never follows a link, never crashes and never hangs.

bagit-python 1.9 both accepts invalid bags and rejects or crashes on valid ones (missing
entries in a second manifest, payload files in tag manifests, fetch.txt outside data/,
percent-encoded names, trailing spaces, FIFOs, prefix-based containment...). This module reads
a bag with its own strict rules: everything it accepts is valid per the RFC, everything it
rejects is not, and each problem is reported with the path it concerns.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
SUPPORTED_VERSIONS = ("0.97", "1.0")
MAX_TAG_FILE_BYTES = 512 * 1024 * 1024
HASH_CHUNK = 1024 * 1024

_MANIFEST = re.compile(r"^manifest-([a-z0-9]+)\.txt$")
_TAGMANIFEST = re.compile(r"^tagmanifest-([a-z0-9]+)\.txt$")
_PERCENT = re.compile(r"%(0[aAdD]|25)")
_OXUM = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the bag ('' for the bag as a whole)
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class BagReport:
    bag: Path
    version: str = ""
    encoding: str = ""
    checked: str = "full"  # "full" (every checksum) or "fast" (completeness and Payload-Oxum)
    problems: list[Problem] = field(default_factory=list)
    info: list[tuple[str, str]] = field(default_factory=list)  # bag-info.txt, in order
    payload_files: int = 0
    payload_bytes: int = 0
    algorithms: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def info_values(self, label: str) -> list[str]:
        return [v for k, v in self.info if k.lower() == label.lower()]


def decode_path(raw: str) -> str:
    """Undo the percent-encoding RFC 8493 applies to CR, LF and % in manifest paths."""
    return _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), raw)


def encode_path(path: str) -> str:
    return path.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def _path_problem(path: str) -> str:
    if not path:
        return "empty path"
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path):
        return "absolute path"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "path with an empty, '.' or '..' element"
    if "\x00" in path:
        return "path with a NUL character"
    return ""


# -- reading ------------------------------------------------------------------------------
@dataclass
class _Inventory:
    payload: dict[str, int] = field(default_factory=dict)  # path -> size
    tags: dict[str, int] = field(default_factory=dict)
    has_data_dir: bool = False


def _inventory(bag: Path, report: BagReport) -> _Inventory:
    """Every regular file in the bag, without following links or opening special files."""
    found = _Inventory()
    stack = [("", bag)]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            report.add(prefix.rstrip("/"), f"cannot list folder: {exc.strerror}")
            continue
        for entry in entries:
            relative = prefix + os.fsdecode(entry.name)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                report.add(relative, f"cannot read: {exc.strerror}")
                continue
            if stat.S_ISLNK(info.st_mode):
                report.add(relative, "symbolic link (not allowed in a bag)")
            elif stat.S_ISDIR(info.st_mode):
                if relative == "data":
                    found.has_data_dir = True
                stack.append((relative + "/", Path(entry.path)))
            elif stat.S_ISREG(info.st_mode):
                target = found.payload if relative.startswith("data/") else found.tags
                target[relative] = info.st_size
            else:
                report.add(relative, "not a regular file (device, FIFO or socket)")
    return found


def _read_tag_file(bag: Path, name: str, encoding: str, report: BagReport) -> list[str] | None:
    """A tag file's lines (CR, LF or CRLF endings), decoded strictly; None if unreadable."""
    path = bag / name
    try:
        size = os.lstat(path).st_size
        if size > MAX_TAG_FILE_BYTES:
            report.add(name, f"tag file too large ({size:,} bytes)")
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_TAG_FILE_BYTES + 1)
    except OSError as exc:
        report.add(name, f"cannot read: {exc.strerror}")
        return None
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        report.add(name, f"not valid {encoding} (byte {exc.start})")
        return None
    except LookupError:
        report.add(name, f"unknown character encoding {encoding!r}")
        return None
    lines = re.split(r"\r\n|\n|\r", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _read_bagit_txt(bag: Path, report: BagReport) -> bool:
    try:
        fd = os.open(bag / "bagit.txt", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(4096)
    except OSError:
        report.add("bagit.txt", "missing or unreadable (every bag starts with one)")
        return False
    if raw.startswith(codecs.BOM_UTF8):
        report.add("bagit.txt", "must not start with a byte-order mark")
        return False
    try:
        lines = re.split(r"\r\n|\n|\r", raw.decode("utf-8"))
    except UnicodeDecodeError:
        report.add("bagit.txt", "not UTF-8")
        return False
    if lines and lines[-1] == "":
        lines.pop()
    version = re.match(r"^BagIt-Version: (\d+\.\d+)$", lines[0]) if lines else None
    encoding = (
        re.match(r"^Tag-File-Character-Encoding: (\S+)$", lines[1]) if len(lines) > 1 else None
    )
    if len(lines) != 2 or not version or not encoding:
        report.add(
            "bagit.txt",
            "must be exactly 'BagIt-Version: M.N' then 'Tag-File-Character-Encoding: ENC'",
        )
        return False
    report.version, report.encoding = version.group(1), encoding.group(1)
    if report.version not in SUPPORTED_VERSIONS:
        report.add("bagit.txt", f"BagIt version {report.version} is not supported")
        return False
    try:
        codecs.lookup(report.encoding)
    except LookupError:
        report.add("bagit.txt", f"unknown character encoding {report.encoding!r}")
        return False
    return True


def _parse_manifest(
    bag: Path, name: str, algorithm: str, report: BagReport, *, payload: bool
) -> dict[str, str]:
    lines = _read_tag_file(bag, name, report.encoding, report)
    if lines is None:
        return {}
    digest_length = hashlib.new(algorithm).digest_size * 2
    entries: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        match = re.match(r"^([0-9A-Fa-f]+)[ \t]+(.+)$", line)
        if not match:
            report.add(name, f"line {number}: not 'CHECKSUM PATH'")
            continue
        checksum, path = match.group(1).lower(), decode_path(match.group(2))
        if len(checksum) != digest_length:
            report.add(name, f"line {number}: not a {algorithm} checksum")
            continue
        problem = _path_problem(path)
        if problem:
            report.add(name, f"line {number}: {problem}: {path!r}")
            continue
        if payload and not path.startswith("data/"):
            report.add(
                name, f"line {number}: a payload manifest lists a file outside data/: {path}"
            )
            continue
        if not payload and path.startswith("data/"):
            report.add(name, f"line {number}: a tag manifest lists a payload file: {path}")
            continue
        if path in entries:
            report.add(name, f"line {number}: {path} is listed twice")
            continue
        entries[path] = checksum
    return entries


def _parse_bag_info(bag: Path, report: BagReport) -> None:
    lines = _read_tag_file(bag, "bag-info.txt", report.encoding, report)
    if lines is None:
        return
    strict = report.version == "1.0"
    for number, line in enumerate(lines, start=1):
        if line[:1] in (" ", "\t") and report.info:
            label, value = report.info[-1]
            report.info[-1] = (label, f"{value} {line.strip()}")
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip():
            report.add("bag-info.txt", f"line {number}: not 'Label: value'")
            continue
        if strict and label != label.strip():
            report.add("bag-info.txt", f"line {number}: whitespace around the label {label!r}")
            continue
        report.info.append((label.strip(), value.strip()))
    oxums = report.info_values("Payload-Oxum")
    if len(oxums) > 1:
        report.add("bag-info.txt", "Payload-Oxum is given more than once")


def _parse_fetch(bag: Path, report: BagReport) -> dict[str, int | None]:
    lines = _read_tag_file(bag, "fetch.txt", report.encoding, report)
    entries: dict[str, int | None] = {}
    for number, line in enumerate(lines or [], start=1):
        match = re.match(r"^(\S+)[ \t]+(\d+|-)[ \t]+(.+)$", line)
        if not match:
            report.add("fetch.txt", f"line {number}: not 'URL LENGTH PATH'")
            continue
        path = decode_path(match.group(3))
        problem = _path_problem(path)
        if problem or not path.startswith("data/"):
            report.add("fetch.txt", f"line {number}: {problem or 'outside data/'}: {path!r}")
            continue
        entries[path] = None if match.group(2) == "-" else int(match.group(2))
    return entries


# -- checking -----------------------------------------------------------------------------
def _hash_file(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in algorithms}
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        while chunk := handle.read(HASH_CHUNK):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """One file's digest, read without following a link."""
    return _hash_file(path, [algorithm])[algorithm]


def _match_names(listed: Iterable[str], present: dict[str, int]) -> dict[str, str]:
    """Map manifest paths to files on disk, tolerating a different Unicode normalization."""
    by_nfc: dict[str, list[str]] = {}
    for name in present:
        by_nfc.setdefault(unicodedata.normalize("NFC", name), []).append(name)
    mapping = {}
    for path in listed:
        if path in present:
            mapping[path] = path
        else:
            candidates = by_nfc.get(unicodedata.normalize("NFC", path), [])
            if len(candidates) == 1:
                mapping[path] = candidates[0]
    return mapping


def validate_bag(bag: Path, *, fast: bool = False, workers: int = 1) -> BagReport:
    """Check a bag's structure, completeness and (unless `fast`) every checksum."""
    report = BagReport(bag=bag, checked="fast" if fast else "full")
    try:
        info = os.lstat(bag)
    except OSError:
        report.add("", f"{bag}: no such folder")
        return report
    if not stat.S_ISDIR(info.st_mode):
        report.add("", f"{bag}: not a folder (a link or a file)")
        return report
    if not _read_bagit_txt(bag, report):
        return report
    files = _inventory(bag, report)
    if not files.has_data_dir:
        report.add("data", "the payload folder data/ is missing")
    report.payload_files = len(files.payload)
    report.payload_bytes = sum(files.payload.values())

    payload_manifests: dict[str, dict[str, str]] = {}
    tag_manifests: dict[str, dict[str, str]] = {}
    for name in sorted(files.tags):
        if "/" in name:
            continue
        for pattern, target, is_payload in (
            (_MANIFEST, payload_manifests, True),
            (_TAGMANIFEST, tag_manifests, False),
        ):
            match = pattern.match(name)
            if match:
                algorithm = match.group(1)
                if algorithm not in ALGORITHMS:
                    report.add(name, f"unsupported checksum algorithm {algorithm!r}")
                else:
                    target[algorithm] = _parse_manifest(
                        bag, name, algorithm, report, payload=is_payload
                    )
    if not payload_manifests:
        report.add("", "no payload manifest (manifest-ALGORITHM.txt)")
    report.algorithms = sorted(payload_manifests)
    if "bag-info.txt" in files.tags:
        _parse_bag_info(bag, report)
    fetch = _parse_fetch(bag, report) if "fetch.txt" in files.tags else {}

    # Completeness: every manifest entry exists; every payload file is in every manifest.
    work: dict[str, dict[str, str]] = {}  # file on disk -> {algorithm: expected}
    for algorithm, entries in payload_manifests.items():
        mapping = _match_names(entries, files.payload)
        for path, checksum in entries.items():
            if path in mapping:
                work.setdefault(mapping[path], {})[algorithm] = checksum
            elif path in fetch:
                report.add(path, "listed in fetch.txt but not fetched: the bag is incomplete")
            else:
                report.add(path, f"missing (listed in manifest-{algorithm}.txt)")
        listed = set(mapping.values())
        for path in files.payload:
            if path not in listed:
                report.add(path, f"not listed in manifest-{algorithm}.txt")
    for path in fetch:
        for algorithm, entries in payload_manifests.items():
            if path not in entries:
                report.add("fetch.txt", f"{path} is not listed in manifest-{algorithm}.txt")
    tag_work: dict[str, dict[str, str]] = {}
    for algorithm, entries in tag_manifests.items():
        for path, checksum in entries.items():
            if path in files.tags:
                tag_work.setdefault(path, {})[algorithm] = checksum
            else:
                report.add(path, f"missing (listed in tagmanifest-{algorithm}.txt)")

    oxums = report.info_values("Payload-Oxum")
    if oxums:
        match = _OXUM.match(oxums[0])
        if not match:
            report.add("bag-info.txt", f"Payload-Oxum {oxums[0]!r} is not OCTETS.FILES")
        elif (int(match.group(1)), int(match.group(2))) != (
            report.payload_bytes,
            report.payload_files,
        ):
            report.add(
                "bag-info.txt",
                f"Payload-Oxum says {oxums[0]} but the payload holds "
                f"{report.payload_bytes}.{report.payload_files}",
            )
    if fast:
        return report

    def check(item: tuple[str, dict[str, str]]) -> list[Problem]:
        path, expected = item
        try:
            actual = _hash_file(bag / path, expected)
        except OSError as exc:
            return [Problem(path, f"cannot read: {exc.strerror}")]
        return [
            Problem(path, f"{algorithm} checksum does not match (altered)")
            for algorithm, checksum in expected.items()
            if actual[algorithm] != checksum
        ]

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for problems in pool.map(check, [*work.items(), *tag_work.items()]):
            report.problems.extend(problems)
    return report
