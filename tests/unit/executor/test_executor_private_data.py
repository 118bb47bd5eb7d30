from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from praetor.executor.logs import RunLogContext
from praetor.executor.manifest import ProjectSource, RunManifest
from praetor.executor.private_data import (
    PrivateDataError,
    check_playbook,
    clone_git_project,
    prepare_private_data_dir,
    redact_url,
    render_inventory,
)

INVENTORY = {
    "all": {
        "hosts": {"web-1": {"ansible_connection": "local"}, "db-1": {"ansible_host": "10.0.0.5"}},
        "vars": {"greeting": "héllo"},
        "children": {"web": {"hosts": {"web-1": {}}, "vars": {"tier": "front"}}},
    }
}


def make_project(root: Path) -> Path:
    project = root / "src"
    (project / "roles" / "common").mkdir(parents=True)
    (project / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    (project / "roles" / "common" / "main.yml").write_text("---\n")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return project


def make_manifest(project: ProjectSource, playbook: str = "hello.yml") -> RunManifest:
    return RunManifest(
        run_id="r",
        job_id="j",
        attempt_number=1,
        project=project,
        playbook=playbook,
        inventory=INVENTORY,
        extra_vars={"answer": 42, "name": "wörld"},
    )


def local_project(path: Path) -> ProjectSource:
    return ProjectSource(id="p", name="demo", scm_type="local", local_path=str(path))


def test_render_inventory_is_json() -> None:
    assert json.loads(render_inventory(INVENTORY)) == INVENTORY


def test_rendered_inventory_reads_in_ansible(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.yml"
    hosts.write_text(render_inventory(INVENTORY), encoding="utf-8")
    ansible_inventory = Path(sys.executable).parent / "ansible-inventory"

    result = subprocess.run([str(ansible_inventory), "-i", str(hosts), "--list"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert sorted(listing["_meta"]["hostvars"]) == ["db-1", "web-1"]
    assert listing["web"]["hosts"] == ["web-1"]
    assert listing["_meta"]["hostvars"]["web-1"]["tier"] == "front"
    assert listing["_meta"]["hostvars"]["db-1"]["greeting"] == "héllo"


def test_prepare_local_project(tmp_path: Path, log_context: RunLogContext) -> None:
    source = make_project(tmp_path)
    private = tmp_path / "run" / "private"

    prepare_private_data_dir(private, make_manifest(local_project(source)), log_context)

    assert (private / "project" / "hello.yml").is_file()
    assert (private / "project" / "roles" / "common" / "main.yml").is_file()
    assert not (private / "project" / ".git").exists()
    assert json.loads((private / "inventory" / "hosts.yml").read_text()) == INVENTORY
    assert json.loads((private / "env" / "extravars").read_text()) == {"answer": 42, "name": "wörld"}
    assert json.loads((private / "env" / "settings").read_text())["pexpect_timeout"] == 1


def test_prepare_replaces_leftover_dir(tmp_path: Path, log_context: RunLogContext) -> None:
    source = make_project(tmp_path)
    private = tmp_path / "private"
    (private / "project").mkdir(parents=True)
    (private / "project" / "stale.yml").write_text("")

    prepare_private_data_dir(private, make_manifest(local_project(source)), log_context)

    assert not (private / "project" / "stale.yml").exists()
    assert (private / "project" / "hello.yml").is_file()


def test_prepare_missing_local_path(tmp_path: Path, log_context: RunLogContext) -> None:
    with pytest.raises(PrivateDataError, match="not found"):
        prepare_private_data_dir(tmp_path / "private", make_manifest(local_project(tmp_path / "absent")), log_context)


def test_prepare_relative_local_path(tmp_path: Path, log_context: RunLogContext) -> None:
    with pytest.raises(PrivateDataError, match="not absolute"):
        prepare_private_data_dir(tmp_path / "private", make_manifest(local_project(Path("relative/dir"))), log_context)


def test_prepare_missing_playbook(tmp_path: Path, log_context: RunLogContext) -> None:
    source = make_project(tmp_path)

    with pytest.raises(PrivateDataError, match="'missing.yml' not found"):
        prepare_private_data_dir(tmp_path / "private", make_manifest(local_project(source), "missing.yml"), log_context)


def test_check_playbook_outside_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret.yml").write_text("")

    with pytest.raises(PrivateDataError, match="outside the project"):
        check_playbook(project, "../secret.yml")


def make_git_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "--quiet", "--initial-branch", "main")
    git("config", "user.email", "dev@example.com")
    git("config", "user.name", "Dev")
    (repo / "hello.yml").write_text("main\n")
    git("add", ".")
    git("commit", "--quiet", "-m", "main")
    git("checkout", "--quiet", "-b", "feature")
    (repo / "hello.yml").write_text("feature\n")
    git("commit", "--quiet", "-am", "feature")
    git("checkout", "--quiet", "main")
    return repo


def test_clone_default_branch(tmp_path: Path, log_context: RunLogContext) -> None:
    repo = make_git_repo(tmp_path)
    destination = tmp_path / "clone"

    clone_git_project(repo.as_uri(), None, destination, log_context)

    assert (destination / "hello.yml").read_text() == "main\n"


def test_clone_named_branch(tmp_path: Path, log_context: RunLogContext) -> None:
    repo = make_git_repo(tmp_path)
    destination = tmp_path / "clone"

    clone_git_project(repo.as_uri(), "feature", destination, log_context)

    assert (destination / "hello.yml").read_text() == "feature\n"


def test_prepare_git_project(tmp_path: Path, log_context: RunLogContext) -> None:
    repo = make_git_repo(tmp_path)
    project = ProjectSource(id="p", name="demo", scm_type="git", scm_url=repo.as_uri())
    private = tmp_path / "private"

    prepare_private_data_dir(private, make_manifest(project), log_context)

    assert (private / "project" / "hello.yml").read_text() == "main\n"


def test_clone_missing_branch_fails(tmp_path: Path, log_context: RunLogContext) -> None:
    repo = make_git_repo(tmp_path)

    with pytest.raises(PrivateDataError, match="failed with exit code 128"):
        clone_git_project(repo.as_uri(), "no-such-branch", tmp_path / "clone", log_context)


def test_clone_error_hides_credentials(tmp_path: Path, log_context: RunLogContext) -> None:
    url = (tmp_path / "absent").as_uri().replace("file://", "file://user:s3cret@")

    with pytest.raises(PrivateDataError) as raised:
        clone_git_project(url, None, tmp_path / "clone", log_context)

    assert "s3cret" not in str(raised.value)


def test_redact_url() -> None:
    assert redact_url("https://user:pw@git.example.com:8443/org/repo.git") == "https://***@git.example.com:8443/org/repo.git"
    assert redact_url("https://git.example.com/org/repo.git") == "https://git.example.com/org/repo.git"
    assert redact_url("file:///srv/repo") == "file:///srv/repo"
