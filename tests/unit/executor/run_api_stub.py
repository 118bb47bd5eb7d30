"""An in-memory HTTP server with the internal run API that executors call, for tests.

It stores the requests that executors send, and `fail_next` makes it fail the next calls of an
endpoint with given statuses. Like the real server, it is idempotent on (run_id, seq) and
(run_id, index), and it responds 409 to a finish call until it has stored every event the call counts.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDPOINTS = ("manifest", "start", "events", "log-chunks", "control", "finish")
PATH_PATTERN = re.compile(r"^/internal/api/v1/runs/(?P<run_id>[^/]+)/(?P<endpoint>[a-z-]+)$")


class StubRunApi:
    """Serves one run on 127.0.0.1, on a free port unless `port` is given; use as a context manager or call start/stop."""

    def __init__(self, run_id: str, token: str, manifest: dict[str, Any] | None = None, *, port: int = 0) -> None:
        self.run_id = run_id
        self.port = port
        self.token = token
        self.manifest = manifest or {}
        self.lock = threading.Lock()
        self.events: dict[int, dict[str, Any]] = {}
        self.event_arrivals: list[int] = []
        self.event_batches: list[int] = []
        self.chunks: dict[int, dict[str, Any]] = {}
        self.start_calls = 0
        self.finish_bodies: list[dict[str, Any]] = []
        self.cancel_requested = False
        self.calls: list[tuple[str, int]] = []
        self._failures: dict[str, deque[int]] = defaultdict(deque)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stub server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, endpoint: str, *statuses: int) -> None:
        """Respond to the next calls of `endpoint` with `statuses`, one per call, instead of handling them."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self.lock:
            self._failures[endpoint].extend(statuses)

    def calls_to(self, endpoint: str) -> list[int]:
        """Return the response statuses sent for `endpoint`, in call order."""
        with self.lock:
            return [status for name, status in self.calls if name == endpoint]

    def start(self) -> StubRunApi:
        stub = self

        class Handler(_Handler):
            api = stub

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="stub-run-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubRunApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def handle(self, method: str, endpoint: str, body: Any) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            failures = self._failures[endpoint]
            if failures:
                status = failures.popleft()
                headers = {"Retry-After": "0"} if status in (409, 429) else {}
                return status, headers, {"detail": f"injected failure {status}"}

            if endpoint == "manifest" and method == "GET":
                return 200, {}, self.manifest
            if endpoint == "control" and method == "GET":
                return 200, {}, {"cancel_requested": self.cancel_requested}
            if endpoint == "start" and method == "POST":
                self.start_calls += 1
                return 200, {}, {"state": "running"}
            if endpoint == "events" and method == "POST":
                return self._store_events(body)
            if endpoint == "log-chunks" and method == "POST":
                return self._store_chunks(body)
            if endpoint == "finish" and method == "POST":
                return self._finish(body)
        return 405, {}, {"detail": f"{method} is not allowed on {endpoint}"}

    def _store_events(self, body: Any) -> tuple[int, dict[str, str], Any]:
        records = body.get("events") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(record, dict) and isinstance(record.get("seq"), int) for record in records):
            return 422, {}, {"detail": "events must be a list of records with an integer seq"}
        self.event_batches.append(len(records))
        for record in records:
            self.event_arrivals.append(record["seq"])
            self.events.setdefault(record["seq"], record)
        return 202, {}, {"accepted": len(records)}

    def _store_chunks(self, body: Any) -> tuple[int, dict[str, str], Any]:
        chunks = body.get("chunks") if isinstance(body, dict) else None
        if not isinstance(chunks, list):
            return 422, {}, {"detail": "chunks must be a list"}
        for chunk in chunks:
            self.chunks.setdefault(chunk["index"], chunk)
        return 202, {}, {"accepted": len(chunks)}

    def _finish(self, body: Any) -> tuple[int, dict[str, str], Any]:
        if not isinstance(body, dict) or "state" not in body:
            return 422, {}, {"detail": "state is required"}
        self.finish_bodies.append(body)
        if len(self.events) < body.get("event_count", 0):
            return 409, {"Retry-After": "0"}, {"detail": "events are still being stored"}
        return 200, {}, {"state": body["state"]}


class _Handler(BaseHTTPRequestHandler):
    api: StubRunApi
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""

        match = PATH_PATTERN.match(self.path)
        if match is None or match["endpoint"] not in ENDPOINTS:
            self._answer("unknown", 404, {}, {"detail": "not found"})
            return
        endpoint = match["endpoint"]
        if match["run_id"] != self.api.run_id:
            self._answer(endpoint, 404, {}, {"detail": "run not found"})
            return
        if self.headers.get("Authorization") != f"Bearer {self.api.token}":
            self._answer(endpoint, 401, {}, {"detail": "invalid token"})
            return

        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._answer(endpoint, 400, {}, {"detail": "body is not JSON"})
            return
        status, headers, payload = self.api.handle(method, endpoint, body)
        self._answer(endpoint, status, headers, payload)

    def _answer(self, endpoint: str, status: int, headers: dict[str, str], payload: Any) -> None:
        with self.api.lock:
            self.api.calls.append((endpoint, status))
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
