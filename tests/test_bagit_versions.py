"""Every BagIt version by its own rules: bags built here, by version (0.93 to 1.0) and by the
LoC conformance suite's categories (valid / invalid / warning), each checked for its verdict.

The cases follow the suite's own (basic bags per algorithm, duplicate metadata entries, UTF-16
tag files, a local fetch, dot notation out of scope, invalid whitespace, filename
normalization, a name listed twice in two normalizations) plus the rules where the versions
differ: package-info.txt until 0.95, tag manifests from 0.96, percent-encoded paths and the
MUSTs of 1.0.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from foiarchive.preservation import validate_bag

from .conftest import run_cli

VERSIONS = ("0.93", "0.94", "0.95", "0.96", "0.97", "1.0")
OLD = VERSIONS[:-1]


@dataclass
class Spec:
    """A bag to write, and the knobs the cases turn."""

    version: str
    payload: dict[str, bytes] = field(
        default_factory=lambda: {"data/test-file.txt": b"a test file\n"}
    )
    algorithms: tuple[str, ...] = ("md5",)
    tag_algorithms: tuple[str, ...] = ("md5",)
    encoding: str = "UTF-8"
    info: list[str] = field(default_factory=lambda: ["Source-Organization: Spengler University"])
    bagit_extra: str = ""
    # manifest name -> its text, given the {path: {algorithm: digest}} of the payload
    manifest_lines: Callable[[str, dict[str, bytes]], list[str]] | None = None
    extra_tags: dict[str, bytes] = field(default_factory=dict)
    edited_after: dict[str, bytes] = field(default_factory=dict)  # after the tag manifests

    @property
    def info_file(self) -> str:
        return "package-info.txt" if self.version < "0.96" else "bag-info.txt"


def _digest(algorithm: str, content: bytes) -> str:
    return hashlib.new(algorithm, content).hexdigest()


def write(folder: Path, spec: Spec) -> Path:
    folder.mkdir()
    (folder / "data").mkdir()
    for path, content in spec.payload.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)
    bagit = f"BagIt-Version: {spec.version}\nTag-File-Character-Encoding: {spec.encoding}\n"
    (folder / "bagit.txt").write_bytes((bagit + spec.bagit_extra).encode("utf-8"))
    tags = ["bagit.txt"]
    for algorithm in spec.algorithms:
        lines = (spec.manifest_lines or _plain_lines)(algorithm, spec.payload)
        name = f"manifest-{algorithm}.txt"
        (folder / name).write_bytes("".join(f"{x}\n" for x in lines).encode(spec.encoding))
        tags.append(name)
    if spec.info:
        text = "".join(f"{line}\n" for line in spec.info)
        (folder / spec.info_file).write_bytes(text.encode(spec.encoding))
        tags.append(spec.info_file)
    for name, content in spec.extra_tags.items():
        (folder / name).write_bytes(content)
        tags.append(name)
    for algorithm in spec.tag_algorithms:
        lines = [f"{_digest(algorithm, (folder / t).read_bytes())}  {t}\n" for t in tags]
        (folder / f"tagmanifest-{algorithm}.txt").write_bytes("".join(lines).encode(spec.encoding))
    for name, content in spec.edited_after.items():
        (folder / name).write_bytes(content)
    return folder


def _plain_lines(algorithm: str, payload: dict[str, bytes]) -> list[str]:
    return [f"{_digest(algorithm, content)}  {path}" for path, content in payload.items()]


def _disk_and_manifest_names(disk: str, listed: str) -> Callable[[Spec], None]:
    def change(spec: Spec) -> None:
        content = b"normalization\n"
        spec.payload = {f"data/{disk}": content}
        spec.manifest_lines = lambda a, _p: [f"{_digest(a, content)}  data/{listed}"]

    return change


NFC, NFD = unicodedata.normalize("NFC", "Núñez"), unicodedata.normalize("NFD", "Núñez")


def _every(spec: Spec) -> None:
    pass


# (name, versions, change): the bag a case writes is Spec(version) with `change` applied.
VALID: list[tuple[str, tuple[str, ...], Callable[[Spec], None]]] = [
    ("basic-bag-md5", VERSIONS, _every),
    *[
        (f"basic-bag-{a}", VERSIONS, lambda s, a=a: setattr(s, "algorithms", (a,)))
        for a in ("sha1", "sha256", "sha512")
    ],
    (
        "duplicate-metadata-entries",
        VERSIONS,
        lambda s: s.info.extend(["Source-Organization: Spengler University2", "Contact-Name: E"]),
    ),
    ("UTF-16-encoded-tag-files", VERSIONS, lambda s: setattr(s, "encoding", "UTF-16")),
    ("UTF-16BE-encoded-tag-files", VERSIONS, lambda s: setattr(s, "encoding", "UTF-16BE")),
    ("no-tag-manifest", VERSIONS, lambda s: setattr(s, "tag_algorithms", ())),
    ("no-metadata-file", VERSIONS, lambda s: setattr(s, "info", [])),
    (
        "two-manifests",
        VERSIONS,
        lambda s: setattr(s, "algorithms", ("md5", "sha256")),
    ),
    (
        "payload-oxum",
        VERSIONS,
        lambda s: s.info.append("Payload-Oxum: 12.1"),
    ),
    (
        "nested-folders-and-spaces",
        VERSIONS,
        lambda s: setattr(s, "payload", {"data/a b/c d.txt": b"x", "data/e.txt": b""}),
    ),
    (
        "percent-in-a-name-is-literal-before-1.0",
        OLD,
        lambda s: setattr(s, "payload", {"data/100%25 done.txt": b"literal"}),
    ),
    (
        "percent-encoded-newline-in-1.0",
        ("1.0",),
        lambda s: (
            setattr(s, "payload", {"data/two\nlines.txt": b"x"}),
            setattr(
                s, "manifest_lines", lambda a, p: [f"{_digest(a, b'x')}  data/two%0Alines.txt"]
            ),
        ),
    ),
    (
        "whitespace-around-a-label-before-1.0",
        OLD,
        lambda s: s.info.append("Contact-Name : Edna Janssen"),
    ),
    (
        "local-fetch-beside-data-before-1.0",
        OLD,
        lambda s: s.extra_tags.update(
            {"fetch.txt": b"file:///tmp/sachiel.png 42000 sachiel.png\n"}
        ),
    ),
]

INVALID: list[tuple[str, tuple[str, ...], Callable[[Spec], None]]] = [
    (
        "out-of-scope-file-paths-using-dot-notation",
        VERSIONS,
        lambda s: setattr(
            s,
            "manifest_lines",
            lambda a, p: [*_plain_lines(a, p), f"{_digest(a, b'x')}  ../../../README.md"],
        ),
    ),
    (
        "bagit-with-invalid-whitespace",
        VERSIONS,
        lambda s: setattr(s, "version", s.version + " "),
    ),
    (
        "altered-payload",
        VERSIONS,
        lambda s: setattr(
            s, "manifest_lines", lambda a, p: [f"{_digest(a, b'?')}  data/test-file.txt"]
        ),
    ),
    (
        "missing-payload-file",
        VERSIONS,
        lambda s: setattr(
            s,
            "manifest_lines",
            lambda a, p: [*_plain_lines(a, p), f"{_digest(a, b'gone')}  data/gone.txt"],
        ),
    ),
    (
        "file-in-no-manifest",
        VERSIONS,
        lambda s: setattr(s, "manifest_lines", lambda a, p: _plain_lines(a, p)[:-1]),
    ),
    ("wrong-payload-oxum", VERSIONS, lambda s: s.info.append("Payload-Oxum: 999.7")),
    (
        "the-metadata-file-of-the-version-is-read",
        VERSIONS,
        lambda s: s.info.append("Payload-Oxum: not-a-number"),
    ),
    (
        "conflicting-duplicate-entries",
        VERSIONS,
        lambda s: setattr(
            s,
            "manifest_lines",
            lambda a, p: [*_plain_lines(a, p), f"{_digest(a, b'other')}  data/test-file.txt"],
        ),
    ),
    (
        "payload-manifest-lists-a-tag-file",
        VERSIONS,
        lambda s: setattr(
            s,
            "manifest_lines",
            lambda a, p: [*_plain_lines(a, p), f"{_digest(a, b'x')}  bagit.txt"],
        ),
    ),
    (
        "altered-tag-file",
        ("0.96", "0.97", "1.0"),
        lambda s: (
            s.extra_tags.update({"notes.txt": b"x"}),
            s.edited_after.update({"notes.txt": b"edited"}),
        ),
    ),
    (
        "percent-encoded-name-missing-in-1.0",
        ("1.0",),
        lambda s: setattr(s, "payload", {"data/100%25 done.txt": b"literal"}),
    ),
    ("every-manifest-lists-every-file-in-1.0", ("1.0",), lambda s: None),
    ("duplicate-entry-in-1.0", ("1.0",), lambda s: None),
    ("bagit-txt-extra-line-in-1.0", ("1.0",), lambda s: setattr(s, "bagit_extra", "X: y\n")),
    ("label-whitespace-in-1.0", ("1.0",), lambda s: s.info.append("Contact-Name : E")),
    (
        "fetch-outside-data-in-1.0",
        ("1.0",),
        lambda s: s.extra_tags.update({"fetch.txt": b"file:///tmp/x 1 sachiel.png\n"}),
    ),
]

WARNING: list[tuple[str, tuple[str, ...], Callable[[Spec], None]]] = [
    (
        "md5sum-tool-generated-manifest",
        VERSIONS,
        lambda s: setattr(
            s,
            "manifest_lines",
            lambda a, p: [x.replace("  data/", " *data/") for x in _plain_lines(a, p)],
        ),
    ),
    (
        "leading-dot-slash",
        VERSIONS,
        lambda s: setattr(
            s,
            "manifest_lines",
            lambda a, p: [x.replace("  data/", "  ./data/") for x in _plain_lines(a, p)],
        ),
    ),
    ("filename-normalization", VERSIONS, _disk_and_manifest_names(NFD, NFC)),
    (
        "same-filename-listed-twice-with-different-normalization",
        VERSIONS,
        lambda s: (
            setattr(s, "payload", {f"data/{NFC}": b""}),
            setattr(
                s,
                "manifest_lines",
                lambda a, p: [f"{_digest(a, b'')}  data/{NFC}", f"{_digest(a, b'')}  data/{NFD}"],
            ),
        ),
    ),
    (
        "os-specific-files",
        VERSIONS,
        lambda s: s.payload.update({"data/.DS_Store": b"\x00\x00\x00\x01Bud1"}),
    ),
    ("non-utf8-tag-files", VERSIONS, lambda s: setattr(s, "encoding", "ISO-8859-1")),
    (
        "file-missing-from-a-second-manifest-before-1.0",
        OLD,
        lambda s: setattr(s, "algorithms", ("md5", "sha1")),
    ),
    ("duplicate-entry-before-1.0", OLD, lambda s: None),
    ("bagit-txt-extra-line-before-1.0", OLD, lambda s: setattr(s, "bagit_extra", "X: y\n")),
    (
        "tag-manifest-mismatch-before-0.96",
        ("0.93", "0.94", "0.95"),
        lambda s: (
            s.extra_tags.update({"notes.txt": b"x"}),
            s.edited_after.update({"notes.txt": b"edited"}),
        ),
    ),
]


def _second_manifest_short(spec: Spec) -> None:
    spec.payload = {"data/a.txt": b"a", "data/b.txt": b"b"}
    spec.algorithms = ("md5", "sha1")
    spec.manifest_lines = lambda a, p: _plain_lines(a, p)[: 1 if a == "sha1" else 2]


def _duplicate(spec: Spec) -> None:
    spec.manifest_lines = lambda a, p: _plain_lines(a, p) * 2


#: Cases whose change needs more than one knob.
_SPECIAL = {
    "every-manifest-lists-every-file-in-1.0": _second_manifest_short,
    "file-missing-from-a-second-manifest-before-1.0": _second_manifest_short,
    "duplicate-entry-in-1.0": _duplicate,
    "duplicate-entry-before-1.0": _duplicate,
}


def _cases(
    table: list[tuple[str, tuple[str, ...], Callable[[Spec], None]]],
) -> list[tuple[str, str, Callable[[Spec], None]]]:
    return [
        pytest.param(version, name, _SPECIAL.get(name, change), id=f"v{version}-{name}")
        for name, versions, change in table
        for version in versions
    ]


def _bag(tmp_path: Path, version: str, change: Callable[[Spec], None]) -> Path:
    spec = Spec(version)
    change(spec)
    return write(tmp_path / "bag", spec)


@pytest.mark.parametrize(("version", "name", "change"), _cases(VALID))
def test_valid_bags_of_every_version_are_valid(
    tmp_path: Path, version: str, name: str, change: Callable[[Spec], None]
) -> None:
    report = validate_bag(_bag(tmp_path, version, change))
    assert report.valid, (name, [str(p) for p in report.problems])
    assert report.version == version


@pytest.mark.parametrize(("version", "name", "change"), _cases(INVALID))
def test_invalid_bags_of_every_version_are_refused(
    tmp_path: Path, version: str, name: str, change: Callable[[Spec], None]
) -> None:
    report = validate_bag(_bag(tmp_path, version, change))
    assert not report.valid, name


@pytest.mark.parametrize(("version", "name", "change"), _cases(WARNING))
def test_questionable_bags_are_valid_with_a_warning(
    tmp_path: Path, version: str, name: str, change: Callable[[Spec], None]
) -> None:
    report = validate_bag(_bag(tmp_path, version, change))
    assert report.valid, (name, [str(p) for p in report.problems])
    assert report.warnings, name


def test_the_suite_covers_every_version_in_every_category() -> None:
    for table in (VALID, INVALID, WARNING):
        covered = {v for _, versions, _ in table for v in versions}
        assert covered == set(VERSIONS)
    assert len(_cases(VALID)) + len(_cases(INVALID)) + len(_cases(WARNING)) > 150


def test_an_unknown_version_is_refused_by_name(tmp_path: Path) -> None:
    for version in ("0.92", "2.0"):
        report = validate_bag(write(tmp_path / version, Spec(version)))
        assert "bagit.txt: BagIt version" in str(report.problems[0])


def test_an_old_bag_with_dot_slash_paths_imports_with_warnings(tmp_path: Path) -> None:
    spec = Spec("0.96", payload={"data/letter.txt": b"The detainer was lodged.\n"})
    spec.manifest_lines = lambda a, p: [f"{_digest(a, c)} *./{path}" for path, c in p.items()]
    bag = write(tmp_path / "old-bag", spec)
    result = run_cli("import", bag, "--id", "old", archive=tmp_path / "archive")
    assert result.exit_code == 0, result.output  # was: "BagIt version 0.96 is not supported"
    assert "md5sum-style tool" in result.output and "'./' elements" in result.output
    written = (tmp_path / "archive" / "bags" / "old" / "bagit.txt").read_text()
    assert written.startswith("BagIt-Version: 1.0\n")  # what we write stays 1.0
