"""A minimal loopback HTTP proxy for tests: forwards absolute-form requests, tunnels CONNECT.

``with FakeProxy() as proxy:`` then point ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` at
``proxy.url``. It records each request line it was asked to carry (``proxy.seen``) and only
ever binds 127.0.0.1. One request per client connection: it answers with
``Connection: close``, which every client honours.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te",
               "trailer", "upgrade"}
_TIMEOUT = 10.0


@dataclass(frozen=True)
class Seen:
    """One request the proxy carried: its method and the target as the client wrote it."""

    method: str
    target: str


class FakeProxy:
    """The proxy server; use as a context manager or call close()."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Return the proxy URL for the *_PROXY variables."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def requests(self) -> list[Seen]:
        """Return what the proxy was asked to carry so far."""
        with self._lock:
            return list(self.seen)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def _handler_class(self) -> type[socketserver.StreamRequestHandler]:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        return Handler


class _ProxyHandler(socketserver.StreamRequestHandler):
    owner: FakeProxy
    timeout = _TIMEOUT

    def handle(self) -> None:
        request_line = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
        if not request_line:
            return
        method, target, _version = request_line.split(" ", 2)
        headers: list[tuple[str, str]] = []
        while (line := self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")):
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        self.owner._record(Seen(method, target))
        if method == "CONNECT":
            self._tunnel(target)
        else:
            self._forward(method, target, headers)

    def _reply(self, status: str) -> None:
        self.wfile.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                         .encode())

    def _tunnel(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=_TIMEOUT)
        except (OSError, ValueError):
            self._reply("502 Bad Gateway")
            return
        with upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            _relay(self.connection, upstream)

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]]) -> None:
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            self._reply("400 Bad Request")
            return
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        body = self.rfile.read(length) if length else b""
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        lines = [f"{method} {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
        lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            upstream = socket.create_connection((url.hostname, url.port or 80), timeout=_TIMEOUT)
        except OSError:
            self._reply("502 Bad Gateway")
            return
        with upstream:
            upstream.sendall(head + body)
            # Pass the answer through as it streams, marking the connection as closing.
            reader = upstream.makefile("rb")
            status = reader.readline(65536)
            out = [status]
            while (line := reader.readline(65536)) not in (b"\r\n", b"\n", b""):
                if line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive"):
                    out.append(line)
            out.append(b"Connection: close\r\n\r\n")
            self.wfile.write(b"".join(out))
            self.wfile.flush()
            while chunk := reader.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    socks = [a, b]
    while True:
        readable, _, _ = select.select(socks, [], [], _TIMEOUT)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            (b if sock is a else a).sendall(data)
