"""The catalog: one SQLite file holding every production, document, page text and event.

It is the working source of truth. Search indexes are derived from it through an outbox
(`index_queue`): every write that changes what a search would return appends the document id
in the same transaction, and `index.sync` replays the queue into a backend and records how far
it got. A crash between a catalog commit and an index commit therefore leaves the queue
entries in place and the next sync finishes the job.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from foiarchive.index.sqlite_schema import migrate, transaction
from foiarchive.schemas import Document, Event, Page, Production
from foiarchive.schemas.errors import FoiarchiveError

SCHEMA_VERSION = 9

# Each entry migrates the catalog from version N to N+1; never edit one that has shipped.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE productions (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        agency TEXT NOT NULL DEFAULT '',
        component TEXT NOT NULL DEFAULT '',
        request_number TEXT NOT NULL DEFAULT '',
        case_court TEXT NOT NULL DEFAULT '',
        case_docket TEXT NOT NULL DEFAULT '',
        release_date TEXT NOT NULL DEFAULT '',
        release_label TEXT NOT NULL DEFAULT '',
        requester TEXT NOT NULL DEFAULT '',
        exemptions_cited TEXT NOT NULL DEFAULT '[]',
        access TEXT NOT NULL DEFAULT 'public',
        source TEXT NOT NULL DEFAULT '',
        ingested_at TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        production_id TEXT NOT NULL REFERENCES productions(id),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        pronom TEXT NOT NULL DEFAULT '',
        page_count INTEGER NOT NULL DEFAULT 0,
        title TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL DEFAULT '',
        modified TEXT NOT NULL DEFAULT '',
        producer TEXT NOT NULL DEFAULT '',
        bates_first TEXT NOT NULL DEFAULT '',
        bates_last TEXT NOT NULL DEFAULT '',
        text_source TEXT NOT NULL DEFAULT 'none',
        ocr_confidence REAL,
        status TEXT NOT NULL DEFAULT 'ok',
        error TEXT NOT NULL DEFAULT '',
        ingested_at TEXT NOT NULL DEFAULT '',
        UNIQUE (production_id, path)
    );
    CREATE INDEX documents_sha256 ON documents(sha256);
    CREATE TABLE pages (
        document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        text_source TEXT NOT NULL DEFAULT 'none',
        ocr_confidence REAL,
        width REAL,
        height REAL,
        bates TEXT NOT NULL DEFAULT '[]',
        exemptions TEXT NOT NULL DEFAULT '[]',
        redactions TEXT NOT NULL DEFAULT '[]',
        withheld_in_full INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (document_id, number)
    ) WITHOUT ROWID;
    CREATE TABLE index_queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id TEXT NOT NULL
    );
    CREATE TABLE index_state (
        backend TEXT PRIMARY KEY,
        synced_seq INTEGER NOT NULL DEFAULT 0,
        generation TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        object TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        agent TEXT NOT NULL DEFAULT '',
        time TEXT NOT NULL
    );
    CREATE INDEX events_object ON events(object);
    """,
    # 2: FOIA marks beyond exemption codes: every citation with its statute, and the withheld
    # pages an agency lists on a deleted page information sheet.
    """
    ALTER TABLE pages ADD COLUMN citations TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE pages ADD COLUMN withheld_pages TEXT NOT NULL DEFAULT '[]';
    """,
    # 3: a table's header, so a column released blank everywhere is still known (diffs).
    """
    ALTER TABLE documents ADD COLUMN columns TEXT NOT NULL DEFAULT '[]';
    """,
    # 4: documents found inside ZIP archives and emails, and the headers of emails.
    """
    ALTER TABLE documents ADD COLUMN parent TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN email TEXT NOT NULL DEFAULT '{}';
    CREATE INDEX documents_parent ON documents(parent);
    """,
    # 5: records cut from a merged PDF keep where their pages sit in it.
    """
    ALTER TABLE documents ADD COLUMN page_offset INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: the fields of a litigation load file (Concordance DAT) for the documents it lists.
    """
    ALTER TABLE documents ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
    """,
    # 7: where OCR read each word, so a viewer can outline hits on the page image.
    """
    ALTER TABLE pages ADD COLUMN word_boxes TEXT NOT NULL DEFAULT '';
    """,
    # 8: the page image a load-file page was read from, to show it.
    """
    ALTER TABLE pages ADD COLUMN image TEXT NOT NULL DEFAULT '';
    """,
    # 9: leaks: what a page still carries that its redactor meant to remove (Finding dicts).
    """
    ALTER TABLE pages ADD COLUMN leaks TEXT NOT NULL DEFAULT '[]';
    """,
]

_JSON_PAGE_FIELDS = (
    "bates",
    "exemptions",
    "citations",
    "redactions",
    "withheld_pages",
    "leaks",
)


class CatalogError(FoiarchiveError):
    """The catalog cannot be opened or is newer than this program."""


_HIT_CHUNK = 400


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ProductionSummary:
    production: Production
    documents: int
    pages: int
    failed: int


@dataclass(frozen=True)
class IndexablePage:
    """A page with the document and production fields a search index needs beside it."""

    page: Page
    document: Document
    production: Production

    @property
    def key(self) -> str:
        return f"{self.document.id}:{self.page.number}"


class Catalog:
    """The SQLite catalog of one archive. Not shared across threads; open one per process."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only` opens an existing, current catalog so that nothing can write to it
        (SQLite refuses): what a server that only reads wants."""
        self.path = path
        try:
            if read_only:
                uri = f"{path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise CatalogError(f"{path}: cannot open the catalog: {exc}") from None
        self._db.row_factory = sqlite3.Row
        try:
            if read_only:
                self._check_current()
            else:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise CatalogError(f"{path}: not a foiarchive catalog: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------
    def _check_current(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            self._db.close()
            raise CatalogError(
                f"{self.path}: catalog schema {version}, this foiarchive reads {SCHEMA_VERSION}; "
                "open it once for writing (any foiarchive command) to migrate it"
            )

    def _migrate(self) -> None:
        migrate(self._db, _MIGRATIONS, path=self.path, what="catalog", error=CatalogError)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One atomic unit of work: all of it lands or none of it does."""
        return transaction(self._db)

    # -- productions --------------------------------------------------------------------
    def put_production(self, production: Production) -> bool:
        """Insert or update a production (True if it changed); its documents are reindexed."""
        row = production.to_dict()
        row["exemptions_cited"] = json.dumps(row["exemptions_cited"])
        with self.transaction() as db:
            old = db.execute("SELECT * FROM productions WHERE id = ?", (production.id,)).fetchone()
            if old is None:
                row["ingested_at"] = row["ingested_at"] or now_iso()
            else:
                row["ingested_at"] = old["ingested_at"]
                if all(str(old[k]) == str(v) for k, v in row.items()):
                    return False
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            db.execute(
                f"INSERT OR REPLACE INTO productions ({columns}) VALUES ({marks})",
                list(row.values()),
            )
            if old is not None:
                db.execute(
                    "INSERT INTO index_queue (document_id) "
                    "SELECT id FROM documents WHERE production_id = ?",
                    (production.id,),
                )
        return True

    def production(self, production_id: str) -> Production | None:
        row = self._db.execute(
            "SELECT * FROM productions WHERE id = ?", (production_id,)
        ).fetchone()
        return _production(row) if row else None

    def productions(self) -> list[ProductionSummary]:
        rows = self._db.execute(
            """
            SELECT p.*,
              (SELECT count(*) FROM documents d WHERE d.production_id = p.id AND d.status = 'ok')
                AS n_documents,
              (SELECT count(*) FROM documents d WHERE d.production_id = p.id
                AND d.status = 'error') AS n_failed,
              (SELECT coalesce(sum(d.page_count), 0) FROM documents d
                WHERE d.production_id = p.id AND d.status = 'ok') AS n_pages
            FROM productions p ORDER BY p.release_date, p.id
            """
        ).fetchall()
        return [
            ProductionSummary(_production(r), r["n_documents"], r["n_pages"], r["n_failed"])
            for r in rows
        ]

    def restricted_productions(self) -> frozenset[str]:
        """Productions marked `access: restricted`: shown only to those allowed to see them."""
        rows = self._db.execute("SELECT id FROM productions WHERE access = 'restricted'")
        return frozenset(r["id"] for r in rows)

    # -- documents and pages ------------------------------------------------------------
    def ingested_sha256(self, production_id: str, path: str) -> str | None:
        """The hash of the file already ingested at this path, if it was ingested cleanly."""
        row = self._db.execute(
            "SELECT sha256 FROM documents WHERE production_id = ? AND path = ? AND status = 'ok'",
            (production_id, path),
        ).fetchone()
        return row["sha256"] if row else None

    def put_document(self, document: Document, pages: Iterable[Page] = ()) -> None:
        """Write a document and all its pages at once, replacing any earlier version."""
        row = document.to_dict()
        row["ingested_at"] = row["ingested_at"] or now_iso()
        row["columns"] = json.dumps(row["columns"])
        row["email"] = json.dumps(row["email"])
        row["fields"] = json.dumps(row["fields"])
        with self.transaction() as db:
            db.execute("DELETE FROM pages WHERE document_id = ?", (document.id,))
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            db.execute(
                f"INSERT OR REPLACE INTO documents ({columns}) VALUES ({marks})",
                list(row.values()),
            )
            db.executemany(
                "INSERT INTO pages (document_id, number, text, text_source, ocr_confidence, "
                "width, height, bates, exemptions, citations, redactions, withheld_in_full, "
                "withheld_pages, word_boxes, image, leaks) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        document.id,
                        p.number,
                        p.text,
                        p.text_source,
                        p.ocr_confidence,
                        p.width,
                        p.height,
                        json.dumps(p.bates),
                        json.dumps(p.exemptions),
                        json.dumps(p.citations),
                        json.dumps(p.redactions),
                        int(p.withheld_in_full),
                        json.dumps(p.withheld_pages),
                        p.word_boxes,
                        p.image,
                        json.dumps(p.leaks),
                    )
                    for p in pages
                ),
            )
            db.execute("INSERT INTO index_queue (document_id) VALUES (?)", (document.id,))

    def document(self, document_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        return _document(row) if row else None

    def find_documents(self, reference: str) -> list[Document]:
        """Documents named by id, by id prefix, or by 'production/path'."""
        rows = self._db.execute(
            "SELECT * FROM documents WHERE id = ? OR id LIKE ? ESCAPE '\\' "
            "OR production_id || '/' || path = ? ORDER BY id LIMIT 20",
            (reference, _like_prefix(reference), reference),
        ).fetchall()
        return [_document(r) for r in rows]

    def documents(
        self, production_id: str | None = None, status: str | None = None
    ) -> list[Document]:
        sql = "SELECT * FROM documents WHERE 1=1"
        params: list[Any] = []
        if production_id is not None:
            sql += " AND production_id = ?"
            params.append(production_id)
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        rows = self._db.execute(sql + " ORDER BY production_id, path", params).fetchall()
        return [_document(r) for r in rows]

    def documents_ingested_since(self, day: str) -> set[str]:
        """Ids of the documents ingested on or after `day` (YYYY-MM-DD)."""
        try:
            start = date.fromisoformat(day)
        except ValueError:
            raise CatalogError(f"{day!r} is not a date (YYYY-MM-DD)") from None
        rows = self._db.execute(
            "SELECT id FROM documents WHERE ingested_at >= ?", (start.isoformat(),)
        ).fetchall()
        return {row[0] for row in rows}

    def document_productions(self) -> list[tuple[str, str]]:
        """(document id, production id) of every document: 100,000 of them take 40 ms."""
        rows = self._db.execute("SELECT id, production_id FROM documents").fetchall()
        return [(row[0], row[1]) for row in rows]

    def pages(self, document_id: str) -> list[Page]:
        rows = self._db.execute(
            "SELECT * FROM pages WHERE document_id = ? ORDER BY number", (document_id,)
        ).fetchall()
        return [_page(r) for r in rows]

    def page(self, document_id: str, number: int) -> Page | None:
        row = self._db.execute(
            "SELECT * FROM pages WHERE document_id = ? AND number = ?", (document_id, number)
        ).fetchone()
        return _page(row) if row else None

    def page_image(self, document_id: str, number: int) -> str:
        """The page image a load-file page was read from ('' for other pages)."""
        row = self._db.execute(
            "SELECT image FROM pages WHERE document_id = ? AND number = ?", (document_id, number)
        ).fetchone()
        return row["image"] if row else ""

    def pages_for_hits(
        self, keys: list[tuple[str, int]], *, marks: bool = False
    ) -> dict[tuple[str, int], tuple[Document, Page]]:
        """Pages named by (document id, number), with their documents, in two queries: what a
        page of search hits needs, without a round trip per hit.

        The pages carry only what a hit shows (text, text source, Bates numbers): reading the
        marks and word boxes too took a third of a search's time. `marks` adds the exemptions,
        redactions and withheld flag (what an export of hits lists), never the word boxes.
        """
        if not keys:
            return {}
        extra = ", exemptions, redactions, withheld_in_full" if marks else ""
        rows = []
        # An OR of primary-key matches: SQLite looks each one up in the index (a row-value IN
        # over VALUES would scan the table). Its parser refuses an expression deeper than
        # 1,000, which an OR of 1,000 keys is (`search --limit 1000` failed): 400 at a time.
        for start in range(0, len(keys), _HIT_CHUNK):
            chunk = keys[start : start + _HIT_CHUNK]
            matches = " OR ".join("(document_id = ? AND number = ?)" for _ in chunk)
            rows += self._db.execute(
                f"SELECT document_id, number, text, text_source, bates{extra} FROM pages "
                f"WHERE {matches}",
                [value for key in chunk for value in key],
            ).fetchall()
        ids = sorted({row["document_id"] for row in rows})
        documents = {
            row["id"]: _document(row)
            for row in self._db.execute(
                f"SELECT * FROM documents WHERE id IN ({', '.join('?' for _ in ids)})", ids
            ).fetchall()
        }
        return {
            (row["document_id"], row["number"]): (
                documents[row["document_id"]],
                Page(
                    number=row["number"],
                    text=row["text"],
                    text_source=row["text_source"],
                    bates=json.loads(row["bates"]),
                    **(_marks(row) if marks else {}),
                ),
            )
            for row in rows
            if row["document_id"] in documents
        }

    def indexable_pages(self, document_id: str) -> list[IndexablePage]:
        """Every page of a live document, with its document and production; [] if gone or failed."""
        document = self.document(document_id)
        if document is None or document.status != "ok":
            return []
        production = self.production(document.production_id)
        if production is None:
            return []
        return [IndexablePage(p, document, production) for p in self.pages(document_id)]

    # -- the index outbox ---------------------------------------------------------------
    def queue_position(self) -> int:
        return self._db.execute("SELECT coalesce(max(seq), 0) FROM index_queue").fetchone()[0]

    def queued_since(self, seq: int, limit: int = 1000) -> list[tuple[int, str]]:
        rows = self._db.execute(
            "SELECT seq, document_id FROM index_queue WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [(r["seq"], r["document_id"]) for r in rows]

    def sync_state(self, backend: str) -> tuple[int, str]:
        row = self._db.execute(
            "SELECT synced_seq, generation FROM index_state WHERE backend = ?", (backend,)
        ).fetchone()
        return (row["synced_seq"], row["generation"]) if row else (0, "")

    def set_sync_state(self, backend: str, synced_seq: int, generation: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO index_state (backend, synced_seq, generation) VALUES (?, ?, ?) "
                "ON CONFLICT(backend) DO UPDATE SET synced_seq = excluded.synced_seq, "
                "generation = excluded.generation",
                (backend, synced_seq, generation),
            )

    # -- events -------------------------------------------------------------------------
    def add_event(self, event: Event) -> None:
        row = event.to_dict()
        row["time"] = row["time"] or now_iso()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (type, object, outcome, detail, agent, time) "
                "VALUES (:type, :object, :outcome, :detail, :agent, :time)",
                row,
            )

    def events(self, production_id: str) -> list[Event]:
        """Events about a production (object = its id) or its files (object = 'id/...')."""
        rows = self._db.execute(
            "SELECT type, object, outcome, detail, agent, time FROM events "
            "WHERE object = ? OR object LIKE ? ESCAPE '\\' ORDER BY id",
            (production_id, _like_prefix(production_id + "/")),
        ).fetchall()
        return [Event(**dict(r)) for r in rows]


def _marks(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "exemptions": json.loads(row["exemptions"]),
        "redactions": json.loads(row["redactions"]),
        "withheld_in_full": bool(row["withheld_in_full"]),
    }


def _like_prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _production(row: sqlite3.Row) -> Production:
    data = dict(row)
    data["exemptions_cited"] = json.loads(data["exemptions_cited"])
    return Production.from_dict(data)


def _document(row: sqlite3.Row) -> Document:
    data = dict(row)
    data["columns"] = json.loads(data["columns"])
    data["email"] = json.loads(data["email"])
    data["fields"] = json.loads(data["fields"])
    return Document.from_dict(data)


def _page(row: sqlite3.Row) -> Page:
    data = dict(row)
    del data["document_id"]
    for name in _JSON_PAGE_FIELDS:
        data[name] = json.loads(data[name])
    data["withheld_in_full"] = bool(data["withheld_in_full"])
    return Page(**data)
