"""Our RFC 8493 validator: each way bagit-python 1.9 goes wrong, and the bags it must accept."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import bagit
import pytest

from foiarchive.preservation import PayloadFile, validate_bag, write_bag


def make_bag(tmp_path: Path, files: dict[str, bytes], name: str = "bag") -> Path:
    source = tmp_path / f"{name}-source"
    payload = []
    for number, (path, content) in enumerate(files.items()):
        stored = source / str(number)
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(content)
        payload.append(PayloadFile(path, stored))
    target = tmp_path / name
    write_bag(
        target,
        payload,
        {"foiarchive/notes.txt": b"tag file\n"},
        [("Source-Organization", "Test")],
        staging=tmp_path / "staging",
    )
    return target


def problems(bag: Path, **kwargs: bool) -> list[str]:
    return [str(p) for p in validate_bag(bag, **kwargs).problems]


def rewrite_tagmanifests(bag: Path) -> None:
    """Re-hash tag files after editing one, so only the edit itself is under test."""
    for algorithm in ("sha256", "sha512"):
        path = bag / f"tagmanifest-{algorithm}.txt"
        lines = []
        for line in path.read_text().splitlines():
            _, _, name = line.partition("  ")
            digest = hashlib.new(algorithm, (bag / name).read_bytes()).hexdigest()
            lines.append(f"{digest}  {name}")
        path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    return make_bag(tmp_path, {"letter.pdf": b"%PDF-1.4 letter", "sub/memo.txt": b"memo"})


def test_a_bag_we_write_is_valid_for_us_and_for_bagit_python(bag: Path) -> None:
    assert problems(bag) == []
    assert bagit.Bag(str(bag)).is_valid()
    assert (bag / "bagit.txt").read_text() == (
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )
    labels = [line.split(":")[0] for line in (bag / "bag-info.txt").read_text().splitlines()]
    assert labels == ["Source-Organization", "Bagging-Date", "Payload-Oxum", "Bag-Software-Agent"]


def test_second_manifest_missing_a_file_is_invalid(bag: Path) -> None:
    manifest = bag / "manifest-sha512.txt"
    manifest.write_text(
        "".join(line + "\n" for line in manifest.read_text().splitlines() if "memo" not in line)
    )
    rewrite_tagmanifests(bag)
    assert "data/sub/memo.txt: not listed in manifest-sha512.txt" in problems(bag)


def test_payload_file_listed_only_in_a_tag_manifest_is_invalid(bag: Path) -> None:
    (bag / "data" / "extra.txt").write_text("smuggled")
    for algorithm in ("sha256", "sha512"):
        digest = hashlib.new(algorithm, b"smuggled").hexdigest()
        with (bag / f"tagmanifest-{algorithm}.txt").open("a") as handle:
            handle.write(f"{digest}  data/extra.txt\n")
    found = problems(bag)
    assert any("a tag manifest lists a payload file" in p for p in found)
    assert "data/extra.txt: not listed in manifest-sha256.txt" in found


@pytest.mark.parametrize(
    ("fetch", "expected"),
    [
        ("http://example.org/x 10 data/not-in-manifest.txt\n", "not listed in manifest-sha256"),
        ("http://example.org/x 10 ../outside.txt\n", "path with an empty, '.' or '..' element"),
        ("http://example.org/x 10 bag-info.txt\n", "outside data/"),
        ("http://example.org/x 10 data/letter.pdf\n\n", "line 2: not 'URL LENGTH PATH'"),
    ],
)
def test_bad_fetch_entries_are_invalid(bag: Path, fetch: str, expected: str) -> None:
    (bag / "fetch.txt").write_text(fetch)
    assert any(expected in p for p in problems(bag))


@pytest.mark.parametrize(
    "content",
    [
        "Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: line\n",
        "\ufeffBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "BagIt-Version: 1.0\n",
    ],
)
def test_malformed_bagit_txt_is_invalid(bag: Path, content: str) -> None:
    (bag / "bagit.txt").write_bytes(content.encode("utf-8"))
    assert any(p.startswith("bagit.txt") for p in problems(bag))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Contact-Name : Jane\n", "whitespace around the label"),
        ("Payload-Oxum: 1.1\n", "Payload-Oxum is given more than once"),
        ("no colon here\n", "not 'Label: value'"),
    ],
)
def test_bag_info_rules_of_version_1(bag: Path, line: str, expected: str) -> None:
    with (bag / "bag-info.txt").open("a") as handle:
        handle.write(line)
    rewrite_tagmanifests(bag)
    assert any(expected in p for p in problems(bag))


def test_payload_oxum_without_a_dot_is_reported_not_crashed(bag: Path) -> None:
    info = bag / "bag-info.txt"
    info.write_text(
        "".join(
            ("Payload-Oxum: 12345\n" if line.startswith("Payload-Oxum") else line + "\n")
            for line in info.read_text().splitlines()
        )
    )
    rewrite_tagmanifests(bag)
    assert any("is not OCTETS.FILES" in p for p in problems(bag))


def test_undeclared_non_utf8_bytes_are_reported_not_crashed(bag: Path) -> None:
    with (bag / "bag-info.txt").open("ab") as handle:
        handle.write(b"Contact-Name: Jos\xe9\n")
    rewrite_tagmanifests(bag)
    assert any("bag-info.txt: not valid UTF-8" in p for p in problems(bag))


def test_percent_escapes_trailing_spaces_and_unicode_names_are_valid(tmp_path: Path) -> None:
    bag = make_bag(
        tmp_path,
        {
            "100% done.txt": b"a",
            "two\nlines.txt": b"b",
            "trailing space .txt ": b"c",
            "café/naïve 日本.txt": b"d",
            "tagmanifest-sha256.txt": b"e",
            "cr\rname": b"f",
        },
    )
    manifest = (bag / "manifest-sha256.txt").read_text()
    assert "100%25 done.txt" in manifest and "two%0Alines.txt" in manifest
    # Lower-case escapes are valid too.
    (bag / "manifest-sha256.txt").write_text(manifest.replace("%0A", "%0a"))
    rewrite_tagmanifests(bag)
    assert problems(bag) == []


def test_crlf_line_endings_and_a_utf8_bom_in_tag_files_are_read(bag: Path) -> None:
    for name in ("manifest-sha256.txt", "bag-info.txt"):
        text = (bag / name).read_text().replace("\n", "\r\n")
        (bag / name).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    rewrite_tagmanifests(bag)
    assert problems(bag) == []


def test_a_fifo_in_data_is_refused_without_hanging(bag: Path) -> None:
    os.mkfifo(bag / "data" / "pipe")
    assert "data/pipe: not a regular file (device, FIFO or socket)" in problems(bag)


def test_links_cannot_reach_a_sibling_folder_sharing_the_prefix(tmp_path: Path) -> None:
    bag = make_bag(tmp_path, {"a.txt": b"a"})
    sibling = tmp_path / "bag-sibling"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("secret")
    (bag / "data" / "link").symlink_to(sibling)
    digest = hashlib.sha256(b"secret").hexdigest()
    with (bag / "manifest-sha256.txt").open("a") as handle:
        handle.write(f"{digest}  data/link/secret.txt\n")
        handle.write(f"{digest}  data/../../bag-sibling/secret.txt\n")
    found = problems(bag)
    assert "data/link: symbolic link (not allowed in a bag)" in found
    assert "data/link/secret.txt: missing (listed in manifest-sha256.txt)" in found
    assert any("'..' element" in p for p in found)


@pytest.mark.parametrize("change", ["flip", "delete", "add", "rename", "tag"])
def test_tampering_is_always_detected(bag: Path, change: str) -> None:
    letter = bag / "data" / "letter.pdf"
    if change == "flip":
        data = bytearray(letter.read_bytes())
        data[3] ^= 0x01
        letter.write_bytes(bytes(data))
    elif change == "delete":
        letter.unlink()
    elif change == "add":
        (bag / "data" / "new.txt").write_text("x")
    elif change == "rename":
        letter.rename(bag / "data" / "renamed.pdf")
    else:
        (bag / "foiarchive" / "notes.txt").write_text("edited")
    found = problems(bag)
    expected = {
        "flip": "data/letter.pdf: sha256 checksum does not match (altered)",
        "delete": "data/letter.pdf: missing (listed in manifest-sha256.txt)",
        "add": "data/new.txt: not listed in manifest-sha256.txt",
        "rename": "data/renamed.pdf: not listed in manifest-sha256.txt",
        "tag": "foiarchive/notes.txt: sha256 checksum does not match (altered)",
    }[change]
    assert expected in found
    if change != "tag":
        assert problems(bag, fast=True) != [] or change == "flip"


def test_missing_folder_and_plain_files_are_reported(tmp_path: Path) -> None:
    assert problems(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: no such folder"]
    (tmp_path / "file").write_text("x")
    assert "not a folder" in problems(tmp_path / "file")[0]
