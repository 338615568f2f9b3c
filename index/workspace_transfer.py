"""A team's work as one JSON file, so it can move with the archive: `foiarchive workspace
export` and `import`. Accounts travel with their Argon2 hashes (never a password), groups with
their members and grants, and every note, tag, star and read. Sessions, tokens and the access
log stay behind: they belong to one server.

Importing merges: accounts and groups that exist are kept as they are, and what is already
there (the same note by the same author at the same time, the same tag) is not added twice.
"""

from __future__ import annotations

import json
from typing import Any

from foiarchive.index.marks import box_text, note_words
from foiarchive.index.team import NAME, ROLES, TeamError
from foiarchive.index.workspace import Workspace

FORMAT = "foiarchive-workspace"
VERSION = 1


def export_workspace(workspace: Workspace) -> dict[str, Any]:
    db = workspace.db

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return db.execute(sql).fetchall()

    users = rows("SELECT name, role, disabled, password, created_at FROM users ORDER BY name")
    groups = {
        name: {"name": name, "members": [], "productions": []}
        for (name,) in rows("SELECT name FROM groups ORDER BY name")
    }
    for group, user in rows(
        "SELECT g.name, u.name FROM members m JOIN groups g ON g.id = m.group_id "
        "JOIN users u ON u.id = m.user_id ORDER BY u.name"
    ):
        groups[group]["members"].append(user)
    for group, production in rows(
        "SELECT g.name, r.production FROM grants r JOIN groups g ON g.id = r.group_id "
        "ORDER BY r.production"
    ):
        groups[group]["productions"].append(production)
    notes = rows(
        "SELECT n.document, n.page, u.name, n.body, n.box, n.created_at, n.updated_at, "
        "(SELECT group_concat(g.name, char(10)) FROM note_groups ng JOIN groups g "
        "ON g.id = ng.group_id WHERE ng.note_id = n.id) FROM notes n "
        "JOIN users u ON u.id = n.author_id ORDER BY n.id"
    )
    tags = rows(
        "SELECT t.document, g.name, t.tag, u.name, t.created_at FROM tags t "
        "JOIN groups g ON g.id = t.group_id JOIN users u ON u.id = t.author_id "
        "ORDER BY t.document, t.tag"
    )
    personal = {
        table: rows(
            f"SELECT u.name, x.document, x.at FROM {table} x JOIN users u ON u.id = x.user_id "
            "ORDER BY u.name, x.document"
        )
        for table in ("stars", "reads")
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "users": [
            dict(zip(("name", "role", "disabled", "password", "created_at"), u, strict=True))
            for u in users
        ],
        "groups": list(groups.values()),
        "notes": [
            {
                "document": d,
                "page": p,
                "author": a,
                "body": b,
                "box": json.loads(x) if x else None,
                "created_at": c,
                "updated_at": m,
                "groups": g.split("\n") if g else [],
            }
            for d, p, a, b, x, c, m, g in notes
        ],
        "tags": [
            dict(zip(("document", "group", "tag", "author", "created_at"), t, strict=True))
            for t in tags
        ],
        **{
            table: [dict(zip(("user", "document", "at"), r, strict=True)) for r in found]
            for table, found in personal.items()
        },
    }


def import_workspace(workspace: Workspace, data: Any) -> dict[str, int]:
    """Merge an export into this workspace in one transaction; counts of what was added."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TeamError(f'not a workspace export (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise TeamError(f"workspace export version {data.get('version')!r}: this reads {VERSION}")
    added = dict.fromkeys(("users", "groups", "notes", "tags", "stars", "reads"), 0)
    try:
        with workspace.transaction() as db:
            users = _import_users(db, data.get("users", []), added)
            groups = _import_groups(db, data.get("groups", []), users, added)
            _import_marks(db, data, users, groups, added)
    except (KeyError, TypeError, ValueError) as exc:
        raise TeamError(f"the workspace export is malformed: {exc!r}") from None
    return added


def _import_users(db: Any, users: list[dict[str, Any]], added: dict[str, int]) -> dict[str, int]:
    for user in users:
        name, role = str(user["name"]), str(user["role"])
        if not NAME.fullmatch(name) or role not in ROLES:
            raise ValueError(f"account {name!r} with role {role!r}")
        added["users"] += db.execute(
            "INSERT OR IGNORE INTO users (name, role, password, disabled, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, role, str(user["password"]), int(bool(user["disabled"])), user["created_at"]),
        ).rowcount
    return {name: id_ for id_, name in db.execute("SELECT id, name FROM users")}


def _import_groups(
    db: Any, groups: list[dict[str, Any]], users: dict[str, int], added: dict[str, int]
) -> dict[str, int]:
    for group in groups:
        name = str(group["name"])
        if not NAME.fullmatch(name):
            raise ValueError(f"group {name!r}")
        added["groups"] += db.execute(
            "INSERT OR IGNORE INTO groups (name, created_at) VALUES (?, datetime('now'))",
            (name,),
        ).rowcount
        (group_id,) = db.execute("SELECT id FROM groups WHERE name = ?", (name,)).fetchone()
        for member in group.get("members", []):
            db.execute(
                "INSERT OR IGNORE INTO members (group_id, user_id) VALUES (?, ?)",
                (group_id, users[member]),
            )
        for production in group.get("productions", []):
            db.execute(
                "INSERT OR IGNORE INTO grants (group_id, production, granted_at) "
                "VALUES (?, ?, datetime('now'))",
                (group_id, str(production)),
            )
    return {name: id_ for id_, name in db.execute("SELECT id, name FROM groups")}


def _import_marks(
    db: Any,
    data: dict[str, Any],
    users: dict[str, int],
    groups: dict[str, int],
    added: dict[str, int],
) -> None:

    for note in data.get("notes", []):
        key = (note["document"], int(note["page"]), users[note["author"]], str(note["body"]))
        if db.execute(
            "SELECT 1 FROM notes WHERE document = ? AND page = ? AND author_id = ? AND body = ? "
            "AND created_at = ?",
            (*key, note["created_at"]),
        ).fetchone():
            continue
        box = note.get("box")
        cursor = db.execute(
            "INSERT INTO notes (document, page, author_id, body, words, box, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *key,
                note_words(key[3]),
                box_text(tuple(box) if box else None),
                note["created_at"],
                note["updated_at"],
            ),
        )
        db.executemany(
            "INSERT OR IGNORE INTO note_groups (note_id, group_id) VALUES (?, ?)",
            [(cursor.lastrowid, groups[g]) for g in note.get("groups", [])],
        )
        added["notes"] += 1
    for tag in data.get("tags", []):
        added["tags"] += db.execute(
            "INSERT OR IGNORE INTO tags (document, group_id, tag, author_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                tag["document"],
                groups[tag["group"]],
                str(tag["tag"]),
                users[tag["author"]],
                tag["created_at"],
            ),
        ).rowcount
    for table in ("stars", "reads"):
        for item in data.get(table, []):
            added[table] += db.execute(
                f"INSERT OR IGNORE INTO {table} (user_id, document, at) VALUES (?, ?, ?)",
                (users[item["user"]], item["document"], item["at"]),
            ).rowcount
