"""What researchers find, kept in workspace.sqlite: notes on pages (optionally on a box drawn
on the page image, shown to the groups the author chose), tags on documents (free words, one
group's), stars and "read by me" (one person's).

Searching them (tag:, note:, starred:, read:) never writes the index: `keys` turns a mark into
the documents or pages it stands for, as one viewer sees the workspace, and the query carries
those keys to either backend. bench/workspace.py, 100,000 pages, 10,000 tags and notes: a word
AND a tag on 2,000 documents took a median 10 ms on Tantivy (a plain word 1.5-1.6 ms) and
10-12 ms on Elasticsearch (7-8 ms); the same tag as its 40,000 pages' keys took 54-65 ms and
86-89 ms, hence document ids for tags, stars and reads, page keys only for notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from foiarchive.index.analysis import terms
from foiarchive.index.catalog import now_iso
from foiarchive.index.query import DocumentKeys, Mark, Node, PageKeys, normalize_tag
from foiarchive.index.search import SearchRequest
from foiarchive.index.team import Forbidden, Team, TeamError, Viewer
from foiarchive.index.workspace import Workspace

MAX_NOTE = 10_000
MAX_TAGS_SHOWN = 50
#: Read this many keys per SQLite statement (its default limit on variables is 32,766).
CHUNK = 500


@dataclass
class Note:
    id: int
    document: str
    page: int
    author: str
    body: str
    box: tuple[float, float, float, float] | None = None  # fractions of the page: x0 y0 x1 y1
    groups: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "document": self.document,
            "page": self.page,
            "author": self.author,
            "body": self.body,
            "box": list(self.box) if self.box else None,
            "groups": self.groups,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class DocumentMarks:
    """What a viewer's team keeps on one document: the marker a search result shows."""

    tags: list[str] = field(default_factory=list)
    notes: int = 0
    starred: bool = False
    read: bool = False

    def __bool__(self) -> bool:
        return bool(self.tags or self.notes or self.starred or self.read)


class Marks:
    """Notes, tags, stars and reads of one workspace (not shared across threads)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.db = workspace.db
        self.team = Team(workspace)

    # -- notes ------------------------------------------------------------------------------
    def add_note(
        self,
        viewer: Viewer,
        document: str,
        page: int,
        body: str,
        *,
        box: tuple[float, float, float, float] | None = None,
        groups: Iterable[str] = (),
    ) -> Note:
        user = _annotator(viewer)
        body = _checked_body(body)
        group_ids = [self._own_group(viewer, name) for name in dict.fromkeys(groups)]
        stamp = now_iso()
        with self.workspace.transaction() as db:
            cursor = db.execute(
                "INSERT INTO notes (document, page, author_id, body, words, box, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (document, page, user.id, body, note_words(body), box_text(box), stamp, stamp),
            )
            note_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO note_groups (note_id, group_id) VALUES (?, ?)",
                [(note_id, g) for g in group_ids],
            )
        return self._notes("n.id = ?", (note_id,))[0]

    def edit_note(self, viewer: Viewer, note_id: int, body: str) -> None:
        note = self._own_note(viewer, note_id, curating=False)
        body = _checked_body(body)
        with self.workspace.transaction() as db:
            db.execute(
                "UPDATE notes SET body = ?, words = ?, updated_at = ? WHERE id = ?",
                (body, note_words(body), now_iso(), note.id),
            )

    def remove_note(self, viewer: Viewer, note_id: int) -> None:
        note = self._own_note(viewer, note_id, curating=True)
        with self.workspace.transaction() as db:
            db.execute("DELETE FROM notes WHERE id = ?", (note.id,))

    def notes(self, viewer: Viewer, document: str, page: int | None = None) -> list[Note]:
        """The notes on a document (one page of it) this viewer may see, oldest first."""
        if page is None:
            found = self._notes("n.document = ?", (document,))
        else:
            found = self._notes("n.document = ? AND n.page = ?", (document, page))
        return [n for n in found if self._sees(viewer, n)]

    def note(self, viewer: Viewer, note_id: int) -> Note | None:
        found = self._notes("n.id = ?", (note_id,))
        return found[0] if found and self._sees(viewer, found[0]) else None

    def _notes(self, where: str, values: tuple[Any, ...]) -> list[Note]:
        rows = self.db.execute(
            "SELECT n.id, n.document, n.page, u.name, n.body, n.box, n.created_at, n.updated_at, "
            "(SELECT group_concat(g.name, char(10)) FROM note_groups ng JOIN groups g "
            "ON g.id = ng.group_id WHERE ng.note_id = n.id) "
            f"FROM notes n JOIN users u ON u.id = n.author_id WHERE {where} ORDER BY n.id",
            values,
        ).fetchall()
        return [_note(row) for row in rows]

    def _sees(self, viewer: Viewer, note: Note) -> bool:
        if viewer.all_marks or (viewer.user is not None and note.author == viewer.user.name):
            return True
        return bool(set(note.groups) & set(viewer.user.groups if viewer.user else ()))

    def _own_note(self, viewer: Viewer, note_id: int, *, curating: bool) -> Note:
        user = _annotator(viewer)
        note = self.note(viewer, note_id)
        if note is None:
            raise TeamError(f"no note {note_id} here")
        if note.author != user.name and not (curating and user.may_curate):
            raise Forbidden("only its author can change a note (an archivist can remove it)")
        return note

    def _own_group(self, viewer: Viewer, name: str) -> int:
        if not viewer.all_marks and (viewer.user is None or name not in viewer.user.groups):
            raise Forbidden(f"group {name!r}: you can share only with groups you belong to")
        return self.team.group_id(name)

    # -- tags, stars, reads -----------------------------------------------------------------
    def tag(self, viewer: Viewer, document: str, group: str, tag: str, *, on: bool = True) -> None:
        user = _annotator(viewer)
        group_id = self._own_group(viewer, group)
        word = normalize_tag(tag)
        if not word:
            raise TeamError("a tag needs a word")
        with self.workspace.transaction() as db:
            if on:
                db.execute(
                    "INSERT OR IGNORE INTO tags (document, group_id, tag, author_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (document, group_id, word, user.id, now_iso()),
                )
            else:
                db.execute(
                    "DELETE FROM tags WHERE document = ? AND group_id = ? AND tag = ?",
                    (document, group_id, word),
                )

    def tags(self, viewer: Viewer, document: str) -> list[tuple[str, str]]:
        """(tag, group) on a document, of the viewer's groups."""
        rows = self.db.execute(
            "SELECT t.tag, g.name FROM tags t JOIN groups g ON g.id = t.group_id "
            "WHERE t.document = ? ORDER BY t.tag, g.name",
            (document,),
        ).fetchall()
        return [(tag, group) for tag, group in rows if self._in_group(viewer, group)]

    def _in_group(self, viewer: Viewer, group: str) -> bool:
        return viewer.all_marks or (viewer.user is not None and group in viewer.user.groups)

    def star(self, viewer: Viewer, document: str, *, on: bool = True) -> None:
        self._personal("stars", viewer, document, on)

    def mark_read(self, viewer: Viewer, document: str, *, on: bool = True) -> None:
        self._personal("reads", viewer, document, on)

    def _personal(self, table: str, viewer: Viewer, document: str, on: bool) -> None:
        if viewer.user is None:
            raise Forbidden("sign in with an account to keep stars and reads")
        with self.workspace.transaction() as db:
            if on:  # table is one of two names written above, never input
                db.execute(
                    f"INSERT OR REPLACE INTO {table} (user_id, document, at) VALUES (?, ?, ?)",
                    (viewer.user.id, document, now_iso()),
                )
            else:
                db.execute(
                    f"DELETE FROM {table} WHERE user_id = ? AND document = ?",
                    (viewer.user.id, document),
                )

    # -- what search results show and searches find ----------------------------------------
    def summary(self, viewer: Viewer, documents: Iterable[str]) -> dict[str, DocumentMarks]:
        """The marker of each of `documents` that has something on it, for this viewer."""
        wanted = list(dict.fromkeys(documents))
        found: dict[str, DocumentMarks] = {}
        user_id = viewer.user.id if viewer.user else 0
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            marks = ",".join("?" for _ in chunk)
            for document, tag, group in self.db.execute(
                "SELECT t.document, t.tag, g.name FROM tags t JOIN groups g "
                f"ON g.id = t.group_id WHERE t.document IN ({marks}) ORDER BY t.tag",
                chunk,
            ):
                if self._in_group(viewer, group):
                    entry = found.setdefault(document, DocumentMarks())
                    if tag not in entry.tags and len(entry.tags) < MAX_TAGS_SHOWN:
                        entry.tags.append(tag)
            for note in self._notes(f"n.document IN ({marks})", tuple(chunk)):
                if self._sees(viewer, note):
                    found.setdefault(note.document, DocumentMarks()).notes += 1
            for table, name in (("stars", "starred"), ("reads", "read")):
                for (document,) in self.db.execute(
                    f"SELECT document FROM {table} WHERE user_id = ? AND document IN ({marks})",
                    [user_id, *chunk],
                ):
                    setattr(found.setdefault(document, DocumentMarks()), name, True)
        return found

    def narrowed(
        self, request: SearchRequest, viewer: Viewer, restricted: frozenset[str]
    ) -> SearchRequest:
        """`request` as `viewer` may run it: the `restricted` productions it may not read
        hidden, and its tag:, note:, starred:, read: terms standing for what this viewer sees.
        The one place the command line and the web narrow a search to a viewer."""
        return replace(
            request,
            hidden_productions=request.hidden_productions | viewer.hidden(restricted),
            marks=partial(self.keys, viewer),
        )

    def keys(self, viewer: Viewer, mark: Mark) -> Node:
        """The documents (tag:, starred:, read:) or pages (note:) a mark stands for."""
        if mark.field == "note":
            return PageKeys(frozenset(self._noted_pages(viewer, mark.value)))
        if mark.field == "tag":
            # the viewer's groups chosen by SQLite on the tags_tag index, not row by row here
            groups = sorted(viewer.group_ids)
            rows = self.db.execute(
                "SELECT DISTINCT document FROM tags WHERE tag = ? AND (? OR group_id IN "
                f"({','.join('?' for _ in groups)}))",
                (mark.value, int(viewer.all_marks), *groups),
            )
            return DocumentKeys(frozenset(row[0] for row in rows))
        table = "stars" if mark.field == "starred" else "reads"
        user_id = viewer.user.id if viewer.user else 0
        rows = self.db.execute(f"SELECT document FROM {table} WHERE user_id = ?", (user_id,))
        return DocumentKeys(frozenset(row[0] for row in rows))

    def _noted_pages(self, viewer: Viewer, words: str) -> set[str]:
        """Pages with a visible note holding `words` in that order (analyzed as the index
        analyzes text), found by SQLite on the words column, never by pasting them in."""
        rows = self.db.execute(
            "SELECT n.id, n.document, n.page, n.author_id, "
            "(SELECT group_concat(group_id, ',') FROM note_groups WHERE note_id = n.id) "
            "FROM notes n WHERE instr(' ' || n.words || ' ', ' ' || ? || ' ') > 0",
            (words,),
        )
        me = viewer.user.id if viewer.user else -1
        return {
            f"{document}:{page}"
            for _, document, page, author, groups in rows
            if viewer.all_marks
            or author == me
            or (groups and {int(g) for g in groups.split(",")} & viewer.group_ids)
        }


def _note(row: tuple[Any, ...]) -> Note:
    id_, document, page, author, body, box, created_at, updated_at, groups = row
    return Note(
        id_,
        document,
        page,
        author,
        body,
        _box(box),
        sorted(groups.split("\n")) if groups else [],
        created_at,
        updated_at,
    )


def _annotator(viewer: Viewer) -> Any:
    if viewer.user is None or not viewer.user.may_annotate:
        raise Forbidden("your account may read but not annotate (ask for the annotator role)")
    return viewer.user


def _checked_body(body: str) -> str:
    body = body.strip()
    if not body or len(body) > MAX_NOTE:
        raise TeamError(f"a note needs 1 to {MAX_NOTE:,} characters")
    return body


def note_words(body: str) -> str:
    return " ".join(terms(body))


def box_text(box: tuple[float, float, float, float] | None) -> str:
    if box is None:
        return ""
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise TeamError("a note's box must lie on the page: 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1")
    return json.dumps([round(v, 5) for v in box])


def _box(text: str) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    x0, y0, x1, y1 = json.loads(text)
    return (x0, y0, x1, y1)
