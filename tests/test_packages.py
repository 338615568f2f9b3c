"""One safe reader for ZIP and tar (preservation.packages): bag packages refused whole, ingest's
containers member by member, against the same hostile archives, all real files."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import Literal

import pytest

from foiarchive import preservation
from foiarchive.ingest import containers
from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.identify import ZIP
from foiarchive.ingest.limits import Limits
from foiarchive.preservation import PayloadFile, write_bag
from foiarchive.preservation.packages import (
    Package,
    PackageLimits,
    UnsafePackage,
    unpack,
)
from foiarchive.schemas.errors import FoiarchiveError

from .conftest import run_cli

ZEROS = b"\0" * (5 * 1024 * 1024)  # deflates 1,025:1 (as a blank raw scan does), bzip2 100,000:1


# -- making packages ----------------------------------------------------------------------------
def _bag(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A valid BagIt bag named 'bag' holding `files` as its payload."""
    source = tmp_path / "bag-source"
    source.mkdir()
    payload = []
    for number, (path, content) in enumerate(files.items()):
        (source / str(number)).write_bytes(content)
        payload.append(PayloadFile(path, source / str(number)))
    target = tmp_path / "bag"
    write_bag(target, payload, {}, [("Source-Organization", "Test")], staging=tmp_path / "st")
    assert preservation.validate_bag(target).valid
    return target


def _bag_files(bag: Path | None) -> list[tuple[Path, str]]:
    """The bag's files and their names in a package (under one top folder, 'bag/')."""
    if bag is None:
        return []
    return [
        (p, f"bag/{p.relative_to(bag).as_posix()}") for p in sorted(bag.rglob("*")) if p.is_file()
    ]


def _zip_package(
    package: Path,
    bag: Path | None,
    extra: list[tuple[str | zipfile.ZipInfo, bytes]],
    method: int = zipfile.ZIP_DEFLATED,
) -> None:
    with zipfile.ZipFile(package, "w", method) as archive:
        for path, name in _bag_files(bag):
            archive.write(path, name)
        for member, data in extra:
            archive.writestr(member, data)
    _sidecar(package)


Member = tuple[tarfile.TarInfo, bytes]


def _tar_package(
    package: Path,
    bag: Path | None,
    extra: list[Member],
    mode: Literal["w", "w:gz", "w:bz2", "w:xz"] = "w",
) -> None:
    with tarfile.open(package, mode) as tar:
        for path, name in _bag_files(bag):
            tar.add(path, name)
        for member, data in extra:
            member.size = len(data) if member.isreg() else 0
            tar.addfile(member, io.BytesIO(data) if member.isreg() else None)
    _sidecar(package)


def _tar_member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"x") -> Member:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    return member, data


def _sidecar(package: Path) -> None:
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    package.with_name(package.name + ".sha256").write_text(f"{digest}  {package.name}\n")


def _zip_lie(package: Path, name: str, size: int) -> None:
    """Make one member's local and central headers declare `size` uncompressed bytes."""
    raw = bytearray(package.read_bytes())
    encoded = name.encode()
    for signature, size_at, length_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        start = raw.find(signature)
        while start != -1:
            length = int.from_bytes(raw[start + length_at : start + length_at + 2], "little")
            if raw[start + name_at : start + name_at + length] == encoded:
                raw[start + size_at : start + size_at + 4] = size.to_bytes(4, "little")
            start = raw.find(signature, start + 4)
    package.write_bytes(bytes(raw))
    _sidecar(package)


def _tar_lie(package: Path, name: str, size: int) -> None:
    """Make one member's header declare `size` bytes (its checksum mended, so it still reads)."""
    raw = bytearray(package.read_bytes())
    at = raw.find(name.encode() + b"\0")
    assert at % 512 == 0
    raw[at + 124 : at + 136] = f"{size:011o}\0".encode()
    raw[at + 148 : at + 156] = b" " * 8
    raw[at + 148 : at + 156] = f"{sum(raw[at : at + 512]):06o}\0 ".encode()
    package.write_bytes(bytes(raw))
    _sidecar(package)


def _refused(package: Path, into: Path, limits: PackageLimits | None = None) -> str:
    into.mkdir(exist_ok=True)
    with pytest.raises(UnsafePackage) as caught:
        unpack(package, into, limits)
    assert not any(into.rglob("*")), "nothing is written when the package is refused"
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{package.name}: ")
    return message


