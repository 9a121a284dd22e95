"""The link between a field laptop and capdb, as a WSGI layer in front of the live server:
up, down, or losing the answers to one kind of request.

Down, every connection is cut before capdb sees the request, as when a satellite link
drops: the browser's requests, its service worker's included, fail as they would. Losing
answers, capdb handles the request in full (and commits) and the connection is cut before
the answer leaves: the browser cannot tell whether anything was done.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LinkDroppedError(ConnectionResetError):
    """Werkzeug's server takes a ConnectionError as a dropped connection, quietly."""


@dataclass
class Link:
    app: WsgiApp
    up: bool = True
    # "METHOD /path" whose answers are lost, while set.
    losing: str | None = None
    # What capdb handled but whose answer never left, as "METHOD /path STATUS".
    lost: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self.up:
            self._cut(environ)
        request = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
        if request != self.losing:
            return self.app(environ, start_response)
        answered: list[str] = []

        def keep_status(status: str, headers: Any, exc_info: Any = None) -> Callable[..., Any]:
            answered.append(status)
            return lambda data: None

        body = self.app(environ, keep_status)
        try:
            for _chunk in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        self.lost.append(f"{request} {answered[0].split()[0] if answered else '?'}")
        self._cut(environ)

    @staticmethod
    def _cut(environ: dict[str, Any]) -> Any:
        connection: socket.socket = environ["werkzeug.socket"]
        with suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
        raise LinkDroppedError("the link dropped")
