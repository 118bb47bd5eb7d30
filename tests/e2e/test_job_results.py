"""Job status, exit code and per-host summaries of real playbook runs, read through the API."""

from __future__ import annotations

from typing import Any

import pytest
from expected import CHANGES_A_FILE, EVERY_RESULT_KIND, PLAYBOOK_CASES, UNREACHABLE, PlaybookCase
from harness import Praetor, ServerProcess

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

CASES = [pytest.param(case, id=case.id) for case in PLAYBOOK_CASES]


@pytest.fixture(scope="module")
def finished_jobs(praetor: Praetor, scenario_jobs: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {case_id: praetor.wait(job_id) for case_id, job_id in scenario_jobs.items()}


@pytest.mark.parametrize("case", CASES)
def test_job_status(case: PlaybookCase, finished_jobs: dict[str, dict[str, Any]]) -> None:
    assert finished_jobs[case.id]["status"] == case.status


@pytest.mark.parametrize("case", CASES)
def test_run_exit_code(case: PlaybookCase, finished_jobs: dict[str, dict[str, Any]], api: ApiClient) -> None:
    run = api.get(f"runs/{finished_jobs[case.id]['current_run_id']}")
    assert run["exit_code"] == case.exit_code


@pytest.mark.parametrize("case", CASES)
def test_host_summaries(case: PlaybookCase, finished_jobs: dict[str, dict[str, Any]], praetor: Praetor) -> None:
    expected = [host.as_api_row() for host in sorted(case.hosts, key=lambda host: host.host)]
    assert praetor.host_summaries(finished_jobs[case.id]["id"]) == expected


@pytest.mark.parametrize("case", CASES)
def test_job_failed_flag(case: PlaybookCase, finished_jobs: dict[str, dict[str, Any]]) -> None:
    assert finished_jobs[case.id]["failed"] is (case.status == "failed")


def test_successful_job_fields(finished_jobs: dict[str, dict[str, Any]]) -> None:
    job = finished_jobs[CHANGES_A_FILE.id]
    assert job["current_run_id"] is not None
    assert job["started_at"] is not None
    assert job["finished_at"] is not None
    assert job["started_at"] <= job["finished_at"]
    assert job["cancel_requested"] is False


def test_successful_run_fields(finished_jobs: dict[str, dict[str, Any]], api: ApiClient) -> None:
    job = finished_jobs[CHANGES_A_FILE.id]
    run = api.get(f"runs/{job['current_run_id']}")
    assert run["state"] == "successful"
    assert run["attempt_number"] == 1
    assert run["execution_pool_id"]
    assert run["exit_code"] == 0
    assert run["job_id"] == job["id"]
    assert run["error_reason"] is None
    assert run["started_at"] is not None
    assert run["finished_at"] is not None


def test_successful_job_one_run(finished_jobs: dict[str, dict[str, Any]], api: ApiClient) -> None:
    job = finished_jobs[CHANGES_A_FILE.id]
    runs = api.get("runs", job_id=job["id"])
    assert runs["total"] == 1
    assert runs["items"][0]["id"] == job["current_run_id"]


def test_copy_wrote_files(finished_jobs: dict[str, dict[str, Any]], server: ServerProcess) -> None:
    assert finished_jobs[CHANGES_A_FILE.id]["status"] == "successful"
    for host in CHANGES_A_FILE.hosts:
        assert (server.scratch_dir / f"praetor-e2e-{host.host}.txt").is_file(), host.host


# An event counts as failed when its task failed without `ignore_errors`, also when a rescue
# section recovered from the failure.
FAILED_EVENTS = [
    pytest.param(
        EVERY_RESULT_KIND.id,
        [
            ("fragile-1", "Fail inside the block", "runner_on_failed"),
            ("fragile-1", "Fail on breakable hosts", "runner_on_failed"),
            ("stable-1", "Fail inside the block", "runner_on_failed"),
            ("stable-2", "Fail inside the block", "runner_on_failed"),
        ],
        id=EVERY_RESULT_KIND.id,
    ),
    pytest.param(UNREACHABLE.id, [("unreachable-1", "Ping", "runner_on_unreachable")], id=UNREACHABLE.id),
    pytest.param(CHANGES_A_FILE.id, [], id=CHANGES_A_FILE.id),
]


@pytest.mark.parametrize("case_id, expected", FAILED_EVENTS)
def test_failed_events(
    case_id: str, expected: list[tuple[str, str, str]], finished_jobs: dict[str, dict[str, Any]], api: ApiClient
) -> None:
    rows = api.get(f"jobs/{finished_jobs[case_id]['id']}/events", failed="true", limit=100)["items"]
    assert sorted((row["host"], row["task"], row["event_type"]) for row in rows) == expected
