"""Running the app under uvicorn, in one process or several sharing one listening socket."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP_FACTORY = "web.app:app_from_environment"


def serve(host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted; the settings travel to the workers in the environment (see
    web.app.app_from_environment).

    With several workers uvicorn binds the socket itself without naming TCP, so asyncio leaves
    Nagle's algorithm on for its connections, and every response that goes out in two writes
    waits for the client's delayed ACK: 44 ms a request, measured here, against 1.6 ms. The
    listening socket gets TCP_NODELAY, which Linux passes on to every accepted connection.
    """
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        server_header=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    listening = config.bind_socket()
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[listening]).run()
