"""The team in workspace.sqlite: accounts, groups, which restricted productions each group may
read, personal API tokens, sign-in sessions, sign-in throttling and the access log.

Passwords are kept as Argon2id hashes (argon2-cffi); API tokens and session ids are random
(256 bits) and kept as SHA-256 digests only, so a copy of the workspace opens nothing. A
request acts as a Viewer: who it is and which restricted productions it may read, the one
value every access decision is made from (web.reader applies it).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from foiarchive.index.catalog import now_iso
from foiarchive.index.workspace import Workspace, WorkspaceError

ROLES = ("reader", "annotator", "archivist", "admin")
#: Who may write notes, tags and watches; who may remove anyone's note.
ANNOTATORS = frozenset(ROLES[1:])
CURATORS = frozenset(ROLES[2:])
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
#: A sign-in is refused unheard after this many wrong passwords for the same account or from
#: the same address within THROTTLE_SECONDS: the tenth try in a minute never reaches Argon2.
THROTTLE_FAILURES = 9
THROTTLE_SECONDS = 60
#: A session's last-seen time is written at most this often (one write, not one a request).
SEEN_EVERY = 30
_HASHER = PasswordHasher()
#: Argon2 verifications running at once in this process: each takes 64 MiB (argon2-cffi's
#: default), and the sign-in form is open to anyone, so 100 requests at once would ask 6.4 GB.
_VERIFYING = threading.BoundedSemaphore(2)
#: Verified against when the account does not exist or is disabled, so every refusal takes
#: as long as a wrong password (a disabled account answered about 0.1 s sooner).
_DUMMY = _HASHER.hash("no such account, same work")


class TeamError(WorkspaceError):
    """A request on the team the user must fix (an unknown account, a bad password...)."""


class Forbidden(TeamError):
    """What this account may not do (annotate as a reader, change another's note...)."""


class Throttled(TeamError):
    """Too many wrong passwords lately: the sign-in is refused without being checked."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    disabled: bool = False
    created_at: str = ""
    groups: tuple[str, ...] = ()

    @property
    def may_annotate(self) -> bool:
        return self.role in ANNOTATORS

    @property
    def may_curate(self) -> bool:
        return self.role in CURATORS

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "groups": list(self.groups),
        }


@dataclass(frozen=True)
class Viewer:
    """Who a request acts as: an account (with its groups and the restricted productions they
    were granted), the holder of the single credential, the archive's owner at the command line
    (everything, every note), or nobody."""

    user: User | None = None
    group_ids: frozenset[int] = frozenset()
    granted: frozenset[str] = frozenset()
    all_restricted: bool = False
    #: Sees every group's notes and tags: the command line, which can read the file anyway.
    all_marks: bool = False
    #: Sees (and runs) the archive's own watches, those no account made: the holder of the
    #: single credential, the command line, anyone on a server with neither (web.context).
    archive_watches: bool = False

    def hidden(self, restricted: frozenset[str]) -> frozenset[str]:
        """The productions this viewer may not read, of the restricted ones."""
        return frozenset() if self.all_restricted else restricted - self.granted

    @property
    def signed_in(self) -> bool:
        return self.user is not None or self.all_restricted

    @property
    def may_annotate(self) -> bool:
        return self.user is not None and self.user.may_annotate

    def sees_watch(self, owner_id: int | None) -> bool:
        """An account sees the watches it made (archivists and admins every one); without an
        account, the archive's own watches only, and only with `archive_watches`."""
        if self.user is not None:
            return owner_id == self.user.id or self.user.may_curate
        return owner_id is None and self.archive_watches


ANONYMOUS = Viewer()
#: Without accounts and without a credential: whoever reaches the server (127.0.0.1 unless
#: told otherwise) keeps the archive's watches, restricted productions still hidden.
OPEN_SERVER = Viewer(archive_watches=True)
CREDENTIAL_HOLDER = Viewer(all_restricted=True, archive_watches=True)
OWNER = Viewer(all_restricted=True, all_marks=True, archive_watches=True)


@dataclass
class Group:
    name: str
    members: list[str] = field(default_factory=list)
    productions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "members": self.members, "productions": self.productions}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Team:
    """Accounts, groups and grants of one workspace (not shared across threads)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.db = workspace.db

    # -- accounts ---------------------------------------------------------------------------
    def has_accounts(self) -> bool:
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0] == 1

    def add_user(self, name: str, password: str, role: str = "reader") -> User:
        _check_name(name, "account")
        _check_role(role)
        hashed = _HASHER.hash(_checked_password(password))
        with self.workspace.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise TeamError(f"an account named {name!r} exists")
            db.execute(
                "INSERT INTO users (name, role, password, created_at) VALUES (?, ?, ?, ?)",
                (name, role, hashed, now_iso()),
            )
        return self.existing_user(name)

    def users(self) -> list[User]:
        names = [row[0] for row in self.db.execute("SELECT name FROM users ORDER BY name")]
        return [self.existing_user(name) for name in names]

    def user(self, name: str) -> User | None:
        row = self.db.execute(
            "SELECT id, name, role, disabled, created_at FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        groups = self.db.execute(
            "SELECT g.name FROM members m JOIN groups g ON g.id = m.group_id "
            "WHERE m.user_id = ? ORDER BY g.name",
            (row[0],),
        ).fetchall()
        return User(row[0], row[1], row[2], bool(row[3]), row[4], tuple(g[0] for g in groups))

    def existing_user(self, name: str) -> User:
        user = self.user(name)
        if user is None:
            raise TeamError(f"no account named {name!r} (see 'foiarchive users list')")
        return user

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        user = self.existing_user(name)
        with self.workspace.transaction() as db:
            db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user.id))
            if disabled:  # signed out everywhere, tokens kept but refused while disabled
                db.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))

    def set_password(self, name: str, password: str) -> None:
        user = self.existing_user(name)
        hashed = _HASHER.hash(_checked_password(password))
        with self.workspace.transaction() as db:
            db.execute("UPDATE users SET password = ? WHERE id = ?", (hashed, user.id))
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))

    def set_role(self, name: str, role: str) -> None:
        _check_role(role)
        user = self.existing_user(name)
        with self.workspace.transaction() as db:
            db.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))

    # -- groups and grants ------------------------------------------------------------------
    def add_group(self, name: str) -> None:
        _check_name(name, "group")
        with self.workspace.transaction() as db:
            if db.execute("SELECT 1 FROM groups WHERE name = ?", (name,)).fetchone():
                raise TeamError(f"a group named {name!r} exists")
            db.execute("INSERT INTO groups (name, created_at) VALUES (?, ?)", (name, now_iso()))

    def group_id(self, name: str) -> int:
        row = self.db.execute("SELECT id FROM groups WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise TeamError(f"no group named {name!r} (see 'foiarchive groups list')")
        return int(row[0])

    def remove_group(self, name: str) -> None:
        group = self.group_id(name)
        with self.workspace.transaction() as db:
            db.execute("DELETE FROM groups WHERE id = ?", (group,))

    def groups(self) -> list[Group]:
        found = {
            name: Group(name)
            for (name,) in self.db.execute("SELECT name FROM groups ORDER BY name")
        }
        for group, user in self.db.execute(
            "SELECT g.name, u.name FROM members m JOIN groups g ON g.id = m.group_id "
            "JOIN users u ON u.id = m.user_id ORDER BY u.name"
        ):
            found[group].members.append(user)
        for group, production in self.db.execute(
            "SELECT g.name, r.production FROM grants r JOIN groups g ON g.id = r.group_id "
            "ORDER BY r.production"
        ):
            found[group].productions.append(production)
        return list(found.values())

    def join(self, group: str, user: str, *, member: bool = True) -> None:
        group_id, user_id = self.group_id(group), self.existing_user(user).id
        with self.workspace.transaction() as db:
            if member:
                db.execute(
                    "INSERT OR IGNORE INTO members (group_id, user_id) VALUES (?, ?)",
                    (group_id, user_id),
                )
            else:
                db.execute(
                    "DELETE FROM members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
                )

    def grant(self, group: str, production: str, *, granted: bool = True) -> None:
        group_id = self.group_id(group)
        with self.workspace.transaction() as db:
            if granted:
                db.execute(
                    "INSERT OR IGNORE INTO grants (group_id, production, granted_at) "
                    "VALUES (?, ?, ?)",
                    (group_id, production, now_iso()),
                )
            elif not db.execute(
                "DELETE FROM grants WHERE group_id = ? AND production = ?", (group_id, production)
            ).rowcount:
                raise TeamError(f"group {group!r} was not granted {production!r}")

    def viewer(self, user: User) -> Viewer:
        """What an account may read: the restricted productions granted to its groups."""
        groups = frozenset(
            row[0]
            for row in self.db.execute("SELECT group_id FROM members WHERE user_id = ?", (user.id,))
        )
        granted = frozenset(
            row[0]
            for row in self.db.execute(
                "SELECT DISTINCT r.production FROM grants r JOIN members m "
                "ON m.group_id = r.group_id WHERE m.user_id = ?",
                (user.id,),
            )
        )
        return Viewer(user=user, group_ids=groups, granted=granted)

    # -- signing in -------------------------------------------------------------------------
    def check_password(self, name: str, password: str, address: str, now: float) -> User:
        """The account, if the password is its own; Throttled after too many wrong ones for
        the account or the address lately, TeamError (one message for every cause) else."""
        subjects = (f"user:{name}", f"address:{_address_block(address)}")
        attempt = self._count_attempt(subjects, now)
        row = self.db.execute(
            "SELECT password, disabled FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is not None and not row[1] and _verified(row[0], password[:MAX_PASSWORD]):
            with self.workspace.transaction() as db:  # a right password is no failure
                db.executemany("DELETE FROM login_failures WHERE rowid = ?", attempt)
            return self.existing_user(name)
        if row is None or row[1]:  # as long to refuse as a wrong password (one verify)
            _verified(_DUMMY, password[:MAX_PASSWORD])
        raise TeamError("wrong account name or password")

    def _count_attempt(self, subjects: tuple[str, ...], now: float) -> list[tuple[int]]:
        """Throttled, or the attempt recorded as a failure (its rows' ids) in the same write
        transaction as the count, before any password is verified: counted after, as it was,
        24 sign-ins at once all passed the count and all reached Argon2."""
        since = now - THROTTLE_SECONDS
        with self.workspace.transaction() as db:
            for subject in subjects:
                failures = db.execute(
                    "SELECT count(*) FROM login_failures WHERE subject = ? AND at > ?",
                    (subject, since),
                ).fetchone()[0]
                if failures >= THROTTLE_FAILURES:
                    raise Throttled("too many wrong passwords in the last minute: wait a minute")
            db.execute("DELETE FROM login_failures WHERE at < ?", (now - 3600,))
            rows = []
            for subject in subjects:
                added = db.execute(
                    "INSERT INTO login_failures (subject, at) VALUES (?, ?)", (subject, now)
                )
                rows.append((int(added.lastrowid or 0),))
        return rows

    def start_session(self, user: User, lifetime: float, now: float) -> str:
        """A new session id (the cookie's value); only its digest is kept."""
        session = secrets.token_urlsafe(32)
        with self.workspace.transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute(
                "INSERT INTO sessions (digest, user_id, started, seen, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (digest(session), user.id, now, now, now + lifetime),
            )
        return session

    def session_user(self, session: str, idle: float, now: float) -> User | None:
        """The account of a live session: not past its expiry, not idle longer than `idle`
        seconds, its account not disabled."""
        row = self.db.execute(
            "SELECT s.seen, s.expires, u.name, u.disabled FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.digest = ?",
            (digest(session),),
        ).fetchone()
        if row is None or row[3] or not (now < row[1] and now - row[0] < idle):
            return None
        if now - row[0] > SEEN_EVERY:
            with self.workspace.transaction() as db:
                db.execute("UPDATE sessions SET seen = ? WHERE digest = ?", (now, digest(session)))
        return self.user(row[2])

    def end_session(self, session: str) -> None:
        with self.workspace.transaction() as db:
            db.execute("DELETE FROM sessions WHERE digest = ?", (digest(session),))

    # -- personal API tokens ----------------------------------------------------------------
    def new_token(self, name: str, label: str = "token") -> str:
        """A new token for `Authorization: Bearer`, returned this once and kept as a digest."""
        user = self.existing_user(name)
        token = "fa_" + secrets.token_urlsafe(32)
        with self.workspace.transaction() as db:
            db.execute(
                "INSERT INTO tokens (user_id, name, digest, created_at) VALUES (?, ?, ?, ?)",
                (user.id, label[:80], digest(token), now_iso()),
            )
        return token

    def token_user(self, token: str) -> User | None:
        row = self.db.execute(
            "SELECT u.name, u.disabled FROM tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.digest = ?",
            (digest(token),),
        ).fetchone()
        return None if row is None or row[1] else self.user(row[0])

    def revoke_tokens(self, name: str) -> int:
        user = self.existing_user(name)
        with self.workspace.transaction() as db:
            return db.execute("DELETE FROM tokens WHERE user_id = ?", (user.id,)).rowcount

    # -- who opened which restricted document -----------------------------------------------
    def log_access(self, user: str, production: str, document: str, route: str) -> None:
        with self.workspace.transaction() as db:
            db.execute(
                "INSERT INTO access_log (at, user, production, document, route) "
                "VALUES (?, ?, ?, ?, ?)",
                (now_iso(), user, production, document, route[:200]),
            )

    def access_log(self, *, limit: int = 1000, user: str = "") -> list[dict[str, str]]:
        rows = self.db.execute(
            "SELECT at, user, production, document, route FROM access_log "
            "WHERE ? = '' OR user = ? ORDER BY id DESC LIMIT ?",
            (user, user, limit),
        ).fetchall()
        names = ("at", "user", "production", "document", "route")
        return [dict(zip(names, row, strict=True)) for row in rows]


def _verified(hashed: str, password: str) -> bool:
    with _VERIFYING:
        try:
            return _HASHER.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False


def _address_block(address: str) -> str:
    """What sign-ins are throttled by: an IPv4 address, an IPv6 address's /64 (the least a
    host is given, so one host counted address by address would have 2**64 tries)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:10.0.0.1 is 10.0.0.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _check_name(name: str, what: str) -> None:
    if not NAME.fullmatch(name):
        raise TeamError(
            f"{what} name {name!r}: 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise TeamError(f"role {role!r}: choose one of {', '.join(ROLES)}")


def _checked_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise TeamError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password
