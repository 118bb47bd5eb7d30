"""Git projects over file:// URLs: a launch from a branch, and the checks of scm_url and scm_branch."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import Praetor
from inventory_files import PLAYBOOKS_DIR

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

RELEASE_BRANCH = "release-1"
# A playbook that exists only on RELEASE_BRANCH, so a run of it proves which branch was cloned.
RELEASE_PLAYBOOK = "release_only.yml"
RELEASE_PLAYBOOK_TEXT = """\
---
- name: Run from the release branch
  hosts: all
  gather_facts: false
  tasks:
    - name: Say where the playbook came from
      ansible.builtin.debug:
        msg: "cloned from the release branch"
"""


def git(repository: Path, *arguments: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Praetor tests",
        "GIT_AUTHOR_EMAIL": "tests@praetor.invalid",
        "GIT_COMMITTER_NAME": "Praetor tests",
        "GIT_COMMITTER_EMAIL": "tests@praetor.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *arguments], cwd=repository, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def git_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with greet.yml on `main`, and RELEASE_PLAYBOOK added on RELEASE_BRANCH."""
    repository = tmp_path_factory.mktemp("git-project")
    git(repository, "init", "--quiet", "--initial-branch=main")
    shutil.copy(PLAYBOOKS_DIR / "greet.yml", repository / "greet.yml")
    git(repository, "add", "greet.yml")
    git(repository, "commit", "--quiet", "-m", "Add greet.yml")
    git(repository, "checkout", "--quiet", "-b", RELEASE_BRANCH)
    (repository / RELEASE_PLAYBOOK).write_text(RELEASE_PLAYBOOK_TEXT, encoding="utf-8")
    git(repository, "add", RELEASE_PLAYBOOK)
    git(repository, "commit", "--quiet", "-m", "Add a playbook for the release")
    git(repository, "checkout", "--quiet", "main")
    return repository


@pytest.fixture(scope="module")
def git_project(api: ApiClient, organization: dict[str, Any], git_repository: Path) -> dict[str, Any]:
    return api.create(
        "projects",
        name="Git over file",
        organization_id=organization["id"],
        scm_type="git",
        scm_url=git_repository.as_uri(),
        scm_branch=RELEASE_BRANCH,
    )


def test_git_project_fields(git_project: dict[str, Any], git_repository: Path) -> None:
    assert git_project["scm_type"] == "git"
    assert git_project["scm_url"] == git_repository.as_uri()
    assert git_project["scm_branch"] == RELEASE_BRANCH
    assert git_project["local_path"] is None


def test_git_branch_playbook_runs(praetor: Praetor, organization: dict[str, Any], git_project: dict[str, Any]) -> None:
    inventory = praetor.inventory("three_local", organization["id"])
    template = praetor.create_template("From git", git_project["id"], inventory.id, RELEASE_PLAYBOOK)
    job = praetor.wait(praetor.api.launch(template["id"])["id"])
    assert job["status"] == "successful"
    assert "cloned from the release branch" in praetor.api.logs(job["id"])


def test_git_playbook_of_other_branch(
    praetor: Praetor, organization: dict[str, Any], git_project: dict[str, Any], git_repository: Path
) -> None:
    inventory = praetor.inventory("three_local", organization["id"])
    main_project = praetor.api.create(
        "projects", name="Git main branch", organization_id=organization["id"], scm_type="git",
        scm_url=git_repository.as_uri(), scm_branch="main",
    )
    before = praetor.total("job-templates")
    response = praetor.api.http.post(
        "/api/v1/job-templates",
        json={"name": "Wrong branch", "project_id": main_project["id"], "inventory_id": inventory.id, "playbook": RELEASE_PLAYBOOK},
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("playbook:")
    assert praetor.total("job-templates") == before


def test_git_unknown_branch(api: ApiClient, praetor: Praetor, organization: dict[str, Any], git_repository: Path) -> None:
    before = praetor.total("projects")
    response = api.http.post(
        "/api/v1/projects",
        json={
            "name": "Missing branch",
            "organization_id": organization["id"],
            "scm_type": "git",
            "scm_url": git_repository.as_uri(),
            "scm_branch": "no-such-branch",
        },
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("scm_branch:")
    assert "no-such-branch" in response.json()["detail"]
    assert praetor.total("projects") == before


def test_git_unreachable_url(
    api: ApiClient, praetor: Praetor, organization: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    missing = tmp_path_factory.mktemp("no-repository") / "missing.git"
    before = praetor.total("projects")
    response = api.http.post(
        "/api/v1/projects",
        json={"name": "Missing repository", "organization_id": organization["id"], "scm_type": "git", "scm_url": missing.as_uri()},
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("scm_url:")
    assert praetor.total("projects") == before


def test_git_missing_url(api: ApiClient, praetor: Praetor, organization: dict[str, Any]) -> None:
    before = praetor.total("projects")
    response = api.http.post(
        "/api/v1/projects", json={"name": "No URL", "organization_id": organization["id"], "scm_type": "git"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("scm_url:")
    assert praetor.total("projects") == before
