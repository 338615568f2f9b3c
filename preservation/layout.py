"""Reaching preserved files safely: originals in bags, members unpacked from containers.

The places themselves are named once, in `foiarchive.schemas.layout.Layout`; ingest writes
them and the web viewer reads them through the functions here.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from foiarchive.schemas.layout import Layout

PAYLOAD_DIR = "data"


_SHA256 = re.compile(r"[0-9a-f]{64}")


def member_file(layout: Layout, sha256: str) -> Path | None:
    if not _SHA256.fullmatch(sha256):
        return None
    return contained_file(layout.members_dir, f"{sha256[:2]}/{sha256}")


def keep_member(layout: Layout, source: Path, sha256: str) -> None:
    """Keep an unpacked member (a hard link to the unpacked file where the file system allows,
    else a copy), written under a temporary name and renamed, so no half file is ever seen."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    target = layout.members_dir / sha256[:2] / sha256
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


def original_file(layout: Layout, production_id: str, path: str) -> Path | None:
    """A production's file as delivered, in its bag's payload."""
    if production_id in ("", ".", "..") or "/" in production_id:
        return None
    return contained_file(layout.bag(production_id) / PAYLOAD_DIR, path)
