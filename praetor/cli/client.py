"""A small HTTP client for `/api/v1`, used by the demo and the end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

FINISHED_STATUSES = frozenset({"successful", "failed", "error", "canceled"})


class ApiClient:
    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def sign_in(self, username: str, password: str) -> None:
        response = self.http.post("/api/v1/auth/token", json={"username": username, "password": password})
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def wait_until_up(self, timeout: float = 60.0, *, server_alive: Callable[[], bool] | None = None) -> None:
        """Wait for /api/v1/ping; with `server_alive`, fail at once when the server process ended."""
        deadline = time.monotonic() + timeout
        while True:
            if server_alive is not None and not server_alive():
                raise RuntimeError(f"the server for {self.base_url} exited before it responded to /api/v1/ping")
            try:
                if self.http.get("/api/v1/ping").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.base_url} did not respond to /api/v1/ping within {timeout} s")
            time.sleep(0.2)

    def create(self, collection: str, **fields: Any) -> dict[str, Any]:
        return self._checked(self.http.post(f"/api/v1/{collection}", json=fields), 201)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._checked(self.http.get(f"/api/v1/{path}", params=params), 200)

    def post(self, path: str, body: dict[str, Any] | None = None, expected: int = 201) -> dict[str, Any]:
        return self._checked(self.http.post(f"/api/v1/{path}", json=body or {}), expected)

    def launch(self, template_id: str, **body: Any) -> dict[str, Any]:
        return self.post(f"job-templates/{template_id}/launch", body)

    def logs(self, job_id: str, *, ansi: bool = False) -> str:
        response = self.http.get(f"/api/v1/jobs/{job_id}/logs", params={"format": "ansi"} if ansi else None)
        response.raise_for_status()
        return response.text

    def all_events(self, job_id: str) -> list[dict[str, Any]]:
        return list(self.iter_events(job_id, after_seq=0))

    def iter_events(self, job_id: str, *, after_seq: int) -> Iterator[dict[str, Any]]:
        """Yield the job's stored events with seq above `after_seq`, in seq order."""
        while True:
            page = self.get(f"jobs/{job_id}/events", seq__gt=after_seq, order_by="seq", limit=1000)
            yield from page["items"]
            if len(page["items"]) < page["limit"]:
                return
            after_seq = page["items"][-1]["seq"]

    def wait_for_job(self, job_id: str, timeout: float = 300.0, *, statuses: frozenset[str] = FINISHED_STATUSES) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"jobs/{job_id}")
            if job["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job['status']} after {timeout} s")
            time.sleep(0.25)

    @staticmethod
    def _checked(response: httpx.Response, expected: int) -> dict[str, Any]:
        if response.status_code != expected:
            raise AssertionError(
                f"{response.request.method} {response.request.url} returned {response.status_code}, "
                f"expected {expected}: {response.text}"
            )
        return response.json()
