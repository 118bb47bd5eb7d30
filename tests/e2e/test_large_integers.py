"""Integers beyond the 64-bit range, which JSON allows and Python keeps exact.

These tests use servers of their own, because a value the server cannot store may stop its
projections, and later tests on the shared server would then fail for that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import Praetor, own_server

pytestmark = pytest.mark.e2e

# 2**70 + 1 has no exact float, so a value that passed through a float compares unequal.
LARGE_INTEGER = 2**70 + 1
# Normal requests take well under a second; a stalled projection makes the server wait 30 s.
REQUEST_TIMEOUT_SECONDS = 10.0
JOB_TIMEOUT_SECONDS = 30.0


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Praetor]:
    with own_server(tmp_path, REQUEST_TIMEOUT_SECONDS) as praetor:
        yield praetor


def test_large_integer_variable(fresh_server: Praetor) -> None:
    api = fresh_server.api
    organization = fresh_server.create_organization("Large integers")
    body = {"name": "Large variable", "organization_id": organization["id"], "variables": {"big": LARGE_INTEGER}}
    try:
        response = api.http.post("/api/v1/inventories", json=body)
    except httpx.TimeoutException:
        pytest.fail(f"POST /inventories with a variable of {LARGE_INTEGER} got no response within {REQUEST_TIMEOUT_SECONDS} s")

    # Storing the value exactly and rejecting it with a message are both correct.
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert response.json()["variables"] == {"big": LARGE_INTEGER}
    else:
        assert "variables" in response.json()["detail"]


def test_server_writes_after_large_integer(fresh_server: Praetor) -> None:
    api = fresh_server.api
    organization = fresh_server.create_organization("Large integers")
    body = {"name": "Large variable", "organization_id": organization["id"], "variables": {"big": LARGE_INTEGER}}
    # test_large_integer_variable checks this response; here only its effect on later writes matters.
    try:
        api.http.post("/api/v1/inventories", json=body)
    except httpx.TimeoutException:
        pass

    try:
        response = api.http.post("/api/v1/organizations", json={"name": "Written afterwards"})
    except httpx.TimeoutException:
        pytest.fail(f"POST /organizations got no response within {REQUEST_TIMEOUT_SECONDS} s after the large variable")
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def large_integer_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Praetor, dict[str, Any]]]:
    """A server of its own, and a job of large_integer.yml on it once the job finished or timed out."""
    with own_server(tmp_path_factory.mktemp("large-integer-run"), REQUEST_TIMEOUT_SECONDS) as praetor:
        organization = praetor.create_organization("Large integers")
        project = praetor.create_local_project("Large integer playbooks", organization["id"])
        inventory = praetor.create_inventory("three_local", organization["id"])
        template = praetor.create_template("Large integer", project["id"], inventory.id, "large_integer.yml", limit="local-1")
        job = praetor.api.launch(template["id"])
        try:
            job = praetor.wait(job["id"], timeout=JOB_TIMEOUT_SECONDS)
        except TimeoutError:
            job = praetor.api.get(f"jobs/{job['id']}")
        yield praetor, job


def test_large_integer_job(large_integer_run: tuple[Praetor, dict[str, Any]]) -> None:
    praetor, job = large_integer_run
    assert job["status"] == "successful", praetor.server.log_tail(20)


def test_large_integer_in_log(large_integer_run: tuple[Praetor, dict[str, Any]]) -> None:
    praetor, job = large_integer_run
    assert str(LARGE_INTEGER) in praetor.api.logs(job["id"])


def test_large_integer_event_exact(large_integer_run: tuple[Praetor, dict[str, Any]]) -> None:
    praetor, job = large_integer_run
    results = praetor.api.get(f"jobs/{job['id']}/events", event_type="runner_on_ok", limit=10)["items"]
    assert [event["event_data"]["res"]["msg"] for event in results] == [LARGE_INTEGER]
