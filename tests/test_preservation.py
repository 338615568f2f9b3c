"""Bags end to end: written by ingest, audited, exported, imported, and the catalog rebuilt."""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import bagit
import pytest
from lxml import etree

from foiarchive import Archive, preservation
from foiarchive.ingest.sample import write_text_pdf

from .conftest import run_cli, run_json


def _tree_state(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def archive(sample_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private archive of the sample production (tests here tamper with bags)."""
    folder = tmp_path_factory.mktemp("preserved")
    (sample_source / "empty-folder").mkdir(exist_ok=True)
    before = _tree_state(sample_source)
    result = run_cli(
        "ingest", sample_source, "--manifest", sample_source / "production.json", archive=folder
    )
    assert result.exit_code == 0, result.output
    assert _tree_state(sample_source) == before  # sources are never modified
    return folder


def test_ingest_keeps_the_originals_as_a_valid_bag(archive: Path, sample_source: Path) -> None:
    bag = archive / "bags" / "ice-2017-r1"
    assert bagit.Bag(str(bag)).is_valid()
    assert preservation.validate_bag(bag).valid
    original = sample_source / "scans" / "ERO memos 2017 (scanned).pdf"
    kept = bag / "data" / "scans" / "ERO memos 2017 (scanned).pdf"
    assert kept.read_bytes() == original.read_bytes()
    assert (bag / "data" / "empty-folder" / ".keep").exists()
    info = (bag / "bag-info.txt").read_text()
    for label in (
        "Source-Organization: ICE",
        "External-Identifier: 2017-ICFO-12345",
        "Bagging-Date:",
        "Payload-Oxum:",
        "Bag-Software-Agent:",
        "FOIA-Production-Id: ice-2017-r1",
    ):
        assert label in info
    assert {p.name for p in bag.glob("*manifest-*.txt")} == {
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    }
    records = preservation.read_records(bag)
    assert records.production.id == "ice-2017-r1" and len(records.documents) == 5
    assert any("Secure Communities" in p.text for pages in records.pages.values() for p in pages)


def test_our_bags_pass_the_reference_profile_validator(archive: Path, tmp_path: Path) -> None:
    """bagit-profile 1.3.1 refused every bag we wrote: no BagIt-Profile-Identifier in
    bag-info.txt. The identifiers are a URN and a plain name: no address we do not own."""
    import bagit_profile

    profile = preservation.foiarchive_profile()
    identifier = profile["BagIt-Profile-Info"]["BagIt-Profile-Identifier"]
    assert identifier.startswith("urn:uuid:")
    validator = bagit_profile.Profile(identifier, profile=json.loads(json.dumps(profile)))
    bag = archive / "bags" / "ice-2017-r1"
    assert validator.validate(bagit.Bag(str(bag))), [str(e) for e in validator.report.errors]
    assert f"BagIt-Profile-Identifier: {identifier}\n" in (bag / "bag-info.txt").read_text()
    assert preservation.check_profile(preservation.validate_bag(bag)) == []
    exported = run_cli(
        "export", "ice-2017-r1", "--to", tmp_path, "--format", "zip", archive=archive
    )
    assert exported.exit_code == 0, exported.output
    assert validator.validate_serialization(str(tmp_path / "ice-2017-r1.zip"))
    tags = [p for p in bag.rglob("*") if p.is_file() and not p.is_relative_to(bag / "data")]
    for text in [p.read_text("utf-8") for p in tags] + [json.dumps(profile)]:
        assert "foiarchive.org" not in text and "github.com/foiarchive" not in text


def test_premis_records_what_was_done(archive: Path) -> None:
    premis = etree.parse(str(archive / "bags" / "ice-2017-r1" / "foiarchive" / "premis.xml"))
    ns = {"p": "http://www.loc.gov/premis/v3"}
    types = {e.text for e in premis.findall(".//p:event/p:eventType", ns)}
    assert {"ingestion", "message digest calculation", "format identification", "OCR"} <= types
    assert len(premis.findall("p:object", ns)) == 5
    keys = {e.text for e in premis.findall(".//p:formatRegistryKey", ns)}
    assert "fmt/18" in keys  # PDF 1.4, identified by content


def test_verify_records_an_event_and_lists_stale_bags(archive: Path) -> None:
    never = run_json("verify", "--older-than", "30", archive=archive)
    assert [r["production"] for r in never] == ["ice-2017-r1"]
    full = run_json("verify", archive=archive)
    assert full[0]["valid"] and full[0]["checked"] == "full"
    assert run_json("verify", "--older-than", "30", archive=archive) == []
    fast = run_json("verify", "--fast", archive=archive)
    assert fast[0]["checked"] == "fast"
    bag = archive / "bags" / "ice-2017-r1"
    assert "fixity check" in _event_types(bag)  # the audit is in the bag's own PREMIS log
    assert bagit.Bag(str(bag)).is_valid() and preservation.validate_bag(bag).valid


def _event_types(bag: Path) -> set[str]:
    premis = etree.parse(str(bag / "foiarchive" / "premis.xml"))
    return {e.text for e in premis.findall(".//{http://www.loc.gov/premis/v3}eventType")}


def test_tampering_fails_verify_by_path(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    letter = copy / "bags" / "ice-2017-r1" / "data" / "final-response-letter.pdf"
    data = bytearray(letter.read_bytes())
    data[100] ^= 0xFF
    letter.write_bytes(bytes(data))
    result = run_cli("verify", archive=copy)
    assert result.exit_code == 1
    assert (
        "data/final-response-letter.pdf: sha256 checksum does not match (altered)" in result.output
    )
    assert run_cli("verify", "--fast", archive=copy).exit_code == 0  # same size: fast can't tell


@pytest.mark.parametrize("fmt", ["dir", "tar", "zip"])
def test_export_import_round_trip_gives_the_same_hits(
    archive: Path, tmp_path: Path, fmt: str
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    result = run_cli("export", "ice-2017-r1", "--to", exports, "--format", fmt, archive=archive)
    assert result.exit_code == 0, result.output
    package = (
        exports / {"dir": "ice-2017-r1", "tar": "ice-2017-r1.tar", "zip": "ice-2017-r1.zip"}[fmt]
    )
    if fmt == "dir":
        assert bagit.Bag(str(package)).is_valid()
        assert "replication" in _event_types(package)
    else:
        assert run_cli("verify", "--package", package).exit_code == 0
    other = tmp_path / "other-archive"
    imported = run_cli("import", package, archive=other)
    assert imported.exit_code == 0, imported.output
    query = "deportation OR detainer* OR travis"
    before = run_json("search", query, "--limit", "100", archive=archive)
    after = run_json("search", query, "--limit", "100", archive=other)
    assert {(h["path"], h["page"]) for h in before["hits"]} == {
        (h["path"], h["page"]) for h in after["hits"]
    }


def test_a_tampered_package_fails_its_checksum(archive: Path, tmp_path: Path) -> None:
    run_cli("export", "ice-2017-r1", "--to", tmp_path, "--format", "zip", archive=archive)
    package = tmp_path / "ice-2017-r1.zip"
    with package.open("ab") as handle:
        handle.write(b"\0")
    result = run_cli("verify", "--package", package)
    assert result.exit_code == 1
    assert "package checksum does not match" in result.output


def test_rebuild_from_bags_alone(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    for name in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"):
        (copy / name).unlink(missing_ok=True)
    shutil.rmtree(copy / "search")
    result = run_cli("rebuild", archive=copy)
    assert result.exit_code == 0, result.output
    assert "5 documents, 9 pages" in result.output
    query = "secure OR warrant OR travis"
    assert (
        run_json("search", query, archive=copy)["total"]
        == run_json("search", query, archive=archive)["total"]
    )
    assert run_json("productions", archive=copy)[0]["agency"] == "ICE"
    # where OCR read each word comes back too, so the viewer still outlines hits
    with Archive(archive).catalog() as before, Archive(copy).catalog() as after:
        for document in before.documents():
            for page in before.pages(document.id):
                rebuilt = after.page(document.id, page.number)
                assert rebuilt is not None and rebuilt.word_boxes == page.word_boxes
                if page.text_source == "ocr":
                    assert len(page.boxes()) == len(page.text.split())


def test_rebuild_refuses_to_drop_a_damaged_bag(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    (copy / "bags" / "ice-2017-r1" / "data" / "README-from-agency.txt").unlink()
    result = run_cli("rebuild", archive=copy)
    assert result.exit_code == 1 and "nothing was changed" in result.stderr
    assert run_json("productions", archive=copy)[0]["documents"] == 5


def test_profile_accepts_our_bags_and_names_what_others_lack(archive: Path, tmp_path: Path) -> None:
    ours = preservation.validate_bag(archive / "bags" / "ice-2017-r1")
    assert preservation.check_profile(ours) == []
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.txt").write_text("a")
    bagit.make_bag(str(plain))
    report = preservation.validate_bag(plain)
    assert report.valid  # a valid bag ...
    lacking = {str(p) for p in preservation.check_profile(report)}
    assert "bagit.txt: profile: BagIt-Version 0.97 not in ['1.0']" in lacking  # ... not ours
    result = run_cli("import", plain, "--profile", archive=tmp_path / "a")
    assert result.exit_code == 1 and "profile:" in result.stderr


def _hostile_tar(members: list[tarfile.TarInfo], contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            data = contents.get(member.name, b"")
            member.size = len(data) if member.isfile() else 0
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("dotdot", "would escape the target folder"),
        ("absolute", "absolute path"),
        ("symlink", "is a link or special file"),
        ("device", "is a link or special file"),
        ("zipbomb", "damaged or tampered package"),
        ("zipescape", "would escape the target folder"),
    ],
)
def test_hostile_packages_are_refused_without_writing_outside(
    tmp_path: Path, kind: str, reason: str
) -> None:
    package = tmp_path / ("evil.zip" if kind.startswith("zip") else "evil.tar")
    if kind == "dotdot":
        package.write_bytes(
            _hostile_tar(
                [tarfile.TarInfo("bag/../../escaped.txt")], {"bag/../../escaped.txt": b"x"}
            )
        )
    elif kind == "absolute":
        package.write_bytes(
            _hostile_tar([tarfile.TarInfo("/tmp/escaped.txt")], {"/tmp/escaped.txt": b"x"})
        )
    elif kind in ("symlink", "device"):
        member = tarfile.TarInfo("bag/data/x")
        member.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.CHRTYPE
        member.linkname = "/etc/passwd"
        package.write_bytes(_hostile_tar([member], {}))
    elif kind == "zipbomb":
        with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("bag/data/big.txt", b"0" * 5_000_000)
        raw = bytearray(package.read_bytes())
        # Lie about the uncompressed size in the central directory and the local header.
        for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
            at = raw.find(signature)
            raw[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
        package.write_bytes(bytes(raw))
    else:
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("../escaped.txt", b"x")
    before = set(tmp_path.parent.iterdir())
    absolute_target_existed = Path("/tmp/escaped.txt").exists()
    result = run_cli("import", package, archive=tmp_path / "archive")
    assert result.exit_code == 1
    assert reason in result.stderr
    assert set(tmp_path.parent.iterdir()) == before
    assert not list(tmp_path.rglob("escaped.txt"))
    assert Path("/tmp/escaped.txt").exists() == absolute_target_existed
    assert not any((tmp_path / "archive").glob("bags/*"))


_BUILDER = """
import sys
from pathlib import Path
from foiarchive.preservation import PayloadFile, write_bag
source, target, staging = map(Path, sys.argv[1:4])
files = [PayloadFile(p.name, p) for p in sorted(source.iterdir())]
write_bag(target, files, {"foiarchive/x.txt": b"x"}, [("Source-Organization", "T")],
          staging=staging, workers=2)
"""


def test_killing_a_bag_build_never_leaves_a_partial_bag(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    rng = random.Random(5)
    for n in range(40):
        (source / f"f{n:03d}.bin").write_bytes(rng.randbytes(rng.randint(1, 400_000)))
    target, staging = tmp_path / "bags" / "p", tmp_path / "staging"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _BUILDER, source, target, staging], check=True)
    duration = time.perf_counter() - started
    shutil.rmtree(target)
    for attempt in range(8):
        process = subprocess.Popen([sys.executable, "-c", _BUILDER, source, target, staging])
        time.sleep(rng.uniform(0.0, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not target.exists() or preservation.validate_bag(target).valid, attempt
        preservation.recover(staging)
        assert [p.name for p in staging.iterdir()] == []
        if target.exists():  # complete or absent are both fine; a partial bag never is
            shutil.rmtree(target)


def test_an_incremental_ingest_keeps_earlier_originals(tmp_path: Path) -> None:
    first, second = tmp_path / "batch-1", tmp_path / "batch-2"
    first.mkdir()
    second.mkdir()
    write_text_pdf(first / "one.pdf", [["First batch letter about warrants"] * 3])
    write_text_pdf(second / "two.pdf", [["Second batch letter about detainers"] * 3])
    archive = tmp_path / "archive"
    for batch in (first, second):
        assert (
            run_cli("ingest", batch, "--id", "p", "--ocr", "never", archive=archive).exit_code == 0
        )
    bag = archive / "bags" / "p"
    assert sorted(p.name for p in (bag / "data").iterdir()) == ["one.pdf", "two.pdf"]
    assert preservation.validate_bag(bag).valid
    audits = json.loads(run_cli("verify", "--format", "json", archive=archive).stdout)
    assert audits[0]["files"] == 2 and audits[0]["valid"]


def test_export_errors_are_one_line(archive: Path, tmp_path: Path) -> None:
    missing = run_cli(
        "export",
        "ice-2017-r1",
        "--to",
        tmp_path / "nowhere" / "p.zip",
        "--format",
        "zip",
        archive=archive,
    )
    assert missing.exit_code == 1 and "no such folder to export into" in missing.stderr
    unknown = run_cli("export", "no-such-production", "--to", tmp_path, archive=archive)
    assert unknown.exit_code == 1 and "no production 'no-such-production'" in unknown.stderr
    assert run_cli("verify", "no-such-production", archive=archive).exit_code == 1


def test_a_bag_with_an_empty_payload_file_imports_with_a_warning(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "letter.txt").write_text("The detainer was lodged.\n")
    (outside / "blank.pdf").write_bytes(b"")  # an agency released an empty file
    bagit.make_bag(str(outside))
    result = run_cli("import", outside, "--id", "blank", archive=tmp_path / "a")
    assert result.exit_code == 0, result.output  # was 3: the empty file counted as failed
    assert "empty file (0 bytes)" in result.output
    with Archive(tmp_path / "a").catalog() as catalog:
        blank = next(d for d in catalog.documents("blank") if d.path == "blank.pdf")
    assert blank.status == "ok" and blank.page_count == 0 and blank.size == 0
    kept = tmp_path / "a" / "bags" / "blank" / "data" / "blank.pdf"
    assert kept.is_file() and kept.stat().st_size == 0
    assert preservation.validate_bag(tmp_path / "a" / "bags" / "blank").valid
