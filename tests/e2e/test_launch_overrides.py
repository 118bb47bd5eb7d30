"""Launch-time `extra_vars` and `limit`, relaunching a job, and which inventory data reaches Ansible."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Praetor

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

GREETING = "Grüß Gott from the launch"


@pytest.fixture(scope="module")
def greet_template(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> dict[str, Any]:
    inventory = praetor.inventory("three_local", organization["id"])
    return praetor.create_template(
        "Greet with overrides",
        playbooks_project["id"],
        inventory.id,
        "greet.yml",
        extra_vars={"greeting": "from the template", "kept": "template value"},
    )


@pytest.fixture(scope="module")
def limited_job(praetor: Praetor, greet_template: dict[str, Any]) -> dict[str, Any]:
    launched = praetor.api.launch(greet_template["id"], extra_vars={"greeting": GREETING}, limit="local-2")
    return praetor.wait(launched["id"])


@pytest.fixture(scope="module")
def relaunched(praetor: Praetor, limited_job: dict[str, Any]) -> dict[str, Any]:
    """The response of POST /jobs/{id}/relaunch, and the new job once it finished."""
    response = praetor.api.http.post(f"/api/v1/jobs/{limited_job['id']}/relaunch")
    created = response.json()
    finished = praetor.wait(created["id"]) if response.status_code == 201 else None
    return {"status_code": response.status_code, "created": created, "finished": finished}


def test_limited_job_successful(limited_job: dict[str, Any]) -> None:
    assert limited_job["status"] == "successful"


def test_limited_job_fields(limited_job: dict[str, Any]) -> None:
    assert limited_job["limit"] == "local-2"
    assert limited_job["extra_vars"] == {"greeting": GREETING, "kept": "template value"}


def test_limit_selects_one_host(praetor: Praetor, limited_job: dict[str, Any]) -> None:
    assert [row["host"] for row in praetor.host_summaries(limited_job["id"])] == ["local-2"]


def test_extra_var_in_output(api: ApiClient, limited_job: dict[str, Any]) -> None:
    assert f"greeting={GREETING} on local-2" in api.logs(limited_job["id"])


def test_limit_to_group(praetor: Praetor, greet_template: dict[str, Any]) -> None:
    job = praetor.wait(praetor.api.launch(greet_template["id"], limit="first_two:!local-1")["id"])
    assert job["status"] == "successful"
    assert [row["host"] for row in praetor.host_summaries(job["id"])] == ["local-2"]


def test_template_defaults_apply(praetor: Praetor, greet_template: dict[str, Any]) -> None:
    job = praetor.wait(praetor.api.launch(greet_template["id"])["id"])
    assert job["status"] == "successful"
    assert job["extra_vars"] == {"greeting": "from the template", "kept": "template value"}
    assert [row["host"] for row in praetor.host_summaries(job["id"])] == ["local-1", "local-2", "local-3"]


def test_relaunch_created(relaunched: dict[str, Any], limited_job: dict[str, Any]) -> None:
    assert relaunched["status_code"] == 201
    assert relaunched["created"]["id"] != limited_job["id"]
    assert relaunched["created"]["relaunch_of"] == limited_job["id"]


@pytest.mark.parametrize("name", ["playbook", "limit", "extra_vars", "job_template_id", "inventory_id", "project_id", "forks"])
def test_relaunch_same_parameter(relaunched: dict[str, Any], limited_job: dict[str, Any], name: str) -> None:
    assert relaunched["created"][name] == limited_job[name]


def test_relaunch_successful(relaunched: dict[str, Any]) -> None:
    assert relaunched["finished"]["status"] == "successful"


def test_relaunch_new_run(api: ApiClient, relaunched: dict[str, Any], limited_job: dict[str, Any]) -> None:
    run = api.get(f"runs/{relaunched['finished']['current_run_id']}")
    assert run["id"] != limited_job["current_run_id"]
    assert run["attempt_number"] == 1
    assert run["state"] == "successful"


def test_relaunch_same_output(praetor: Praetor, relaunched: dict[str, Any]) -> None:
    job_id = relaunched["finished"]["id"]
    assert [row["host"] for row in praetor.host_summaries(job_id)] == ["local-2"]
    assert f"greeting={GREETING} on local-2" in praetor.api.logs(job_id)


def test_original_unchanged(api: ApiClient, limited_job: dict[str, Any], relaunched: dict[str, Any]) -> None:
    assert api.get(f"jobs/{limited_job['id']}") == limited_job


def test_inventory_variable_levels(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> None:
    inventory = praetor.inventory("layered_vars", organization["id"])
    template = praetor.create_template("Layered variables", playbooks_project["id"], inventory.id, "greet.yml")
    job = praetor.wait(praetor.api.launch(template["id"])["id"])
    log = praetor.api.logs(job["id"])
    assert job["status"] == "successful"
    assert "greeting=from-inventory on plain-1" in log
    assert "greeting=from-group on grouped-1" in log
    assert "greeting=from-host on own-value-1" in log


@pytest.fixture(scope="module")
def partly_disabled_template(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> dict[str, Any]:
    """A template of greet.yml on a fresh copy of three_local whose host local-3 is disabled."""
    inventory = praetor.create_inventory("three_local", organization["id"])
    praetor.api.http.patch(f"/api/v1/hosts/{inventory.host_ids['local-3']}", json={"enabled": False}).raise_for_status()
    return praetor.create_template("Disabled host", playbooks_project["id"], inventory.id, "greet.yml")


def test_disabled_host_left_out(praetor: Praetor, partly_disabled_template: dict[str, Any]) -> None:
    job = praetor.wait(praetor.api.launch(partly_disabled_template["id"])["id"])
    assert job["status"] == "successful"
    assert [row["host"] for row in praetor.host_summaries(job["id"])] == ["local-1", "local-2"]


def test_limit_to_disabled_host(praetor: Praetor, partly_disabled_template: dict[str, Any]) -> None:
    before = praetor.total("jobs")
    response = praetor.api.http.post(f"/api/v1/job-templates/{partly_disabled_template['id']}/launch", json={"limit": "local-3"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("limit:")
    assert praetor.total("jobs") == before
