"""Where preserved files live inside an archive folder, and how to reach one safely.

Ingest writes these places and the web viewer reads them; both ask here, so the layout is
written down once.
"""

from __future__ import annotations

import os
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
