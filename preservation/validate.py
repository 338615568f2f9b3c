"""A BagIt validator (RFC 8493 and the drafts 0.93-0.97) that never follows a link, never
crashes and never hangs.

bagit-python 1.9 both accepts invalid bags and rejects or crashes on valid ones (missing
entries in a second manifest, payload files in tag manifests, fetch.txt outside data/,
percent-encoded names, trailing spaces, FIFOs, prefix-based containment...). This module reads
a bag by the rules of the version it declares (`VersionRules`): everything it accepts is valid
for that version, everything it rejects is not, and each problem is reported with the path it
concerns. What is legal but questionable (an md5sum-style `*` before a path, `./data/x`, a name
in another Unicode normalization, what the drafts only said SHOULD about) is a warning, as the
LoC conformance suite's `warning` category has it.
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
    warnings: list[Problem] = field(default_factory=list)  # valid, but worth telling

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def rules(self) -> VersionRules:
        return VERSIONS[self.version]

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        if Problem(path, message) not in self.warnings:
            self.warnings.append(Problem(path, message))

    def must(self, strict: bool, path: str, message: str) -> None:
        """A rule the version says MUST (a problem) or only SHOULD (a warning)."""
        (self.add if strict else self.warn)(path, message)

    def info_values(self, label: str) -> list[str]:
        return [v for k, v in self.info if k.lower() == label.lower()]


@dataclass(frozen=True)
class VersionRules:
    """Where the BagIt versions differ, from the drafts (draft-kunze-bagit-00 to -14) to
    RFC 8493, as bagit-python and bagit-java read them."""

    version: str
    #: the bag's metadata file: package-info.txt until 0.95, bag-info.txt from 0.96 on
    info_file: str
    #: tag manifests (tagmanifest-ALG.txt) are part of the format from 0.96 on; before, such a
    #: file is an ordinary tag file, and what it says is only a warning
    tag_manifests: bool
    #: 1.0 percent-encodes CR, LF and % in manifest and fetch paths; before, names are literal
    percent_encoding: bool
    #: 1.0 made MUST of what the drafts said SHOULD or left open: every payload manifest lists
    #: every payload file, a path once per manifest, bagit.txt exactly two lines, bag-info
    #: labels without surrounding whitespace, fetch.txt entries under data/ and in every manifest
    strict: bool


VERSIONS = {
    version: VersionRules(
        version,
        info_file="package-info.txt" if version < "0.96" else "bag-info.txt",
        tag_manifests=version >= "0.96",
        percent_encoding=version == "1.0",
        strict=version == "1.0",
    )
    for version in ("0.93", "0.94", "0.95", "0.96", "0.97", "1.0")
}
#: Files an operating system leaves for itself (bagit-java's OS_SPECIFIC_FILES warning).
_OS_FILES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db", ".spotlight-v100"}


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


def _manifest_path(raw: str, rules: VersionRules, name: str, report: BagReport) -> str:
    """The path a manifest or fetch line names: decoded by the version's rules, with the
    md5sum binary-mode `*` and `./` elements (legal, and naming the same file) taken off."""
    path = raw
    if path.startswith("*"):
        report.warn(name, "written by an md5sum-style tool ('*' before the paths)")
        path = path[1:]
    if rules.percent_encoding:
        path = decode_path(path)
    parts = path.split("/")
    if "." in parts[:-1] or parts[0] == ".":
        report.warn(name, "paths with './' elements (they name the same files)")
        path = "/".join(part for part in parts if part != ".")
    return path


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
                if relative.startswith("data/") and entry.name.lower() in _OS_FILES:
                    report.warn(relative, "a file the operating system made for itself")
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
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        report.add(name, f"not valid {encoding} (byte {exc.start})")
        return None
    except LookupError:
        report.add(name, f"unknown character encoding {encoding!r}")
        return None
    if text.startswith("\ufeff"):  # UTF-16 needs one; in UTF-8 it is legal but useless
        text = text[1:]
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
    if not version or not encoding:
        report.add(
            "bagit.txt",
            "must be exactly 'BagIt-Version: M.N' then 'Tag-File-Character-Encoding: ENC'",
        )
        return False
    report.version, report.encoding = version.group(1), encoding.group(1)
    if report.version not in VERSIONS:
        known = ", ".join(VERSIONS)
        report.add("bagit.txt", f"BagIt version {report.version} is not one of {known}")
        return False
    if len(lines) > 2:
        report.must(report.rules.strict, "bagit.txt", "has lines after the two it must have")
    try:
        codecs.lookup(report.encoding)
    except LookupError:
        report.add("bagit.txt", f"unknown character encoding {report.encoding!r}")
        return False
    if codecs.lookup(report.encoding).name != "utf-8":
        report.warn("bagit.txt", f"tag files in {report.encoding}, not UTF-8")
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
        checksum = match.group(1).lower()
        path = _manifest_path(match.group(2), report.rules, name, report)
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
        if path in entries and entries[path] != checksum:
            report.add(name, f"line {number}: {path} is listed twice with different checksums")
        elif path in entries:
            report.must(report.rules.strict, name, f"line {number}: {path} is listed twice")
        entries[path] = checksum
    _warn_normalization_twins(entries, name, report)
    return entries


def _warn_normalization_twins(entries: dict[str, str], name: str, report: BagReport) -> None:
    seen: dict[str, str] = {}
    for path in entries:
        key = unicodedata.normalize("NFC", path)
        if key in seen:
            report.warn(name, f"{path!r} is listed twice, in two Unicode normalizations")
        seen[key] = path


def _parse_bag_info(bag: Path, name: str, report: BagReport) -> None:
    lines = _read_tag_file(bag, name, report.encoding, report)
    if lines is None:
        return
    for number, line in enumerate(lines, start=1):
        if line[:1] in (" ", "\t") and report.info:
            label, value = report.info[-1]
            report.info[-1] = (label, f"{value} {line.strip()}")
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip():
            report.add(name, f"line {number}: not 'Label: value'")
            continue
        if report.rules.strict and label != label.strip():
            report.add(name, f"line {number}: whitespace around the label {label!r}")
            continue
        report.info.append((label.strip(), value.strip()))
    oxums = report.info_values("Payload-Oxum")
    if len(oxums) > 1:
        report.add(name, "Payload-Oxum is given more than once")


def _parse_fetch(bag: Path, report: BagReport) -> dict[str, int | None]:
    lines = _read_tag_file(bag, "fetch.txt", report.encoding, report)
    entries: dict[str, int | None] = {}
    for number, line in enumerate(lines or [], start=1):
        match = re.match(r"^(\S+)[ \t]+(\d+|-)[ \t]+(.+)$", line)
        if not match:
            report.add("fetch.txt", f"line {number}: not 'URL LENGTH PATH'")
            continue
        path = _manifest_path(match.group(3), report.rules, "fetch.txt", report)
        problem = _path_problem(path)
        if problem:
            report.add("fetch.txt", f"line {number}: {problem}: {path!r}")
            continue
        if not path.startswith("data/"):
            # RFC 8493 fetches payload files only; the drafts did not say, and the LoC suite
            # holds a valid 0.97 bag whose fetch.txt names a file beside data/
            report.must(report.rules.strict, "fetch.txt", f"line {number}: outside data/: {path}")
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


def _match_names(
    listed: Iterable[str], present: dict[str, int], report: BagReport
) -> dict[str, str]:
    """Map manifest paths to files on disk, tolerating a different Unicode normalization
    (with a warning: the bag was written on one system and unpacked on another)."""
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
                report.warn(candidates[0], "named in another Unicode normalization on disk")
    return mapping


@dataclass
class _Manifests:
    payload: dict[str, dict[str, str]] = field(default_factory=dict)  # algorithm -> entries
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


def _read_manifests(bag: Path, files: _Inventory, report: BagReport) -> _Manifests:
    found = _Manifests()
    for name in sorted(files.tags):
        if "/" in name:
            continue
        for pattern, target, is_payload in (
            (_MANIFEST, found.payload, True),
            (_TAGMANIFEST, found.tags, False),
        ):
            match = pattern.match(name)
            if not match:
                continue
            algorithm = match.group(1)
            if algorithm not in ALGORITHMS:
                report.add(name, f"unsupported checksum algorithm {algorithm!r}")
            else:
                target[algorithm] = _parse_manifest(
                    bag, name, algorithm, report, payload=is_payload
                )
    if not found.payload:
        report.add("", "no payload manifest (manifest-ALGORITHM.txt)")
    report.algorithms = sorted(found.payload)
    return found


def _payload_work(
    manifests: _Manifests, files: _Inventory, fetch: dict[str, int | None], report: BagReport
) -> dict[str, dict[str, str]]:
    """Completeness: every manifest entry is there, every payload file is listed (in every
    manifest for 1.0, in at least one before); returns file on disk -> {algorithm: expected}."""
    strict = report.rules.strict
    work: dict[str, dict[str, str]] = {}
    for algorithm, entries in manifests.payload.items():
        mapping = _match_names(entries, files.payload, report)
        for path, checksum in entries.items():
            if path in mapping:
                work.setdefault(mapping[path], {})[algorithm] = checksum
            elif path in fetch:
                report.add(path, "listed in fetch.txt but not fetched: the bag is incomplete")
            else:
                report.add(path, f"missing (listed in manifest-{algorithm}.txt)")
    for algorithm, entries in manifests.payload.items():
        listed = set(_match_names(entries, files.payload, report).values())
        for path in files.payload:
            if path not in listed:
                report.must(
                    strict or path not in work, path, f"not listed in manifest-{algorithm}.txt"
                )
    for path in fetch:
        for algorithm, entries in manifests.payload.items():
            if path not in entries:
                report.must(
                    strict, "fetch.txt", f"{path} is not listed in manifest-{algorithm}.txt"
                )
    return work


def _tag_work(
    manifests: _Manifests, files: _Inventory, report: BagReport
) -> dict[str, dict[str, str]]:
    work: dict[str, dict[str, str]] = {}
    for algorithm, entries in manifests.tags.items():
        for path, checksum in entries.items():
            if path in files.tags:
                work.setdefault(path, {})[algorithm] = checksum
            else:
                report.must(
                    report.rules.tag_manifests,
                    path,
                    f"missing (listed in tagmanifest-{algorithm}.txt)",
                )
    return work


def _check_oxum(report: BagReport) -> None:
    oxums = report.info_values("Payload-Oxum")
    if not oxums:
        return
    match = _OXUM.match(oxums[0])
    if not match:
        report.add(report.rules.info_file, f"Payload-Oxum {oxums[0]!r} is not OCTETS.FILES")
    elif (int(match.group(1)), int(match.group(2))) != (
        report.payload_bytes,
        report.payload_files,
    ):
        report.add(
            report.rules.info_file,
            f"Payload-Oxum says {oxums[0]} but the payload holds "
            f"{report.payload_bytes}.{report.payload_files}",
        )


def _check_fixity(
    bag: Path,
    payload: dict[str, dict[str, str]],
    tags: dict[str, dict[str, str]],
    report: BagReport,
    workers: int,
) -> None:
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
        for problems in pool.map(check, payload.items()):
            report.problems.extend(problems)
        for problems in pool.map(check, tags.items()):
            for problem in problems:  # before 0.96 a tag manifest is just another tag file
                report.must(report.rules.tag_manifests, problem.path, problem.message)


def validate_bag(bag: Path, *, fast: bool = False, workers: int = 1) -> BagReport:
    """Check a bag's structure, completeness and (unless `fast`) every checksum, by the rules
    of the BagIt version it declares."""
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
    manifests = _read_manifests(bag, files, report)
    if report.rules.info_file in files.tags:
        _parse_bag_info(bag, report.rules.info_file, report)
    fetch = _parse_fetch(bag, report) if "fetch.txt" in files.tags else {}
    payload_work = _payload_work(manifests, files, fetch, report)
    tag_work = _tag_work(manifests, files, report)
    _check_oxum(report)
    if not fast:
        _check_fixity(bag, payload_work, tag_work, report, workers)
    return report
