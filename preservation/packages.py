"""Packages: the one safe reader for ZIP and tar archives, and the one set of bounds on them.

Two kinds of caller read archives they did not write. Ingest opens the ZIP archives a
production holds (nested too): every member becomes a document, and a member that may not be
read is reported on its own while its siblings go on. Bag import, `verify --package` and
export's check of its own package unpack a whole bag: there one unsafe member refuses the
whole package. Both go through `Package`, so both get every protection:

- nothing is written outside the target: absolute names (`/x`, `C:x`, `//host/x`), `..`, and
  Windows separators (`..\\x` is `../x`) are refused; links, devices and FIFOs are never
  extracted; a file is created only where nothing was (`open(..., "xb")`), and `unpack`
  checks that every target lies under the folder it was given;
- a caller may choose the name each member is written under (`Package.extract(entry, target)`:
  ingest writes numbered scratch files) or take the member's own clean path (`unpack`);
- bounds (`PackageLimits`): members, the declared unpacked total, each member's compression
  ratio and the whole archive's (a ZIP whose entries overlap, or a tar.gz, has no honest
  per-member ratio), checked before anything is written; a tar's running total and ratio are
  checked as its headers are read, so a tar.gz bomb is refused before it is decompressed;
- a member that holds more (or fewer) bytes than its header declares is refused as soon as
  the copy passes the declared size, so a zip bomb that lies in its headers writes at most
  one chunk more than it admits; a tar member that is longer than its header says shows as
  data after the last header, which is refused too (tarfile would stop there in silence).
"""

from __future__ import annotations

import copy
import lzma
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Literal

from foiarchive.preservation.bag import BagError

_CHUNK = 1024 * 1024
#: How much of what follows a tar's end-of-archive marker is read (it must be zeros).
_TAR_TRAILER = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
#: What reading a damaged or hostile archive raises besides OSError (bz2 raises OSError).
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    ValueError,
    NotImplementedError,
)
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}

Kind = Literal["file", "dir", "symlink", "hardlink", "device", "fifo", "other"]
Format = Literal["zip", "tar"]


@dataclass(frozen=True)
class PackageLimits:
    """The one set of bounds on every ZIP or tar foiarchive opens: ingest's containers and bag
    packages (import, `verify --package`, export's check of its own package) alike.

    - a production is often delivered as one ZIP, so a container can be a whole production and
      needs the same room as that production's bag: a large production is tens of GiB, hence
      64 GiB; and whatever the total, an archive is refused before anything is written if its
      declared size would leave less than 1 GiB free where it is unpacked (`check_room`), and
      each member is held to its declared size while it is copied;
    - the compression ratio (past 1 MiB, per member and for the archive as a whole) stops at
      1,100:1, just above what deflate can reach (about 1,032:1): a blank 300 dpi page saved
      as an uncompressed TIFF deflates 1,019:1 (measured), as well as zeros do (1,025:1), so
      no ratio a deflated original can have tells the two apart, and the 200:1 this was once
      refused exports and ZIPs of such scans. Past deflate's ceiling are the bombs made
      otherwise: bzip2 or xz members (zeros: 109,227:1 and 5,878:1) and ZIPs whose entries
      overlap (millions to one for the archive);
    - litigation productions come one TIFF per page, so 20,000 members refused real ZIPs; the
      bound has to admit every bag this archive writes (export checks its own package, and
      ingest from a folder has no file count bound), so it stays at 1,000,000: a ZIP spends at
      least about 100 bytes of central directory and a tar 512 bytes of header per member, so
      that many members takes a 100 MB archive, and zipfile's ~0.5 KB per entry in memory;
    - nesting (a ZIP in a ZIP ...) concerns containers only (ingest counts the depth): a bag
      package is never opened inside another.

    Ingest's `Limits` derives one of these from its own fields (`Limits.packages`), so a
    caller can still tighten them per run.
    """

    #: Entries in one archive, folders included.
    max_members: int = 1_000_000
    #: Bytes one archive may unpack to, all members together, as declared and as written.
    max_unpacked_bytes: int = 64 * 1024**3
    #: Uncompressed bytes per compressed byte, for each member and for the whole archive
    #: (None: not checked; only for a caller that tightens or loosens it on purpose).
    max_compression_ratio: int | None = 1_100
    #: A member (or archive) that unpacks to no more than this is never refused for its ratio:
    #: a few KB of zeros may compress 1,000:1 and harm nobody.
    ratio_checked_above: int = 1024**2
    #: ZIP in ZIP in ZIP ...: how deep containers are opened.
    max_nesting: int = 5
    #: Free bytes an unpacked archive must leave on the disk it is unpacked to.
    keep_free_bytes: int = 1024**3


