"""Collection queries on /projects and /jobs: pagination, `order_by`, `search` and `field__lookup` filters.

Every query is narrowed to the rows this module creates (`name__startswith`), so rows that
other tests create in the same server do not change the counts.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import Praetor

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

PROJECT_PREFIX = "Listing "
PROJECT_NAMES = ("Listing alpha", "Listing bravo", "Listing charlie", "Listing delta", "Listing echo")
JOB_PREFIX = "Listing job "


@pytest.fixture(scope="module")
def projects(praetor: Praetor, organization: dict[str, Any]) -> list[dict[str, Any]]:
    """Five projects, created in PROJECT_NAMES order; only `Listing delta` has a description."""
    created = [praetor.create_local_project(name, organization["id"]) for name in PROJECT_NAMES]
    delta = created[3]
    created[3] = praetor.api.http.patch(
        f"/api/v1/projects/{delta['id']}", json={"description": "Contains the word NEEDLE"}
    ).json()
    return created


@pytest.fixture(scope="module")
def jobs(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> list[dict[str, Any]]:
    """Three finished jobs in launch order: `Listing job one` successful, then failed, then `Listing job two` successful."""
    inventory = praetor.inventory("three_local", organization["id"])
    first_template = praetor.create_template(
        f"{JOB_PREFIX}one", playbooks_project["id"], inventory.id, "greet.yml", limit="local-1"
    )
    second_template = praetor.create_template(
        f"{JOB_PREFIX}two", playbooks_project["id"], inventory.id, "greet.yml", limit="local-2"
    )
    launched = [
        praetor.api.launch(first_template["id"]),
        praetor.api.launch(first_template["id"], extra_vars={"should_fail": True}),
        praetor.api.launch(second_template["id"]),
    ]
    return [praetor.wait(job["id"]) for job in launched]


def project_names(api: ApiClient, **params: Any) -> list[str]:
    return [row["name"] for row in api.get("projects", name__startswith=PROJECT_PREFIX, **params)["items"]]


def job_ids(api: ApiClient, **params: Any) -> list[str]:
    return [row["id"] for row in api.get("jobs", name__startswith=JOB_PREFIX, order_by="created_at", **params)["items"]]


def test_jobs_finished_as_planned(jobs: list[dict[str, Any]]) -> None:
    assert [job["status"] for job in jobs] == ["successful", "failed", "successful"]


# Projects.


def test_projects_total(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    page = api.get("projects", name__startswith=PROJECT_PREFIX)
    assert page["total"] == len(PROJECT_NAMES)
    assert page["limit"] == 25
    assert page["offset"] == 0


def test_projects_first_page(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    page = api.get("projects", name__startswith=PROJECT_PREFIX, limit=2)
    assert page["total"] == 5
    assert page["limit"] == 2
    assert [row["name"] for row in page["items"]] == ["Listing alpha", "Listing bravo"]


def test_projects_last_page(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    page = api.get("projects", name__startswith=PROJECT_PREFIX, limit=2, offset=4)
    assert page["total"] == 5
    assert page["offset"] == 4
    assert [row["name"] for row in page["items"]] == ["Listing echo"]


def test_projects_past_last_page(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    page = api.get("projects", name__startswith=PROJECT_PREFIX, limit=2, offset=10)
    assert page["total"] == 5
    assert page["items"] == []


def test_projects_pages_cover_all(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    names = [name for offset in (0, 2, 4) for name in project_names(api, limit=2, offset=offset, order_by="-name")]
    assert names == sorted(PROJECT_NAMES, reverse=True)


def test_projects_order_by_name(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, order_by="name") == sorted(PROJECT_NAMES)


def test_projects_order_by_name_desc(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, order_by="-name") == sorted(PROJECT_NAMES, reverse=True)


def test_projects_order_by_created(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, order_by="-created_at") == list(reversed(PROJECT_NAMES))


def test_projects_search_name(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, search="CHARLIE") == ["Listing charlie"]


def test_projects_search_description(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, search="needle") == ["Listing delta"]


def test_projects_search_no_match(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, search="zulu") == []


def test_projects_search_wildcard_literal(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, search="%") == []
    assert project_names(api, search="_") == []


def test_projects_icontains(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, name__icontains="BRAVO") == ["Listing bravo"]


def test_projects_contains_case(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, name__contains="bravo") == ["Listing bravo"]
    assert project_names(api, name__contains="BRAVO") == []


def test_projects_startswith(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    page = api.get("projects", name__startswith="Listing d")
    assert [row["name"] for row in page["items"]] == ["Listing delta"]


def test_projects_startswith_case(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert api.get("projects", name__startswith="listing d")["total"] == 0


def test_projects_iexact(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, name__iexact="listing ECHO") == ["Listing echo"]


def test_projects_exact(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, name="Listing echo") == ["Listing echo"]
    assert project_names(api, name="listing echo") == []


def test_projects_name_in(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, name__in="Listing alpha,Listing echo,Listing zulu") == ["Listing alpha", "Listing echo"]


def test_projects_id_in(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    selected_ids = f"{projects[1]['id']},{projects[2]['id']}"
    assert project_names(api, id__in=selected_ids) == ["Listing bravo", "Listing charlie"]


def test_projects_created_gte(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    since = projects[2]["created_at"]
    assert project_names(api, created_at__gte=since) == ["Listing charlie", "Listing delta", "Listing echo"]


def test_projects_created_lt(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    until = projects[2]["created_at"]
    assert project_names(api, created_at__lt=until) == ["Listing alpha", "Listing bravo"]


def test_projects_created_exact(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert project_names(api, created_at=projects[1]["created_at"]) == ["Listing bravo"]


def test_projects_url_isnull(api: ApiClient, projects: list[dict[str, Any]]) -> None:
    assert len(project_names(api, scm_url__isnull="true")) == 5
    assert project_names(api, scm_url__isnull="false") == []


# Jobs.


def test_jobs_total(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert api.get("jobs", name__startswith=JOB_PREFIX)["total"] == 3


def test_jobs_pages(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    first = api.get("jobs", name__startswith=JOB_PREFIX, order_by="created_at", limit=2)
    second = api.get("jobs", name__startswith=JOB_PREFIX, order_by="created_at", limit=2, offset=2)
    assert first["total"] == 3
    assert second["total"] == 3
    assert [row["id"] for row in first["items"] + second["items"]] == [job["id"] for job in jobs]


def test_jobs_default_order_newest(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    rows = api.get("jobs", name__startswith=JOB_PREFIX)["items"]
    assert [row["id"] for row in rows] == [job["id"] for job in reversed(jobs)]


def test_jobs_order_by_name(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    rows = api.get("jobs", name__startswith=JOB_PREFIX, order_by="name")["items"]
    assert [row["name"] for row in rows] == ["Listing job one", "Listing job one", "Listing job two"]


def test_jobs_order_by_name_desc(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    rows = api.get("jobs", name__startswith=JOB_PREFIX, order_by="-name,created_at")["items"]
    assert [row["id"] for row in rows] == [jobs[2]["id"], jobs[0]["id"], jobs[1]["id"]]


def test_jobs_search(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, search="JOB TWO") == [jobs[2]["id"]]


def test_jobs_search_playbook(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, search="greet.yml") == [job["id"] for job in jobs]


def test_jobs_status_in(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, status__in="successful,failed") == [job["id"] for job in jobs]


def test_jobs_status_exact(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, status="failed") == [jobs[1]["id"]]


def test_jobs_status_in_one(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, status__in="successful") == [jobs[0]["id"], jobs[2]["id"]]


def test_jobs_failed_flag(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, failed="true") == [jobs[1]["id"]]


def test_jobs_created_gte(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, created_at__gte=jobs[1]["created_at"]) == [jobs[1]["id"], jobs[2]["id"]]


def test_jobs_run_isnull_false(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, current_run_id__isnull="false") == [job["id"] for job in jobs]


def test_jobs_run_isnull_true(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, current_run_id__isnull="true") == []


def test_jobs_by_template(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    assert job_ids(api, job_template_id=jobs[0]["job_template_id"]) == [jobs[0]["id"], jobs[1]["id"]]


def test_jobs_combined_filters(api: ApiClient, jobs: list[dict[str, Any]]) -> None:
    found = job_ids(api, status="successful", job_template_id=jobs[0]["job_template_id"], finished_at__isnull="false")
    assert found == [jobs[0]["id"]]
