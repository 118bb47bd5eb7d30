"""Stopping jobs: canceling a running playbook, a job that has not started and a finished job, and a run timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest
from harness import Praetor

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

# sleep.yml runs this command; the odd duration keeps it apart from any other sleep.
SLEEP_COMMAND = ["sleep", "287"]
CANCEL_TIMEOUT_SECONDS = 30.0
PROCESS_TIMEOUT_SECONDS = 60.0


def sleep_processes(root_pid: int | None = None) -> list[psutil.Process]:
    """Return the live processes running SLEEP_COMMAND, below `root_pid` or anywhere when it is None."""
    if root_pid is None:
        candidates = list(psutil.process_iter())
    else:
        try:
            candidates = psutil.Process(root_pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
    found = []
    for process in candidates:
        try:
            if process.cmdline() == SLEEP_COMMAND and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def is_alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(condition: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def sleep_template(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> dict[str, Any]:
    inventory = praetor.inventory("three_local", organization["id"])
    return praetor.create_template("Sleep", playbooks_project["id"], inventory.id, "sleep.yml", limit="local-1")


@pytest.fixture(scope="module")
def canceled_running_job(praetor: Praetor, sleep_template: dict[str, Any]) -> dict[str, Any]:
    """Launch sleep.yml, wait until the sleep runs, cancel the job and return the cancel response."""
    api = praetor.api
    job = api.launch(sleep_template["id"])
    api.wait_for_job(job["id"], timeout=PROCESS_TIMEOUT_SECONDS, statuses=frozenset({"running"}))
    sleepers = wait_until(
        lambda: sleep_processes(praetor.server.process.pid), PROCESS_TIMEOUT_SECONDS, "the sleep process did not start"
    )
    response = api.http.post(f"/api/v1/jobs/{job['id']}/cancel")
    return {"job_id": job["id"], "status_code": response.status_code, "body": response.json(), "sleepers": sleepers}


def test_cancel_running_accepted(canceled_running_job: dict[str, Any]) -> None:
    assert canceled_running_job["status_code"] == 202
    assert canceled_running_job["body"]["cancel_requested"] is True


def test_cancel_running_ends_canceled(praetor: Praetor, canceled_running_job: dict[str, Any]) -> None:
    job = praetor.wait(canceled_running_job["job_id"], timeout=CANCEL_TIMEOUT_SECONDS)
    assert job["status"] == "canceled"
    assert job["failed"] is False


def test_cancel_running_run_state(praetor: Praetor, canceled_running_job: dict[str, Any]) -> None:
    job = praetor.wait(canceled_running_job["job_id"], timeout=CANCEL_TIMEOUT_SECONDS)
    run = praetor.api.get(f"runs/{job['current_run_id']}")
    assert run["state"] == "canceled"
    assert run["finished_at"] is not None


def test_cancel_running_kills_sleep(praetor: Praetor, canceled_running_job: dict[str, Any]) -> None:
    praetor.wait(canceled_running_job["job_id"], timeout=CANCEL_TIMEOUT_SECONDS)
    sleepers = canceled_running_job["sleepers"]
    wait_until(lambda: not any(is_alive(process) for process in sleepers), 5.0, "the job's `sleep 287` is still running")
    wait_until(lambda: not sleep_processes(), 5.0, "a `sleep 287` process is still running")


def test_cancel_before_start(praetor: Praetor, sleep_template: dict[str, Any]) -> None:
    api = praetor.api
    job = api.launch(sleep_template["id"])
    response = api.http.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    # A pending job is canceled at once. A job the scheduler already picked up is waiting, and
    # its executor stops before Ansible starts.
    assert response.json()["status"] in ("canceled", "waiting")

    finished = praetor.wait(job["id"], timeout=CANCEL_TIMEOUT_SECONDS)
    assert finished["status"] == "canceled"
    if finished["current_run_id"] is not None:
        assert api.get(f"runs/{finished['current_run_id']}")["state"] == "canceled"
    wait_until(lambda: not sleep_processes(), 5.0, "a `sleep 287` process is still running")


def test_cancel_finished_conflict(praetor: Praetor, canceled_running_job: dict[str, Any]) -> None:
    job = praetor.wait(canceled_running_job["job_id"], timeout=CANCEL_TIMEOUT_SECONDS)
    response = praetor.api.http.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 409
    assert "already finished" in response.json()["detail"]


def test_cancel_unknown_job(api: ApiClient) -> None:
    response = api.http.post("/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel")
    assert response.status_code == 404


def test_timeout_stops_run(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> None:
    inventory = praetor.inventory("three_local", organization["id"])
    template = praetor.create_template(
        "Sleep past the timeout", playbooks_project["id"], inventory.id, "sleep.yml", limit="local-1", timeout_seconds=3
    )
    job = praetor.wait(praetor.api.launch(template["id"])["id"], timeout=CANCEL_TIMEOUT_SECONDS)
    run = praetor.api.get(f"runs/{job['current_run_id']}")
    assert job["status"] == "failed"
    assert run["state"] == "failed"
    assert run["error_reason"] == "timed out after 3 s"
    wait_until(lambda: not sleep_processes(), 5.0, "a `sleep 287` process is still running")