# -- bag packages: refused whole -----------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["zip", "tar"])
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bag/../../escaped.txt", "'..' would escape the target folder"),
        ("../escaped.txt", "'..' would escape the target folder"),
        ("..\\..\\escaped.txt", "'..' would escape the target folder"),
        ("/tmp/foiarchive-escaped.txt", "an absolute path"),
        ("C:\\escaped.txt", "an absolute path"),
        ("//server/share/escaped.txt", "an absolute path"),
    ],
)
def test_a_member_that_would_escape_refuses_the_package(
    tmp_path: Path, fmt: str, name: str, reason: str
) -> None:
    bag = _bag(tmp_path, {"letter.txt": b"a letter"})
    package = tmp_path / f"evil.{fmt}"
    if fmt == "zip":
        _zip_package(package, bag, [(name, b"x")])
    else:
        _tar_package(package, bag, [_tar_member(name)])
    message = _refused(package, tmp_path / "into")
    assert f"member {name.replace(chr(92), '/')!r} has an unsafe member name ({reason})" in message
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not Path("/tmp/foiarchive-escaped.txt").exists()
    result = run_cli("verify", "--package", package)
    assert result.exit_code == 1 and "unsafe member name" in result.output


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (tarfile.SYMTYPE, "a symbolic link"),
        (tarfile.LNKTYPE, "a hard link"),
        (tarfile.CHRTYPE, "a device"),
        (tarfile.BLKTYPE, "a device"),
        (tarfile.FIFOTYPE, "a FIFO"),
    ],
)
def test_links_and_special_files_in_a_tar_refuse_it(tmp_path: Path, kind: bytes, what: str) -> None:
    bag = _bag(tmp_path, {"letter.txt": b"a letter"})
    package = tmp_path / "evil.tar"
    _tar_package(package, bag, [_tar_member("bag/data/x", kind)])
    message = _refused(package, tmp_path / "into")
    assert f"member 'bag/data/x' is a link or special file ({what})" in message


