"""workspace.sqlite: what people keep beside the records, never in the catalog.

A rebuild from the bags recreates the catalog and leaves this file alone; page keys are
'<document id>:<page>' and document ids derive from (production, path), so what is kept here
still names the same pages afterwards. The schema grows by numbered migrations (PRAGMA
user_version), one list (index.workspace_schema) for every room that keeps something here:
watches (here), accounts, groups, grants and sessions (index.team), notes, tags, stars and
reads (index.marks).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foiarchive.index.catalog import now_iso
from foiarchive.index.sqlite_schema import migrate, transaction
from foiarchive.index.workspace_schema import MIGRATIONS
from foiarchive.schemas.errors import FoiarchiveError

SCHEMA_VERSION = len(MIGRATIONS)
WATCH_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,80}")


class WorkspaceError(FoiarchiveError):
    """The workspace cannot be opened, or a request on it cannot be met (an unknown watch...)."""


@dataclass
class Watch:
    name: str
    query: str
    filters: list[tuple[str, str]] = field(default_factory=list)
    created_at: str = ""
    last_run: str = ""
    id: int = 0
    #: The account that made it on the web; None for the archive's own (the command line's).
    owner_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "query": self.query,
            "filters": [f"{facet}:{value}" for facet, value in self.filters],
            "created_at": self.created_at,
            "last_run": self.last_run,
        }


class Workspace:
    """workspace.sqlite of one archive (a context manager). Not shared across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # WAL without a sync on every commit: a session's last-seen time or an access-log
            # line costs a write per request, and losing the last ones to a power cut is fine
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise WorkspaceError(f"{path}: cannot open the workspace: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        migrate(self._db, MIGRATIONS, path=self.path, what="workspace", error=WorkspaceError)

    @property
    def db(self) -> sqlite3.Connection:
        return self._db

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db)

    # -- watches ----------------------------------------------------------------------------
    def add_watch(self, watch: Watch) -> Watch:
        if not WATCH_NAME.fullmatch(watch.name) or watch.name != watch.name.strip():
            raise WorkspaceError(
                f"watch name {watch.name!r}: 1 to 80 characters, no control characters, "
                "no leading or trailing spaces"
            )
        if self.watch(watch.name) is not None:
            raise WorkspaceError(f"a watch named {watch.name!r} exists; remove it first")
        watch.created_at = now_iso()
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO watches (name, query, filters, created_at, owner_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    watch.name,
                    watch.query,
                    json.dumps(watch.filters),
                    watch.created_at,
                    watch.owner_id,
                ),
            )
        watch.id = int(cursor.lastrowid or 0)
        return watch

    def watches(self) -> list[Watch]:
        rows = self._db.execute(_SELECT_WATCH + " ORDER BY name").fetchall()
        return [_watch(row) for row in rows]

    def watch(self, name: str) -> Watch | None:
        row = self._db.execute(_SELECT_WATCH + " WHERE name = ?", (name,)).fetchone()
        return _watch(row) if row else None

    def remove_watch(self, name: str) -> None:
        with self.transaction() as db:
            if not db.execute("DELETE FROM watches WHERE name = ?", (name,)).rowcount:
                raise WorkspaceError(f"no watch named {name!r} (see 'foiarchive watch list')")

    def unseen(self, watch: Watch, batches: Iterable[list[str]], *, remember: bool) -> list[str]:
        """The keys of `batches` this watch has not reported before, in their order; with
        `remember` they are recorded as seen (and the run's time kept) in the same transaction,
        so an interrupted run reports them again next time rather than never."""
        new: list[str] = []
        stamp = now_iso()
        with self.transaction() as db:
            for keys in batches:
                marks = ",".join("?" for _ in keys)
                seen = {
                    row[0]
                    for row in db.execute(
                        f"SELECT key FROM watch_seen WHERE watch_id = ? AND key IN ({marks})",
                        [watch.id, *keys],
                    )
                }
                fresh = [key for key in keys if key not in seen]
                new.extend(fresh)
                if remember:
                    db.executemany(
                        "INSERT INTO watch_seen (watch_id, key, first_seen) VALUES (?, ?, ?)",
                        [(watch.id, key, stamp) for key in fresh],
                    )
            if remember:
                db.execute("UPDATE watches SET last_run = ? WHERE id = ?", (stamp, watch.id))
        watch.last_run = stamp if remember else watch.last_run
        return new


_SELECT_WATCH = "SELECT id, name, query, filters, created_at, last_run, owner_id FROM watches"


def _watch(row: tuple[Any, ...]) -> Watch:
    id_, name, query, filters, created_at, last_run, owner_id = row
    return Watch(
        name=name,
        query=query,
        filters=[(facet, value) for facet, value in json.loads(filters)],
        created_at=created_at,
        last_run=last_run,
        id=id_,
        owner_id=owner_id,
    )