class UnsafePackage(BagError):
    """An archive, or one member of it, that may not be unpacked: one line that names the
    package and the member and says why."""

    def __init__(self, reason: str, package: str = "", member: str | None = None) -> None:
        self.reason, self.package, self.member = reason, package, member
        #: The message without the package's name, for a caller that names it already.
        self.detail = f"member {member!r} {reason}" if member is not None else reason
        super().__init__(f"{package}: {self.detail}" if package else self.detail)


class DamagedMember(UnsafePackage):
    """A member whose bytes are not what its header says (a lie, a bad CRC, a truncation)."""


@dataclass(frozen=True)
class Entry:
    """One member as its header describes it, and why it may not be extracted."""

    name: str  # as stored, Windows separators turned to '/'
    path: str  # the clean relative path it may be written under ('' when unsafe)
    kind: Kind
    size: int  # uncompressed, as declared
    problem: str = ""  # reads after "member 'name' ": '' when it may be extracted
    _header: zipfile.ZipInfo | tarfile.TarInfo | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


def clean_path(name: str) -> tuple[str, str]:
    """(the relative '/'-separated path a member name stands for, '') or ('', the problem)."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or _DRIVE.match(clean):
        return "", "has an unsafe member name (an absolute path)"
    parts = [p for p in PurePosixPath(clean).parts if p != "."]
    if ".." in parts:
        return "", "has an unsafe member name ('..' would escape the target folder)"
    return "/".join(parts), ""


def _format_of(path: Path) -> Format:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK"):
        return "zip"
    if tarfile.is_tarfile(path):
        return "tar"
    if zipfile.is_zipfile(path):  # a ZIP behind a prefix (a self-extracting archive)
        return "zip"
    raise UnsafePackage("not a tar or zip file", path.name)


class Package:
    """An open ZIP or tar with its entries listed and checked against the limits.

    Opening raises UnsafePackage when the archive as a whole is refused (damaged, too many
    members, unpacks to too much, compresses too well); `entries` then carry each member's own
    problem, and `extract` copies one member, within its declared size, to a file of the
    caller's choosing.
    """

    def __init__(
        self, path: Path, limits: PackageLimits | None = None, *, fmt: Format | None = None
    ) -> None:
        self.path = path
        self.name = path.name
        self.limits = limits or PackageLimits()
        self.written = 0
        self.declared = 0  # bytes the members that may be extracted say they hold
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self.entries: list[Entry] = []
        self.format: Format = fmt or "zip"
        try:
            self.format = fmt or _format_of(path)
            self._size = max(path.stat().st_size, 1)
            if self.format == "zip":
                self._zip = zipfile.ZipFile(path)
                self.entries = self._zip_entries(self._zip)
            else:
                self._tar = tarfile.open(path)  # noqa: SIM115 (closed by close())
                self.entries = self._tar_entries(self._tar)
        except UnsafePackage:
            self.close()
            raise
        except (*_DAMAGE, OSError) as exc:
            self.close()
            what = "ZIP" if self.format == "zip" else "tar"
            raise UnsafePackage(
                f"damaged or unreadable {what} archive ({exc})", self.name
            ) from None

    def __enter__(self) -> Package:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for handle in (self._zip, self._tar):
            if handle is not None:
                handle.close()

    def check_room(self, folder: Path) -> None:
        """Refuse the archive, before anything is written, if what it declares would leave
        less than `keep_free_bytes` free on the disk holding `folder`."""
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        free = shutil.disk_usage(existing).free
        if self.declared > free - self.limits.keep_free_bytes:
            raise UnsafePackage(
                f"unpacks to {self.declared:,} bytes, but {existing} has {free:,} free and "
                f"{self.limits.keep_free_bytes:,} must stay free",
                self.name,
            )

    # -- listing --------------------------------------------------------------------------
    def _refuse_count(self, count: int) -> None:
        if count > self.limits.max_members:
            raise UnsafePackage(
                f"{count:,} members, over the limit of {self.limits.max_members:,}", self.name
            )

    def _refuse_total(self, total: int, extracted: int, *, final: bool = True) -> None:
        """`total`: every file member's declared size; `extracted`: those that may be extracted
        (a member refused on its own, such as one bomb in a production's ZIP, is not written,
        so it does not count against the archive's ratio)."""
        limits = self.limits
        self.declared = extracted
        amount = f"{total:,} bytes" if final else f"at least {total:,} bytes"
        if total > limits.max_unpacked_bytes:
            raise UnsafePackage(
                f"unpacks to {amount}, over the limit of {limits.max_unpacked_bytes:,}",
                self.name,
            )
        ratio = extracted / self._size
        if (
            limits.max_compression_ratio is not None
            and extracted > limits.ratio_checked_above
            and ratio > limits.max_compression_ratio
        ):
            amount = f"{extracted:,} bytes" if final else f"at least {extracted:,} bytes"
            raise UnsafePackage(
                f"unpacks to {amount} from {self._size:,}: a compression ratio of "
                f"{ratio:,.0f}:1, over the limit of {limits.max_compression_ratio}:1 "
                "(a zip bomb?)",
                self.name,
            )

    def _zip_entries(self, archive: zipfile.ZipFile) -> list[Entry]:
        infos = archive.infolist()
        self._refuse_count(len(infos))
        entries = [self._zip_entry(info) for info in infos]
        files = [e for e in entries if e.is_file]
        self._refuse_total(sum(e.size for e in files), sum(e.size for e in files if not e.problem))
        return entries

    def _zip_entry(self, info: zipfile.ZipInfo) -> Entry:
        name = info.filename.replace("\\", "/")
        mode = info.external_attr >> 16
        kind: Kind = "dir" if info.is_dir() else "file"
        if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            kind = _kind_of_mode(mode)
        path, problem = clean_path(name)
        if not problem:
            problem = _kind_problem(kind)
        if not problem and kind == "file":
            problem = self._zip_member_problem(info, path)
        return Entry(name, "" if problem else path, kind, info.file_size, problem, info)

    def _zip_member_problem(self, info: zipfile.ZipInfo, path: str) -> str:
        if not path:
            return "has an unsafe member name (empty)"
        if info.flag_bits & 0x1:
            return "is encrypted: cannot be read without the password"
        if info.compress_type not in _READABLE_METHODS:
            return (
                f"is compressed with a method this reader lacks (ZIP method {info.compress_type})"
            )
        limit = self.limits.max_compression_ratio
        if limit is not None and info.file_size > self.limits.ratio_checked_above:
            ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
            if ratio > limit:
                return (
                    f"has a compression ratio of {ratio:,.0f}:1, over the limit of {limit}:1 "
                    "(a zip bomb?)"
                )
        return ""

    def _tar_entries(self, tar: tarfile.TarFile) -> list[Entry]:
        entries: list[Entry] = []
        total = extracted = 0
        # Iterating reads one header at a time; both bounds are checked before tarfile reads
        # (and, in a tar.gz, decompresses) past the member just listed.
        for member in tar:
            self._refuse_count(len(entries) + 1)
            entry = self._tar_entry(member)
            entries.append(entry)
            if entry.is_file:
                total += entry.size
                extracted += 0 if entry.problem else entry.size
                self._refuse_total(total, extracted, final=False)
        self._refuse_trailing_data(tar)
        return entries

    def _tar_entry(self, member: tarfile.TarInfo) -> Entry:
        name = member.name.replace("\\", "/")
        kind: Kind
        if member.isreg():
            kind = "file"
        elif member.isdir():
            kind = "dir"
        elif member.issym():
            kind = "symlink"
        elif member.islnk():
            kind = "hardlink"
        elif member.ischr() or member.isblk():
            kind = "device"
        elif member.isfifo():
            kind = "fifo"
        else:
            kind = "other"
        path, problem = clean_path(name)
        if not problem:
            problem = _kind_problem(kind)
        if not problem and kind == "file" and not path:
            problem = "has an unsafe member name (empty)"
        size = member.size if kind == "file" else 0
        return Entry(name, "" if problem else path, kind, size, problem, member)

    def _refuse_trailing_data(self, tar: tarfile.TarFile) -> None:
        """After the last header a tar holds only zeros; anything else is the rest of a member
        longer than its header says, or a damaged header (where tarfile stops in silence)."""
        fileobj = tar.fileobj
        assert fileobj is not None
        fileobj.seek(tar.offset)
        rest = fileobj.read(_TAR_TRAILER)
        if rest.strip(b"\0"):
            raise UnsafePackage(
                f"damaged or tampered package: data after byte {tar.offset:,} is no tar header "
                "(a member longer than its header says, or a damaged header)",
                self.name,
            )

    # -- extracting -----------------------------------------------------------------------
    def extract(self, entry: Entry, target: Path) -> int:
        """Copy one member to `target` (a new file: it must not exist), never more than its
        header declares; returns its size. Raises UnsafePackage for a member that may not be
        extracted, DamagedMember for one whose bytes are not what its header says."""
        if entry.problem:
            raise UnsafePackage(entry.problem, self.name, entry.name)
        if not entry.is_file:
            raise ValueError(f"{entry.name}: not a file")
        out = target.open("xb")
        try:
            with out, self._open(entry) as stream:
                written = self._copy(entry, stream, out)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return written

    def _open(self, entry: Entry) -> IO[bytes]:
        try:
            if isinstance(entry._header, zipfile.ZipInfo):
                assert self._zip is not None
                # Read up to a chunk past the declared size, so that a member holding more
                # shows itself as more (zipfile would stop at the declared size and report
                # only a bad CRC); the CRC is still checked at the member's real end.
                generous = copy.copy(entry._header)
                generous.file_size = entry.size + _CHUNK + 1
                return self._zip.open(generous)
            assert self._tar is not None and isinstance(entry._header, tarfile.TarInfo)
            stream = self._tar.extractfile(entry._header)
            assert stream is not None  # a regular file
            return stream
        except (*_DAMAGE, RuntimeError, OSError) as exc:
            raise DamagedMember(f"is damaged ({exc})", self.name, entry.name) from None

    def _copy(self, entry: Entry, stream: IO[bytes], out: IO[bytes]) -> int:
        written = 0
        while True:
            try:
                chunk = stream.read(_CHUNK)
            except (*_DAMAGE, OSError) as exc:
                raise DamagedMember(f"is damaged ({exc})", self.name, entry.name) from None
            if not chunk:
                break
            written += len(chunk)
            if written > entry.size:
                raise DamagedMember(
                    f"holds more than the {entry.size:,} bytes its header declares",
                    self.name,
                    entry.name,
                )
            if self.written + written > self.limits.max_unpacked_bytes:
                raise UnsafePackage(
                    f"unpacks to more than the limit of {self.limits.max_unpacked_bytes:,} bytes",
                    self.name,
                )
            out.write(chunk)
        if written != entry.size:
            raise DamagedMember(
                f"holds {written:,} bytes, not the {entry.size:,} its header declares",
                self.name,
                entry.name,
            )
        self.written += written
        return written


def _kind_of_mode(mode: int) -> Kind:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "other"


_KIND_PROBLEMS: dict[str, str] = {
    "symlink": "is a link or special file (a symbolic link)",
    "hardlink": "is a link or special file (a hard link)",
    "device": "is a link or special file (a device)",
    "fifo": "is a link or special file (a FIFO)",
    "other": "is a link or special file (a socket or an unknown type)",
}


def _kind_problem(kind: Kind) -> str:
    return _KIND_PROBLEMS.get(kind, "")


# -- whole packages ---------------------------------------------------------------------------
def unpack(package: Path, into: Path, limits: PackageLimits | None = None) -> Path:
    """Extract a tar or zip bag into `into` (an empty folder), or refuse it whole: any member
    that may not be extracted, any bound passed, any damage. Returns the bag folder (the single
    top-level folder, or `into` itself)."""
    with Package(package, limits) as archive:
        refused = next((e for e in archive.entries if e.problem), None)
        if refused is not None:
            raise UnsafePackage(refused.problem, archive.name, refused.name)
        _refuse_collisions(archive)
        archive.check_room(into)
        tops = {e.path.split("/")[0] for e in archive.entries if e.path}
        existing = {p.name for p in into.iterdir()} if into.is_dir() else set()
        try:
            _unpack_all(archive, into)
        except BaseException:
            for name in tops - existing:  # what this call made, and only that
                _remove(into / name)
            raise
    if len(tops) == 1 and not (into / "bagit.txt").exists() and (into / next(iter(tops))).is_dir():
        return into / tops.pop()
    return into


def _unpack_all(archive: Package, into: Path) -> None:
    root = into.resolve()
    for entry in archive.entries:
        if not entry.path:
            continue  # './' itself
        target = into / entry.path
        try:
            if not target.resolve().is_relative_to(root):
                raise UnsafePackage(
                    "would be written outside the target folder", archive.name, entry.name
                )
            if entry.kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            archive.extract(entry, target)
        except DamagedMember as exc:
            raise UnsafePackage(
                f"damaged or tampered package: member {entry.name!r} {exc.reason}",
                archive.name,
            ) from None
        except OSError as exc:
            raise UnsafePackage(
                f"cannot be written ({exc.strerror or exc})", archive.name, entry.name
            ) from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _refuse_collisions(archive: Package) -> None:
    """Two members with one path, or a file where another member needs a folder."""
    files: set[str] = set()
    folders: set[str] = set()
    for entry in archive.entries:
        parts = entry.path.split("/") if entry.path else []
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if entry.kind == "dir":
            folders.add(entry.path)
        elif entry.path in files:
            raise UnsafePackage("appears twice in the package", archive.name, entry.name)
        else:
            files.add(entry.path)
    clash = files & folders
    if clash:
        raise UnsafePackage("is both a file and a folder", archive.name, min(clash))
