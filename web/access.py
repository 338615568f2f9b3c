"""Who may see restricted productions: with accounts in the workspace (index.team), the
groups each production was granted to, signed in by server-side sessions (web.context.viewer);
without accounts, the holder of the credential the server was given, as described here.

Without a configured credential nobody can; with one, a request proves it holds it by an
`Authorization: Bearer <credential>` header (API clients) or by the cookie the sign-in form
sets (browsers). The cookie holds its expiry and a digest of it keyed by the credential, never
the credential itself: it stops working when it expires, and every cookie ever given out stops
working when the credential is changed (the server restarted with another one).

Every form that is posted carries a token tied to the browser's session (the sign-in cookie,
else an anonymous session cookie) and keyed by the same secret, so that another site cannot
post a form in a reader's name (CSRF): see web.forms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from foiarchive.schemas.errors import FoiarchiveError

COOKIE = "foiarchive_access"
#: The anonymous session a form token is tied to when nobody is signed in: random, no meaning.
SESSION_COOKIE = "foiarchive_session"
ENV_CREDENTIAL = "FOIARCHIVE_WEB_CREDENTIAL"
MIN_CREDENTIAL_LENGTH = 16
#: How long a sign-in lasts: a working day, so a browser left signed in on a shared reading-room
#: machine does not stay so overnight.
SESSION_SECONDS = 12 * 3600
#: An account's session also ends after this long without a request (a lunch break, not more).
IDLE_SECONDS = 2 * 3600


class CredentialError(FoiarchiveError, ValueError):
    """A credential that cannot be used (too short, unreadable file)."""


@dataclass(frozen=True)
class AccessPolicy:
    """`credential` None: restricted productions are invisible to every request."""

    credential: str | None = None
    #: Keys form tokens when no credential is configured. serve() makes one per server and
    #: hands it to every worker process, so a form served by one is accepted by the others.
    form_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    #: With accounts: whether people who are not signed in may read the public productions.
    public: bool = False
    #: With accounts: how long a session lasts at most, and without a request.
    session_seconds: float = SESSION_SECONDS
    idle_seconds: float = IDLE_SECONDS

    @classmethod
    def load(cls, credential_file: Path | None) -> AccessPolicy:
        """From a file (first line) or the FOIARCHIVE_WEB_CREDENTIAL variable, if either is set."""
        if credential_file is not None:
            try:
                lines = credential_file.read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise CredentialError(
                    f"{credential_file}: cannot read the credential: {exc}"
                ) from None
            value: str | None = lines[0].strip() if lines else ""
        else:
            value = os.environ.get(ENV_CREDENTIAL) or None
        if value is not None and len(value) < MIN_CREDENTIAL_LENGTH:
            raise CredentialError(
                f"the credential must be at least {MIN_CREDENTIAL_LENGTH} characters long"
            )
        return cls(value)

    @property
    def configured(self) -> bool:
        return self.credential is not None

    def cookie_value(self, *, now: float | None = None) -> str:
        """A sign-in that lasts SESSION_SECONDS from `now`: 'EXPIRY.DIGEST'."""
        expires = int(time.time() if now is None else now) + SESSION_SECONDS
        return f"{expires}.{self._digest(expires)}"

    def _digest(self, expires: int) -> str:
        if self.credential is None:
            raise CredentialError("no credential is configured")
        key = self.credential.encode("utf-8")
        message = f"foiarchive web session until {expires}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def _cookie_valid(self, cookie: str) -> bool:
        stamp, dot, digest = cookie.partition(".")
        if not dot or not stamp.isdigit() or len(stamp) > 12:
            return False
        expires = int(stamp)
        if not time.time() < expires <= time.time() + SESSION_SECONDS:
            return False
        return hmac.compare_digest(
            digest.encode("ascii", "replace"), self._digest(expires).encode()
        )

    def accepts(self, *, bearer: str | None = None, cookie: str | None = None) -> bool:
        """Whether a request carrying this bearer token or cookie may see restricted material."""
        if self.credential is None:
            return False
        if bearer is not None and hmac.compare_digest(
            bearer.encode("utf-8"), self.credential.encode("utf-8")
        ):
            return True
        return cookie is not None and self._cookie_valid(cookie)

    def form_token(self, session: str) -> str:
        """The token the forms of `session` carry: keyed by the credential (else form_key),
        with a message no sign-in digest is made of, so neither can stand for the other."""
        key = (self.credential or self.form_key).encode("utf-8")
        message = f"foiarchive form token for session {session}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def form_token_valid(self, session: str, token: str) -> bool:
        return bool(session) and hmac.compare_digest(
            token.encode("ascii", "replace"), self.form_token(session).encode()
        )