def test_a_symbolic_link_in_a_zip_refuses_it(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("bag/data/x")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    package = tmp_path / "evil.zip"
    _zip_package(package, _bag(tmp_path, {"a.txt": b"a"}), [(link, b"/etc/passwd")])
    assert "is a link or special file (a symbolic link)" in _refused(package, tmp_path / "into")


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_a_valid_bag_unpacks(tmp_path: Path, fmt: str) -> None:
    bag = _bag(tmp_path, {"letter.txt": b"a letter", "sub/memo.txt": b"a memo"})
    package = tmp_path / f"good.{fmt}"
    (_zip_package if fmt == "zip" else _tar_package)(package, bag, [])
    unpacked = unpack(package, tmp_path / "into")
    assert unpacked == tmp_path / "into" / "bag"
    assert preservation.validate_bag(unpacked).valid
    assert run_cli("verify", "--package", package).exit_code == 0


def test_a_bag_of_compressible_originals_is_no_bomb(tmp_path: Path) -> None:
    """A bag package holds the originals as delivered: a blank uncompressed scan deflates
    1,019:1, as well as zeros do; the one ratio bound sits above what deflate can reach."""
    bag = _bag(tmp_path, {"zeros.bin": ZEROS})
    package = tmp_path / "blank.zip"
    _zip_package(package, bag, [])
    imported = run_cli("import", package, archive=tmp_path / "archive")
    # imported: its bag is in the archive (zeros.bin itself is no document anyone can read)
    assert imported.exit_code == 3 and "zip bomb" not in imported.stderr
    assert (tmp_path / "archive" / "bags" / "bag" / "data" / "zeros.bin").is_file()
    small = dataclasses.replace(PackageLimits(), max_unpacked_bytes=1024**2)
    message = _refused(package, tmp_path / "into", small)
    assert "over the limit of 1,048,576" in message


def test_a_production_of_uncompressed_scans_exports_as_zip(tmp_path: Path) -> None:
    from PIL import Image

    source = tmp_path / "release"
    source.mkdir()
    Image.new("L", (2550, 3300), 255).save(source / "scan-0001.tif", compression="raw")
    archive = tmp_path / "archive"
    assert run_cli("ingest", source, "--id", "t1", "--ocr", "never", archive=archive).exit_code == 0
    exported = run_cli("export", "t1", "--to", tmp_path, "--format", "zip", archive=archive)
    assert exported.exit_code == 0, exported.stderr
    assert run_cli("verify", "--package", tmp_path / "t1.zip").exit_code == 0
    again = run_cli("import", tmp_path / "t1.zip", "--id", "t2", archive=archive)
    assert again.exit_code == 0, again.stderr


def test_many_small_members_that_compress_too_well_together_are_refused(tmp_path: Path) -> None:
    """Each member is under the 1 MiB floor of the member check; the archive's ratio is not."""
    package = tmp_path / "many.zip"
    members = [(f"bag/data/{n}.bin", b"\0" * 1024**2) for n in range(8)]
    _zip_package(package, None, members, zipfile.ZIP_BZIP2)
    message = _refused(package, tmp_path / "into")
    assert "unpacks to 8,388,608 bytes from" in message and "(a zip bomb?)" in message


def test_a_tar_gz_bomb_is_refused_before_it_is_decompressed(tmp_path: Path) -> None:
    package = tmp_path / "bomb.tar.bz2"
    _tar_package(package, None, [_tar_member("bag/data/zeros.bin", data=ZEROS)], mode="w:bz2")
    message = _refused(package, tmp_path / "into")
    assert "compression ratio of" in message and "(a zip bomb?)" in message


def test_a_zip_member_larger_than_its_header_says_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "liar.zip"
    _zip_package(package, None, [("bag/data/big.txt", b"0" * 5_000_000)])
    _zip_lie(package, "bag/data/big.txt", 100)
    message = _refused(package, tmp_path / "into")
    assert "damaged or tampered package" in message
    assert "member 'bag/data/big.txt' holds more than the 100 bytes its header declares" in message


def test_a_tar_member_larger_than_its_header_says_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "liar.tar"
    _tar_package(
        package,
        None,
        [_tar_member("bag/data/big.txt", data=b"A" * 5000), _tar_member("bag/data/after.txt")],
    )
    _tar_lie(package, "bag/data/big.txt", 100)
    with tarfile.open(package) as tar:  # tarfile alone stops at the lie, in silence
        assert [m.name for m in tar] == ["bag/data/big.txt"]
    message = _refused(package, tmp_path / "into")
    assert "damaged or tampered package: data after byte 1,024 is no tar header" in message


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_too_many_members_or_bytes_refuse_the_package(tmp_path: Path, fmt: str) -> None:
    package = tmp_path / f"many.{fmt}"
    names = [f"bag/data/{n}.txt" for n in range(4)]
    if fmt == "zip":
        _zip_package(package, None, [(n, b"0123456789") for n in names])
    else:
        _tar_package(package, None, [_tar_member(n, data=b"0123456789") for n in names])
    assert "4 members, over the limit of 3" in _refused(
        package, tmp_path / "a", PackageLimits(max_members=3)
    )
    assert "unpacks to " in _refused(package, tmp_path / "b", PackageLimits(max_unpacked_bytes=25))
    assert unpack(package, tmp_path / "c", PackageLimits(max_members=4)) == tmp_path / "c" / "bag"


def test_two_members_with_one_path_refuse_the_package(tmp_path: Path) -> None:
    package = tmp_path / "twice.tar"
    _tar_package(package, None, [_tar_member("bag/a.txt"), _tar_member("bag/./a.txt")])
    assert "member 'bag/./a.txt' appears twice" in _refused(package, tmp_path / "a")
    _tar_package(package, None, [_tar_member("bag/a"), _tar_member("bag/a/b.txt")])
    assert "member 'bag/a' is both a file and a folder" in _refused(package, tmp_path / "b")


def test_package_errors_are_bag_errors(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("neither a tar nor a zip")
    with pytest.raises(UnsafePackage) as caught:
        unpack(tmp_path / "plain.txt", tmp_path)
    assert isinstance(caught.value, preservation.BagError)
    assert isinstance(caught.value, FoiarchiveError)
    assert str(caught.value) == "plain.txt: not a tar or zip file"


# -- containers: the same reader, problems member by member --------------------------------------
def _production_zip(path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("memo.txt", "a memo")
        archive.writestr("../escape.txt", "x")
        archive.writestr("..\\..\\windows.txt", "x")
        archive.writestr("/etc/absolute.txt", "x")
        archive.writestr("C:\\drive.txt", "x")
        archive.writestr(link, "/etc/passwd")
        archive.writestr("bomb.bin", ZEROS, zipfile.ZIP_BZIP2)
        archive.writestr("liar.txt", b"0" * 5_000_000)
        archive.writestr("sub/note.txt", "a note")
    _zip_lie(path, "liar.txt", 100)


def test_containers_report_the_same_refusals_member_by_member(tmp_path: Path) -> None:
    source = tmp_path / "production.zip"
    _production_zip(source)
    scratch = containers.Scratch(tmp_path / "scratch")
    found = {m.name: m for m in containers.members(source, ZIP, scratch, Limits())}
    problems = {name: m.problem for name, m in found.items() if m.problem}
    assert "unsafe member name ('..' would escape" in problems["../escape.txt"]
    assert "unsafe member name ('..' would escape" in problems["../../windows.txt"]
    assert "unsafe member name (an absolute path)" in problems["/etc/absolute.txt"]
    assert "unsafe member name (an absolute path)" in problems["C:/drive.txt"]
    assert "(a symbolic link)" in problems["link"]
    assert "(a zip bomb?)" in problems["bomb.bin"]
    assert problems["liar.txt"] == (
        "damaged member: holds more than the 100 bytes its header declares"
    )
    extracted = {name: m.source for name, m in found.items() if m.source}
    assert sorted(extracted) == ["memo.txt", "sub/note.txt"]
    assert extracted["memo.txt"].read_text() == "a memo"
    # under names the caller chose (numbered scratch files), never the members' own
    written = sorted(p.name for p in scratch.folder.iterdir())
    assert written == sorted(p.name for p in extracted.values())  # the liar's copy is gone
    assert all(re.fullmatch(r"\d{7}\.txt", name) for name in written)
    assert not list(tmp_path.rglob("escape.txt")) and not Path("/etc/absolute.txt").exists()


def test_a_container_past_the_archive_wide_bounds_is_refused_whole(tmp_path: Path) -> None:
    source = tmp_path / "production.zip"
    _production_zip(source)
    scratch = containers.Scratch(tmp_path / "scratch")
    with pytest.raises(IngestError, match=r"^9 members, over the limit of 8$"):
        containers.members(source, ZIP, scratch, Limits(max_members=8))
    many = tmp_path / "many.zip"
    _zip_package(many, None, [(f"{n}.bin", b"\0" * 1024**2) for n in range(8)], zipfile.ZIP_BZIP2)
    with pytest.raises(IngestError, match=r"compression ratio of .* \(a zip bomb\?\)"):
        containers.members(many, ZIP, scratch, Limits())
    assert not scratch.folder.exists() or not any(scratch.folder.iterdir())


def test_a_tar_read_member_by_member_reports_each_problem(tmp_path: Path) -> None:
    package = tmp_path / "mixed.tar"
    _tar_package(
        package,
        None,
        [
            _tar_member("ok.txt", data=b"fine"),
            _tar_member("../up.txt"),
            _tar_member("dev", tarfile.CHRTYPE),
            _tar_member("link", tarfile.SYMTYPE),
        ],
    )
    with Package(package) as archive:
        problems = {e.name: e.problem for e in archive.entries}
        (ok,) = [e for e in archive.entries if not e.problem]
        assert archive.extract(ok, tmp_path / "chosen-name") == 4
    assert (tmp_path / "chosen-name").read_bytes() == b"fine"
    assert "'..' would escape" in problems["../up.txt"]
    assert problems["dev"] == "is a link or special file (a device)"
    assert problems["link"] == "is a link or special file (a symbolic link)"


def test_a_bag_package_gets_the_same_ratio_bound_as_a_container(tmp_path: Path) -> None:
    """Bag packages once had no ratio check at all: a bzip2 bomb in one was unpacked whole."""
    bag = _bag(tmp_path, {"letter.txt": b"a letter"})
    package = tmp_path / "bomb.zip"
    _zip_package(package, bag, [("bag/data/zeros.bin", ZEROS)], zipfile.ZIP_BZIP2)
    imported = run_cli("import", package, archive=tmp_path / "archive")
    assert imported.exit_code == 1
    assert "compression ratio of" in imported.stderr and "(a zip bomb?)" in imported.stderr
    assert not (tmp_path / "archive" / "bags").exists() or not any(
        (tmp_path / "archive" / "bags").iterdir()
    )
    scratch = containers.Scratch(tmp_path / "scratch")
    found = {m.name: m for m in containers.members(package, ZIP, scratch, Limits())}
    assert "(a zip bomb?)" in found["bag/data/zeros.bin"].problem  # the same verdict


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_a_package_that_would_fill_the_disk_is_refused_before_writing(
    tmp_path: Path, fmt: str
) -> None:
    bag = _bag(tmp_path, {"letter.txt": b"a letter"})
    package = tmp_path / f"p.{fmt}"
    (_zip_package if fmt == "zip" else _tar_package)(package, bag, [])
    free = shutil.disk_usage(tmp_path).free
    tight = PackageLimits(keep_free_bytes=free)  # not one byte may be written
    message = _refused(package, tmp_path / "into", tight)
    assert "must stay free" in message
    assert not (tmp_path / "into").exists() or not any((tmp_path / "into").iterdir())
    if fmt == "zip":  # the same bound on a production's ZIP
        scratch = containers.Scratch(tmp_path / "scratch")
        with pytest.raises(IngestError, match="must stay free"):
            containers.members(package, ZIP, scratch, Limits(keep_free_bytes=free))


def test_ingest_limits_are_the_package_limits() -> None:
    assert Limits().packages == PackageLimits()
    custom = Limits(max_members=3, max_unpacked_bytes=1024, max_compression_ratio=10)
    assert custom.packages == PackageLimits(
        max_members=3, max_unpacked_bytes=1024, max_compression_ratio=10
    )
