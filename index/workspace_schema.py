"""The schema of workspace.sqlite, one numbered migration a version (index.sqlite_schema).

Append only: migration N takes user_version N-1 to N. Statements are split on ';', so none
may hold one in its text.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: saved searches and the pages each has already reported
    """
    CREATE TABLE watches (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        query TEXT NOT NULL,
        filters TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        last_run TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE watch_seen (
        watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (watch_id, key)
    ) WITHOUT ROWID;
    """,
    # 2: the team: accounts, groups, which restricted productions each group may read,
    # personal API tokens and sign-in sessions (both kept as SHA-256 digests only), failed
    # sign-ins (throttling) and who opened which restricted document
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        password TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE members (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE grants (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        production TEXT NOT NULL,
        granted_at TEXT NOT NULL,
        PRIMARY KEY (group_id, production)
    ) WITHOUT ROWID;
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        started REAL NOT NULL,
        seen REAL NOT NULL,
        expires REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE login_failures (
        subject TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_subject ON login_failures (subject, at);
    CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        production TEXT NOT NULL,
        document TEXT NOT NULL,
        route TEXT NOT NULL
    );
    """,
    # 3: what researchers find: notes on pages (optionally on a box of the page image, shown
    # to the groups the author chose), tags on documents (per group), stars and reads (per
    # person). Pages and documents are named as the index names them, so a rebuild keeps them.
    """
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        document TEXT NOT NULL,
        page INTEGER NOT NULL,
        author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        words TEXT NOT NULL,
        box TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX notes_document ON notes (document, page);
    CREATE TABLE note_groups (
        note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        PRIMARY KEY (note_id, group_id)
    ) WITHOUT ROWID;
    CREATE INDEX note_groups_group ON note_groups (group_id, note_id);
    CREATE TABLE tags (
        document TEXT NOT NULL,
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (document, group_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX tags_tag ON tags (tag, group_id);
    CREATE TABLE stars (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        document TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (user_id, document)
    ) WITHOUT ROWID;
    CREATE TABLE reads (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        document TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (user_id, document)
    ) WITHOUT ROWID;
    """,
    # 4: a watch belongs to the account that made it on the web (NULL: made at the command
    # line, or before there were accounts: the archive's own, for archivists and admins)
    """
    ALTER TABLE watches ADD COLUMN owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
    """,
]
