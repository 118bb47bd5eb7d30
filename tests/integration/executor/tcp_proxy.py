"""A TCP proxy on 127.0.0.1 whose port returns ECONNREFUSED until `forward_to` is called, for outage tests."""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    """A free port on 127.0.0.1 where connections fail with ECONNREFUSED until `forward_to` is called.

    The port is bound but not listening, so on Linux a connect() gets ECONNREFUSED, like a
    stopped server. After `forward_to`, each connection is piped to the upstream address.
    """

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._upstream: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self.connections = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def forward_to(self, host: str, port: int) -> None:
        """Start accepting connections and piping each to `host:port`."""
        self._upstream = (host, port)
        self._server.listen()
        threading.Thread(target=self._accept, name="tcp-proxy-accept", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        try:
            # shutdown() wakes the thread blocked in accept(), which close() alone does not.
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        with self._lock:
            for connection in self._sockets:
                connection.close()
            self._sockets.clear()

    def _accept(self) -> None:
        assert self._upstream is not None
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.extend([client, upstream])
                self.connections += 1
            threading.Thread(target=_pipe, args=(client, upstream), name="tcp-proxy-pipe", daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), name="tcp-proxy-pipe", daemon=True).start()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass
