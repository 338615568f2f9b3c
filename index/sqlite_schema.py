"""What every SQLite file of an archive shares: numbered migrations and atomic units of work.

The catalog (catalog.sqlite) and the workspace (workspace.sqlite) each keep a list of
migrations, one SQL script a schema version, and record the version reached in
`PRAGMA user_version`; a file newer than this foiarchive is refused, never guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def migrate(
    db: sqlite3.Connection,
    migrations: Sequence[str],
    *,
    path: Path,
    what: str,
    error: type[Exception],
) -> None:
    """Bring the file to the last of `migrations`, each version in a transaction of its own."""
    latest = len(migrations)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > latest:
        raise error(
            f"{path}: {what} schema {version} is newer than this foiarchive "
            f"(knows {latest}); upgrade foiarchive"
        )
    for target in range(version + 1, latest + 1):
        with transaction(db):
            for statement in migrations[target - 1].split(";"):
                if statement.strip():
                    db.execute(statement.strip())
            db.execute(f"PRAGMA user_version = {int(target)}")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic unit of work: all of it lands or none of it does."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
