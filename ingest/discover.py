"""Walk a source folder safely: regular files only, never a path out of the folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Operating-system clutter that is never part of a production.
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".directory"})
#: What a bag puts in an empty folder to keep it; an empty one marks an empty folder.
KEEP_FILE = ".keep"


def _is_keep_marker(path: Path) -> bool:
    return path.name == KEEP_FILE and path.lstat().st_size == 0


@dataclass(frozen=True)
class Found:
    source: Path  # where to read it
    path: str  # relative, '/'-separated, printable (undecodable bytes shown as \xNN)
    size: int
    problem: str = ""  # why it cannot be ingested: a failure
    note: str = ""  # why it is passed over on purpose: not a failure


def display_name(relative: str) -> str:
    """A relative path as text that SQLite and JSON can hold, whatever bytes the name had."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def discover(root: Path, exclude: set[Path] | None = None) -> Iterator[Found]:
    """Every file under root in a stable order; links, devices and escapes come with a problem."""
    exclude = {p.resolve() for p in exclude or set()}
    root = root.resolve()
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        here = Path(directory)
        for name in list(dirnames):
            full = here / name
            if full.is_symlink():
                dirnames.remove(name)
                yield _link(root, full, "folder")
        for name in sorted(filenames):
            if name in IGNORED_NAMES or name.startswith("._"):
                continue
            full = here / name
            if full.resolve() in exclude or _is_keep_marker(full):
                continue
            relative = _relative(root, full)
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                yield _link(root, full, "file")
            elif not stat.S_ISREG(info.st_mode):
                yield Found(full, relative, 0, "not a regular file (device, socket or pipe)")
            else:
                yield Found(full, relative, info.st_size)


def _relative(root: Path, path: Path) -> str:
    return display_name(path.relative_to(root).as_posix())


def _link(root: Path, link: Path, kind: str) -> Found:
    relative = _relative(root, link)
    try:
        link.resolve(strict=False).relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return Found(
            link,
            relative,
            0,
            problem=f"symbolic link to a {kind} outside the source folder: not followed",
        )
    return Found(
        link,
        relative,
        0,
        note=f"symbolic link to a {kind} inside the source folder: its target is ingested",
    )


def empty_folders(root: Path) -> list[str]:
    """Relative paths of folders with nothing in them (a bag keeps them with a .keep file)."""
    root = root.resolve()
    found = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        only_marker = filenames == [KEEP_FILE] and _is_keep_marker(Path(directory) / KEEP_FILE)
        if not dirnames and (not filenames or only_marker) and Path(directory) != root:
            found.append(_relative(root, Path(directory)))
    return sorted(found)
