"""The executor API: event batches delivered again add nothing, and only a run's own token is accepted.

The run token is signed with the key in the test server's own PRAETOR_HOME, using the server's
TokenSigner, as the scheduler does when it starts an executor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from harness import Praetor, ServerProcess

from praetor.cli.client import ApiClient
from praetor.infra.tokens import TokenSigner

pytestmark = pytest.mark.e2e

APPLY_TIMEOUT_SECONDS = 30.0


def run_token(server: ServerProcess, run_id: str) -> str:
    key = (server.home / "secret.key").read_text().strip()
    return TokenSigner(key, 3600).issue_run_token(run_id)


def as_event_record(event: dict[str, Any], stdout: str | None = None) -> dict[str, Any]:
    """Turn an event read from /api/v1 back into the record an executor sends."""
    return {
        "seq": event["seq"],
        "event_type": event["event_type"],
        "uuid": event["uuid"],
        "parent_uuid": event["parent_uuid"],
        "counter": event["counter"],
        "stdout": event["stdout"] if stdout is None else stdout,
        "start_line": event["start_line"],
        "end_line": event["end_line"],
        "event_data": event["event_data"],
    }


@pytest.fixture(scope="module")
def finished_job(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> dict[str, Any]:
    """A finished job that only this module changes."""
    inventory = praetor.inventory("three_local", organization["id"])
    template = praetor.create_template("Internal API", playbooks_project["id"], inventory.id, "greet.yml", limit="local-1")
    job = praetor.wait(praetor.api.launch(template["id"])["id"])
    assert job["status"] == "successful"
    return job


@pytest.fixture(scope="module")
def internal(server: ServerProcess, finished_job: dict[str, Any]) -> Iterator[httpx.Client]:
    """An HTTP client for /internal/api/v1/runs/{run_id} of `finished_job`, without a token."""
    with httpx.Client(base_url=f"{server.base_url}/internal/api/v1/runs/{finished_job['current_run_id']}", timeout=30) as client:
        yield client


def wait_for_event_total(api: ApiClient, job_id: str, total: int) -> int:
    deadline = time.monotonic() + APPLY_TIMEOUT_SECONDS
    while True:
        current = api.get(f"jobs/{job_id}/events", limit=1)["total"]
        if current == total or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


def test_duplicate_events_ignored(
    api: ApiClient, server: ServerProcess, finished_job: dict[str, Any], internal: httpx.Client
) -> None:
    job_id = finished_job["id"]
    run_id = finished_job["current_run_id"]
    headers = {"Authorization": f"Bearer {run_token(server, run_id)}"}
    events = api.all_events(job_id)
    summaries_before = api.get(f"jobs/{job_id}/hosts")["items"]
    count = len(events)
    assert count == api.get(f"runs/{run_id}")["event_count"]

    # The first events and the closing playbook_on_stats, with their stdout altered.
    replayed = [as_event_record(event, stdout="replayed") for event in (*events[:3], events[-1])]
    for _ in range(2):
        response = internal.post("/events", json={"events": replayed}, headers=headers)
        assert response.status_code == 202
        assert response.json() == {"accepted": len(replayed)}

    # One new event after the replays: once it is applied, the replays before it are too.
    marker = {"seq": count + 1, "event_type": "verbose", "stdout": "marker after the replays", "event_data": {}}
    assert internal.post("/events", json={"events": [marker]}, headers=headers).status_code == 202
    assert wait_for_event_total(api, job_id, count + 1) == count + 1

    after = api.all_events(job_id)
    assert [event["seq"] for event in after] == list(range(1, count + 2))
    assert [event["stdout"] for event in after[:count]] == [event["stdout"] for event in events]
    assert api.get(f"jobs/{job_id}/hosts")["items"] == summaries_before


def test_internal_user_token(api: ApiClient, internal: httpx.Client) -> None:
    response = internal.get("/manifest", headers={"Authorization": api.http.headers["Authorization"]})
    assert response.status_code == 403


def test_internal_no_token(internal: httpx.Client) -> None:
    response = internal.post("/events", json={"events": []})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_internal_bad_token(internal: httpx.Client) -> None:
    response = internal.get("/manifest", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


def test_internal_other_run_token(server: ServerProcess, internal: httpx.Client) -> None:
    token = run_token(server, "00000000-0000-4000-8000-000000000000")
    response = internal.get("/manifest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_internal_run_token_reads(server: ServerProcess, finished_job: dict[str, Any], internal: httpx.Client) -> None:
    token = run_token(server, finished_job["current_run_id"])
    response = internal.get("/manifest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["playbook"] == "greet.yml"


def test_run_token_on_user_api(server: ServerProcess, finished_job: dict[str, Any]) -> None:
    token = run_token(server, finished_job["current_run_id"])
    response = httpx.get(f"{server.base_url}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
