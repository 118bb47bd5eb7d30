"""Invalid requests: each gets a 4xx `{"detail": ...}` that names what is wrong, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from harness import Praetor, ServerProcess

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Ids:
    """Ids of valid resources that the invalid requests refer to."""

    organization: str
    project: str
    inventory: str
    other_inventory_host: str
    empty_inventory_template: str
    template: str
    projects_root: str
    project_path: str


@dataclass(frozen=True)
class BadRequest:
    method: str
    path: Callable[[Ids], str]
    status: int
    detail_contains: str
    body: Callable[[Ids], Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    # Collections whose total must be the same after the request.
    unchanged: tuple[str, ...] = ()


def valid_project(ids: Ids, **changes: Any) -> dict[str, Any]:
    return {"name": "Rejected project", "organization_id": ids.organization, "scm_type": "local",
            "local_path": ids.project_path, **changes}


def valid_template(ids: Ids, **changes: Any) -> dict[str, Any]:
    return {"name": "Rejected template", "project_id": ids.project, "inventory_id": ids.inventory,
            "playbook": "greet.yml", **changes}


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


CREATE_CASES = [
    pytest.param(
        BadRequest("POST", lambda ids: "organizations", 422, "name", body=lambda ids: {"description": "no name"},
                   unchanged=("organizations",)),
        id="organization-missing-name",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "organizations", 422, "name", body=lambda ids: {"name": ""},
                   unchanged=("organizations",)),
        id="organization-empty-name",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "organizations", 422, "colour", body=lambda ids: {"name": "Red", "colour": "red"},
                   unchanged=("organizations",)),
        id="organization-unknown-field",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 422, "forks", body=lambda ids: valid_template(ids, forks="many"),
                   unchanged=("job-templates",)),
        id="template-forks-text",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 422, "forks", body=lambda ids: valid_template(ids, forks=-1),
                   unchanged=("job-templates",)),
        id="template-forks-negative",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 422, "extra_vars",
                   body=lambda ids: valid_template(ids, extra_vars=["not", "a", "mapping"]), unchanged=("job-templates",)),
        id="template-extra-vars-list",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 422, "playbook", body=lambda ids: without(valid_template(ids), "playbook"),
                   unchanged=("job-templates",)),
        id="template-missing-playbook",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 422, "scm_type", body=lambda ids: valid_project(ids, scm_type="svn"),
                   unchanged=("projects",)),
        id="project-unknown-scm-type",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 422, "organization_id",
                   body=lambda ids: valid_project(ids, organization_id="not-a-uuid"), unchanged=("projects",)),
        id="project-organization-not-uuid",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 400, "organization_id",
                   body=lambda ids: valid_project(ids, organization_id=UNKNOWN_ID), unchanged=("projects",)),
        id="project-unknown-organization",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "inventories", 400, "organization_id",
                   body=lambda ids: {"name": "Rejected inventory", "organization_id": UNKNOWN_ID}, unchanged=("inventories",)),
        id="inventory-unknown-organization",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "hosts", 400, "inventory_id",
                   body=lambda ids: {"name": "rejected-host", "inventory_id": UNKNOWN_ID}),
        id="host-unknown-inventory",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "hosts", 409, "local-1",
                   body=lambda ids: {"name": "local-1", "inventory_id": ids.inventory}),
        id="host-duplicate-name",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "hosts", 409, "first_two",
                   body=lambda ids: {"name": "first_two", "inventory_id": ids.inventory}),
        id="host-named-like-group",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 400, "project_id",
                   body=lambda ids: valid_template(ids, project_id=UNKNOWN_ID), unchanged=("job-templates",)),
        id="template-unknown-project",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 400, "inventory_id",
                   body=lambda ids: valid_template(ids, inventory_id=UNKNOWN_ID), unchanged=("job-templates",)),
        id="template-unknown-inventory",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "jobs", 400, "job_template_id", body=lambda ids: {"job_template_id": UNKNOWN_ID},
                   unchanged=("jobs",)),
        id="job-unknown-template",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"job-templates/{UNKNOWN_ID}/launch", 404, "was not found", body=lambda ids: {},
                   unchanged=("jobs",)),
        id="launch-unknown-template",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 400, "local_path", body=lambda ids: valid_project(ids, local_path="/etc"),
                   unchanged=("projects",)),
        id="project-path-outside-root",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 400, "local_path",
                   body=lambda ids: valid_project(ids, local_path=f"{ids.projects_root}/../.."), unchanged=("projects",)),
        id="project-path-escapes-root",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 400, "local_path",
                   body=lambda ids: valid_project(ids, local_path=f"{ids.projects_root}/no-such-folder"), unchanged=("projects",)),
        id="project-path-missing",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "projects", 400, "local_path", body=lambda ids: without(valid_project(ids), "local_path"),
                   unchanged=("projects",)),
        id="project-path-not-given",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 400, "playbook",
                   body=lambda ids: valid_template(ids, playbook="no_such_playbook.yml"), unchanged=("job-templates",)),
        id="template-playbook-missing",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: "job-templates", 400, "playbook",
                   body=lambda ids: valid_template(ids, playbook="../inventories/three_local.yml"), unchanged=("job-templates",)),
        id="template-playbook-outside",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"job-templates/{ids.template}/launch", 400, "limit",
                   body=lambda ids: {"limit": "no-such-host"}, unchanged=("jobs",)),
        id="launch-limit-no-match",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"job-templates/{ids.template}/launch", 400, "limit",
                   body=lambda ids: {"limit": "local-*:!local-*"}, unchanged=("jobs",)),
        id="launch-limit-excludes-all",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"job-templates/{ids.empty_inventory_template}/launch", 400, "inventory_id",
                   body=lambda ids: {}, unchanged=("jobs",)),
        id="launch-inventory-without-hosts",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"job-templates/{ids.template}/launch", 422, "limits",
                   body=lambda ids: {"limits": "local-1"}, unchanged=("jobs",)),
        id="launch-unknown-field",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"job-templates/{ids.template}/launch", 422, "extra_vars",
                   body=lambda ids: {"extra_vars": "greeting=hello"}, unchanged=("jobs",)),
        id="launch-extra-vars-text",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"jobs/{UNKNOWN_ID}/relaunch", 404, "was not found", unchanged=("jobs",)),
        id="relaunch-unknown-job",
    ),
    pytest.param(
        BadRequest("POST", lambda ids: f"groups/{UNKNOWN_ID}/hosts", 404, "was not found",
                   body=lambda ids: {"host_id": ids.other_inventory_host}),
        id="membership-unknown-group",
    ),
]

LIST_CASES = [
    pytest.param(BadRequest("GET", lambda ids: "projects", 400, "nosuchfield", params={"nosuchfield": "1"}), id="unknown-filter"),
    pytest.param(BadRequest("GET", lambda ids: "jobs", 400, "regex", params={"name__regex": "x"}), id="unknown-lookup"),
    pytest.param(BadRequest("GET", lambda ids: "projects", 400, "order_by", params={"order_by": "colour"}), id="unknown-order"),
    pytest.param(BadRequest("GET", lambda ids: "jobs", 400, "order_by", params={"order_by": "-colour"}), id="unknown-order-desc"),
    pytest.param(BadRequest("GET", lambda ids: "projects", 400, "limit", params={"limit": "many"}), id="limit-text"),
    pytest.param(BadRequest("GET", lambda ids: "projects", 400, "limit", params={"limit": "0"}), id="limit-zero"),
    pytest.param(BadRequest("GET", lambda ids: "projects", 400, "limit", params={"limit": "100000"}), id="limit-too-large"),
    pytest.param(BadRequest("GET", lambda ids: "projects", 400, "offset", params={"offset": "-1"}), id="offset-negative"),
    pytest.param(
        BadRequest("GET", lambda ids: "jobs", 400, "created_at__gte", params={"created_at__gte": "last tuesday"}),
        id="date-not-iso",
    ),
    pytest.param(
        BadRequest("GET", lambda ids: "jobs", 400, "current_run_id__isnull", params={"current_run_id__isnull": "maybe"}),
        id="isnull-not-boolean",
    ),
    pytest.param(BadRequest("GET", lambda ids: "jobs", 400, "project_id", params={"project_id": "not-a-uuid"}), id="id-not-uuid"),
    pytest.param(BadRequest("GET", lambda ids: "inventories", 400, "variables", params={"variables": "x"}), id="filter-json-field"),
    pytest.param(BadRequest("GET", lambda ids: f"projects/{UNKNOWN_ID}", 404, "was not found"), id="project-unknown-id"),
    pytest.param(BadRequest("GET", lambda ids: f"jobs/{UNKNOWN_ID}", 404, "was not found"), id="job-unknown-id"),
    pytest.param(BadRequest("GET", lambda ids: f"runs/{UNKNOWN_ID}", 404, "was not found"), id="run-unknown-id"),
    pytest.param(BadRequest("GET", lambda ids: f"jobs/{UNKNOWN_ID}/events", 404, "was not found"), id="events-unknown-job"),
    pytest.param(BadRequest("GET", lambda ids: "projects/not-a-uuid", 422, "id: 'not-a-uuid' is not a valid id"), id="id-malformed"),
]


@pytest.fixture(scope="module")
def ids(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any], server: ServerProcess) -> Ids:
    inventory = praetor.inventory("three_local", organization["id"])
    other_inventory = praetor.inventory("one_breakable", organization["id"])
    template = praetor.create_template("Bad input", playbooks_project["id"], inventory.id, "greet.yml")
    empty_inventory = praetor.api.create("inventories", name="No hosts", organization_id=organization["id"])
    empty_inventory_template = praetor.create_template(
        "No hosts", playbooks_project["id"], empty_inventory["id"], "greet.yml"
    )
    return Ids(
        organization=organization["id"],
        project=playbooks_project["id"],
        inventory=inventory.id,
        other_inventory_host=other_inventory.host_ids["stable-1"],
        empty_inventory_template=empty_inventory_template["id"],
        template=template["id"],
        projects_root=str(server.projects_root),
        project_path=playbooks_project["local_path"],
    )


def send(api: ApiClient, case: BadRequest, ids: Ids) -> httpx.Response:
    body = case.body(ids) if case.body is not None else None
    return api.http.request(case.method, f"/api/v1/{case.path(ids)}", json=body, params=case.params)


@pytest.mark.parametrize("case", CREATE_CASES + LIST_CASES)
def test_bad_request_status(case: BadRequest, ids: Ids, api: ApiClient) -> None:
    response = send(api, case, ids)
    assert response.status_code == case.status, response.text


@pytest.mark.parametrize("case", CREATE_CASES + LIST_CASES)
def test_bad_request_detail(case: BadRequest, ids: Ids, api: ApiClient) -> None:
    response = send(api, case, ids)
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert case.detail_contains in detail


@pytest.mark.parametrize("case", [case for case in CREATE_CASES if case.values[0].unchanged])
def test_bad_request_creates_nothing(case: BadRequest, ids: Ids, api: ApiClient, praetor: Praetor) -> None:
    before = {collection: praetor.total(collection) for collection in case.unchanged}
    send(api, case, ids)
    after = {collection: praetor.total(collection) for collection in case.unchanged}
    assert after == before


@pytest.mark.parametrize(
    "method, path, body",
    [
        pytest.param("POST", "hosts", {"name": "rejected-host", "inventory_id": UNKNOWN_ID}, id="host-unknown-inventory"),
        pytest.param("GET", f"inventories/{UNKNOWN_ID}", None, id="inventory-unknown-id"),
    ],
)
def test_not_found_plural(api: ApiClient, method: str, path: str, body: dict[str, Any] | None) -> None:
    detail = api.http.request(method, f"/api/v1/{path}", json=body).json()["detail"]
    assert "inventorys" not in detail


def test_bad_host_creates_nothing(ids: Ids, api: ApiClient, praetor: Praetor) -> None:
    before = praetor.total(f"inventories/{ids.inventory}/hosts")
    response = api.http.post("/api/v1/hosts", json={"name": "local-2", "inventory_id": ids.inventory})
    assert response.status_code == 409
    assert praetor.total(f"inventories/{ids.inventory}/hosts") == before
    assert api.get(f"inventories/{ids.inventory}")["total_hosts"] == before


def test_group_rejects_foreign_host(ids: Ids, api: ApiClient, praetor: Praetor) -> None:
    inventory = praetor.inventory("three_local", ids.organization)
    group_id = inventory.group_ids["first_two"]
    before = praetor.total(f"groups/{group_id}/hosts")
    response = api.http.post(f"/api/v1/groups/{group_id}/hosts", json={"host_id": ids.other_inventory_host})
    assert response.status_code == 400
    assert "host_id" in response.json()["detail"]
    assert praetor.total(f"groups/{group_id}/hosts") == before


def test_patch_rejects_missing_playbook(ids: Ids, api: ApiClient) -> None:
    response = api.http.patch(f"/api/v1/job-templates/{ids.template}", json={"playbook": "no_such_playbook.yml"})
    assert response.status_code == 400
    assert "playbook" in response.json()["detail"]
    assert api.get(f"job-templates/{ids.template}")["playbook"] == "greet.yml"


def test_patch_rejects_null_name(ids: Ids, api: ApiClient) -> None:
    response = api.http.patch(f"/api/v1/job-templates/{ids.template}", json={"name": None})
    assert response.status_code == 422
    assert "name" in response.json()["detail"]
    assert api.get(f"job-templates/{ids.template}")["name"] == "Bad input"


def test_patch_rejects_unknown_inventory(ids: Ids, api: ApiClient) -> None:
    response = api.http.patch(f"/api/v1/job-templates/{ids.template}", json={"inventory_id": UNKNOWN_ID})
    assert response.status_code == 400
    assert "inventory_id" in response.json()["detail"]
    assert api.get(f"job-templates/{ids.template}")["inventory_id"] == ids.inventory


def test_patch_unknown_id(api: ApiClient) -> None:
    response = api.http.patch(f"/api/v1/projects/{UNKNOWN_ID}", json={"name": "renamed"})
    assert response.status_code == 404


def test_no_token(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/api/v1/projects")
    assert response.status_code == 401
    assert "Authorization" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_invalid_token(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/api/v1/projects", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert "invalid token" in response.json()["detail"]


def test_no_token_creates_nothing(server: ServerProcess, praetor: Praetor) -> None:
    before = praetor.total("organizations")
    response = httpx.post(f"{server.base_url}/api/v1/organizations", json={"name": "Anonymous"})
    assert response.status_code == 401
    assert praetor.total("organizations") == before


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"username": "admin", "password": "wrong-password"}, id="wrong-password"),
        pytest.param({"username": "nobody", "password": "wrong-password"}, id="unknown-user"),
    ],
)
def test_sign_in_rejected(server: ServerProcess, credentials: dict[str, str]) -> None:
    response = httpx.post(f"{server.base_url}/api/v1/auth/token", json=credentials)
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid username or password"
    assert "token" not in response.json()


def test_sign_in_missing_password(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/api/v1/auth/token", json={"username": "admin"})
    assert response.status_code == 422
    assert "password" in response.json()["detail"]


def test_status_filter_typo_rejected(praetor) -> None:
    response = praetor.api.http.get("/api/v1/jobs", params={"status": "succesful"})
    assert response.status_code == 400
    assert "use one of" in response.json()["detail"]


def test_unknown_path_names_docs(praetor) -> None:
    response = praetor.api.http.get("/api/v1/job_templates")
    assert response.status_code == 404
    assert "/api/v1/docs" in response.json()["detail"]


def test_used_inventory_not_deleted(praetor, organization) -> None:
    project = praetor.create_local_project("Delete guard", organization["id"])
    inventory = praetor.api.create("inventories", name="Delete guard", organization_id=organization["id"])
    praetor.api.create("hosts", name="guard-1", inventory_id=inventory["id"], variables={"ansible_connection": "local"})
    praetor.api.create(
        "job-templates", name="Delete guard", project_id=project["id"], inventory_id=inventory["id"], playbook="ping.yml"
    )
    response = praetor.api.http.delete(f"/api/v1/inventories/{inventory['id']}")
    assert response.status_code == 409
    assert "job template" in response.json()["detail"]
    assert praetor.api.get(f"inventories/{inventory['id']}")["id"] == inventory["id"]
