"""Where preserved files live inside an archive folder, and how to reach one safely.

Ingest writes these places and the web viewer reads them; both ask here, so the layout is
written down once.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

PAYLOAD_DIR = "data"


def bags_dir(archive: Path) -> Path:
    return archive / "bags"


def bag_path(archive: Path, production_id: str) -> Path:
    return bags_dir(archive) / production_id


def derivatives_dir(archive: Path) -> Path:
    """Copies made to read a file (repaired PDFs, Office files as PDF), named by the sha256 of
    the original; the originals stay as delivered."""
    return archive / "derivatives"


def members_dir(archive: Path) -> Path:
    """Files that arrived inside a ZIP archive or an email, unpacked once and named by their
    sha256, so that they can be shown and downloaded on their own; the bag keeps them inside
    their container, as delivered."""
    return archive / "members"


_SHA256 = re.compile(r"[0-9a-f]{64}")


def member_file(archive: Path, sha256: str) -> Path | None:
    if not _SHA256.fullmatch(sha256):
        return None
    return contained_file(members_dir(archive), f"{sha256[:2]}/{sha256}")


def keep_member(archive: Path, source: Path, sha256: str) -> None:
    """Keep an unpacked member (a hard link to the unpacked file where the file system allows,
    else a copy), written under a temporary name and renamed, so no half file is ever seen."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    target = members_dir(archive) / sha256[:2] / sha256
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(dir=target.parent, prefix=".member-")
    os.close(fd)
    try:
        os.unlink(scratch)
        try:
            os.link(source, scratch)
        except OSError:
            shutil.copyfile(source, scratch)
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)


def contained_file(root: Path, relative: str) -> Path | None:
    """`root/relative` if it is a regular file inside `root`, else None.

    Refuses absolute and `..` paths and any symbolic link on the way, so a path taken from a
    record (or a request) can never reach outside the folder it names.
    """
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(current)
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        return None
    return current


def original_file(archive: Path, production_id: str, path: str) -> Path | None:
    """A production's file as delivered, in its bag's payload."""
    if production_id in ("", ".", "..") or "/" in production_id:
        return None
    return contained_file(bag_path(archive, production_id) / PAYLOAD_DIR, path)
