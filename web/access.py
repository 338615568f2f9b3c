"""Who may see restricted productions: the holder of the credential the server was given.

Without a configured credential nobody can; with one, a request proves it holds it by an
`Authorization: Bearer <credential>` header (API clients) or by the cookie the sign-in form
sets (browsers). The cookie holds a keyed digest, never the credential itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from foiarchive.schemas.errors import FoiarchiveError

COOKIE = "foiarchive_access"
ENV_CREDENTIAL = "FOIARCHIVE_WEB_CREDENTIAL"
MIN_CREDENTIAL_LENGTH = 16


class CredentialError(FoiarchiveError, ValueError):
    """A credential that cannot be used (too short, unreadable file)."""


@dataclass(frozen=True)
class AccessPolicy:
    """`credential` None: restricted productions are invisible to every request."""

    credential: str | None = None

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

    def cookie_value(self) -> str:
        if self.credential is None:
            raise CredentialError("no credential is configured")
        key = self.credential.encode("utf-8")
        return hmac.new(key, b"foiarchive web session", hashlib.sha256).hexdigest()

    def accepts(self, *, bearer: str | None = None, cookie: str | None = None) -> bool:
        """Whether a request carrying this bearer token or cookie may see restricted material."""
        if self.credential is None:
            return False
        if bearer is not None and hmac.compare_digest(
            bearer.encode("utf-8"), self.credential.encode("utf-8")
        ):
            return True
        return cookie is not None and hmac.compare_digest(
            cookie.encode("utf-8"), self.cookie_value().encode("utf-8")
        )
