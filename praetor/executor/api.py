"""HTTP client for the internal run API that one executor talks to.

Every call is scoped to one run and authenticated with the run's bearer token. Calls that
change server state are idempotent on the server, so the client resends them after connection
errors, 5xx, 429 and (where the endpoint uses it for "not yet") 409.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.retry import Backoff
from praetor.executor.sink import RetryAborted, SinkRejectedError

logger = logging.getLogger(__name__)

# The manifest and start requests are retried for up to this long.
SETUP_DEADLINE_SECONDS = 60.0
FINISH_DEADLINE_SECONDS = 300.0
CONTROL_TIMEOUT_SECONDS = 5.0
MAX_RETRY_AFTER_SECONDS = 30.0
ERROR_BODY_LIMIT = 2000


class RunApiError(SinkRejectedError):
    """A request that the API rejected with a status that resending cannot fix."""

    def __init__(self, request_name: str, status_code: int, body: str) -> None:
        super().__init__(f"{request_name} was rejected with HTTP {status_code}: {body}")
        self.request_name = request_name
        self.status_code = status_code
        self.body = body


class ApiUnavailableError(Exception):
    """The API did not accept a request before the call's deadline."""


class RunApiClient:
    """Client for `{api_url}/internal/api/v1/runs/{run_id}/…`, and the executor's HTTP event sink.

    The executor's threads share one httpx client, because httpx clients are safe to use
    from several threads at once.
    """

    def __init__(
        self,
        api_url: str,
        run_id: str,
        token: str,
        log_context: RunLogContext,
        *,
        backoff: Backoff | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        self.run_id = run_id
        self._backoff = backoff or Backoff()
        self._log = RunLogAdapter(logger, log_context)
        self._http = httpx.Client(
            base_url=f"{api_url.rstrip('/')}/internal/api/v1/runs/{run_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(request_timeout, connect=5.0),
        )

    def close(self) -> None:
        self._http.close()

    def get_manifest(self) -> dict[str, Any]:
        response = self._send_with_retry("GET", "/manifest", request_name="manifest request", deadline_seconds=SETUP_DEADLINE_SECONDS)
        try:
            return response.json()
        except ValueError as error:
            raise RunApiError("manifest request", response.status_code, "response body is not JSON") from error

    def start(self) -> None:
        self._send_with_retry("POST", "/start", json_body={}, request_name="start request", deadline_seconds=SETUP_DEADLINE_SECONDS)

    def send_events(self, encoded_records: Iterable[bytes], *, abort: threading.Event | None = None) -> None:
        """Send records that are already JSON-encoded (spool lines), retrying until accepted or aborted."""
        body = b'{"events":[' + b",".join(line.rstrip(b"\n") for line in encoded_records) + b"]}"
        self._send_with_retry("POST", "/events", raw_json=body, request_name="events batch", retry_conflict=True, abort=abort)

    def send_log_chunks(self, chunks: list[Mapping[str, Any]], *, abort: threading.Event | None = None) -> None:
        self._send_with_retry(
            "POST", "/log-chunks", json_body={"chunks": chunks}, request_name="log chunk announcement", retry_conflict=True, abort=abort
        )

    def get_cancel_requested(self) -> bool:
        """Fetch the run's control flags once, without retrying. Errors propagate to the caller."""
        response = self._http.get("/control", timeout=CONTROL_TIMEOUT_SECONDS)
        response.raise_for_status()
        return bool(response.json().get("cancel_requested", False))

    def finish(self, body: Mapping[str, Any], *, deadline_seconds: float = FINISH_DEADLINE_SECONDS) -> None:
        """Report the run's result, retrying 409, which means the server is still storing events."""
        self._send_with_retry(
            "POST", "/finish", json_body=dict(body), request_name="finish request", retry_conflict=True, deadline_seconds=deadline_seconds
        )

    def _send_with_retry(
        self,
        method: str,
        path: str,
        *,
        request_name: str,
        json_body: Any = None,
        raw_json: bytes | None = None,
        retry_conflict: bool = False,
        deadline_seconds: float | None = None,
        abort: threading.Event | None = None,
    ) -> httpx.Response:
        """Send one request until it gets a 2xx, raising RunApiError on a final 4xx.

        With `deadline_seconds` None the request is retried without limit, until `abort` is set.
        """
        deadline = None if deadline_seconds is None else time.monotonic() + deadline_seconds
        delays = self._backoff.delays()
        attempt = 0

        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._send(method, path, json_body, raw_json)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if status < 300:
                    if attempt > 1:
                        self._log.info("%s accepted after %d attempts", request_name, attempt)
                    return response

                retryable = status >= 500 or status == 429 or (status == 409 and retry_conflict)
                if not retryable:
                    body = response.text[:ERROR_BODY_LIMIT]
                    self._log.error("%s was rejected with HTTP %d: %s", request_name, status, body)
                    raise RunApiError(request_name, status, body)
                problem = f"HTTP {status}"
                retry_after = _parse_retry_after(response.headers.get("Retry-After"))

            delay = next(delays) if retry_after is None else retry_after
            if deadline is not None and time.monotonic() + delay > deadline:
                self._log.error("%s failed after %d attempts, giving up: %s", request_name, attempt, problem)
                raise ApiUnavailableError(f"{request_name} failed after {attempt} attempts: {problem}")

            self._log.warning("%s failed (attempt %d): %s; retrying in %.1f s", request_name, attempt, problem, delay)
            if abort is None:
                time.sleep(delay)
            elif abort.wait(delay):
                raise RetryAborted(f"{request_name} retries aborted after {attempt} attempts")

    def _send(self, method: str, path: str, json_body: Any, raw_json: bytes | None) -> httpx.Response:
        if raw_json is not None:
            return self._http.request(method, path, content=raw_json, headers={"Content-Type": "application/json"})
        if json_body is not None:
            return self._http.request(method, path, json=json_body)
        return self._http.request(method, path)


def _parse_retry_after(value: str | None) -> float | None:
    # NOTE: only the delay-seconds form of Retry-After is read. An HTTP-date falls back to the backoff.
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
