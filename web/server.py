"""Running the app under uvicorn, in one process or several sharing one listening socket."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from foiarchive.archive import Archive
from foiarchive.web.access import IDLE_SECONDS, SESSION_SECONDS, AccessPolicy
from foiarchive.web.app import create_app
from foiarchive.web.reader import Served

APP_FACTORY = "foiarchive.web.server:app_from_environment"
#: How serve() hands its settings to the server processes: uvicorn starts each one by
#: importing APP_FACTORY, so they travel in the environment.
_ENV = "FOIARCHIVE_SERVE_"


@dataclass(frozen=True)
class Serving:
    """What a server process needs to build its app."""

    archive_path: Path  # the folder; each server process opens its own Archive on it
    backend: str = "auto"
    es_url: str | None = None
    image_cache: Path | None = None
    render_processes: int = 1
    credential: str | None = None
    #: With accounts: anonymous reading of the public productions, and session lifetimes.
    public: bool = False
    session_seconds: float = SESSION_SECONDS
    idle_seconds: float = IDLE_SECONDS
    #: Keys form tokens when there is no credential; one for all the server's processes.
    form_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    def to_environment(self) -> dict[str, str]:
        values = {
            "ARCHIVE": str(self.archive_path.resolve()),
            "BACKEND": self.backend,
            "ES_URL": self.es_url or "",
            "IMAGE_CACHE": str(self.image_cache or ""),
            "RENDER_PROCESSES": str(self.render_processes),
            "CREDENTIAL": self.credential or "",
            "FORM_KEY": self.form_key,
            "PUBLIC": "1" if self.public else "",
            "SESSION_SECONDS": str(self.session_seconds),
            "IDLE_SECONDS": str(self.idle_seconds),
        }
        return {_ENV + name: value for name, value in values.items()}

    @classmethod
    def from_environment(cls) -> Serving:
        def value(name: str) -> str:
            return os.environ.get(_ENV + name, "")

        return cls(
            archive_path=Path(value("ARCHIVE")),
            backend=value("BACKEND") or "auto",
            es_url=value("ES_URL") or None,
            image_cache=Path(value("IMAGE_CACHE")) if value("IMAGE_CACHE") else None,
            render_processes=int(value("RENDER_PROCESSES") or 0),
            credential=value("CREDENTIAL") or None,
            form_key=value("FORM_KEY") or secrets.token_hex(32),
            public=value("PUBLIC") == "1",
            session_seconds=float(value("SESSION_SECONDS") or SESSION_SECONDS),
            idle_seconds=float(value("IDLE_SECONDS") or IDLE_SECONDS),
        )

    def app(self) -> FastAPI:
        served = Served(
            Archive(self.archive_path, es_url=self.es_url),
            backend=self.backend,
            image_cache=self.image_cache,
            render_processes=self.render_processes,
        )
        policy = AccessPolicy(
            self.credential,
            form_key=self.form_key,
            public=self.public,
            session_seconds=self.session_seconds,
            idle_seconds=self.idle_seconds,
        )
        return create_app(served, policy)


def app_from_environment() -> FastAPI:
    """The app for uvicorn's factory mode, as serve() configured it."""
    return Serving.from_environment().app()


def serve(
    settings: Serving,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    forwarded_allow_ips: str = "127.0.0.1",
) -> None:
    """Serve until interrupted.

    With several workers uvicorn binds the socket itself without naming TCP, so asyncio leaves
    Nagle's algorithm on for its connections, and every response that goes out in two writes
    waits for the client's delayed ACK: 44 ms a request, measured here, against 1.6 ms. The
    listening socket gets TCP_NODELAY, which Linux passes on to every accepted connection.
    """
    os.environ.update(settings.to_environment())
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        server_header=False,
        # a TLS proxy at these addresses is believed about the scheme and the client's address
        # (X-Forwarded-Proto, X-Forwarded-For): session cookies get Secure behind it, and
        # sign-in throttling counts the real client's address
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    listening = config.bind_socket()
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[listening]).run()
