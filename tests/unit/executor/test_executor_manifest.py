from __future__ import annotations

import copy
from typing import Any

import pytest

from praetor.executor.manifest import ManifestError, parse_manifest

MANIFEST: dict[str, Any] = {
    "run_id": "8d0f3c4e-2b7a-4d47-9d51-2b0e6c1f0a11",
    "job_id": "0c9a8f2e-6a51-4a9f-8f0e-7b7c3a2d1e55",
    "attempt_number": 2,
    "project": {"id": "p1", "name": "demo", "scm_type": "local", "local_path": "/srv/demo", "scm_url": None, "scm_branch": None},
    "playbook": "hello.yml",
    "inventory": {"all": {"hosts": {"web-1": {"ansible_connection": "local"}}, "vars": {}}},
    "extra_vars": {"a": 1},
    "limit": "web",
    "forks": 3,
    "verbosity": 2,
    "timeout_seconds": 30,
}


def with_change(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(MANIFEST)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_parse_manifest_fields() -> None:
    manifest = parse_manifest(MANIFEST)

    assert manifest.run_id == MANIFEST["run_id"]
    assert manifest.attempt_number == 2
    assert manifest.project.local_path == "/srv/demo"
    assert manifest.limit == "web"
    assert (manifest.forks, manifest.verbosity, manifest.timeout_seconds) == (3, 2, 30)
    assert manifest.extra_vars == {"a": 1}


def test_parse_manifest_defaults() -> None:
    data = {key: value for key, value in MANIFEST.items() if key not in ("extra_vars", "limit", "forks", "verbosity", "timeout_seconds")}

    manifest = parse_manifest(data)

    assert manifest.extra_vars == {}
    assert manifest.limit is None
    assert (manifest.forks, manifest.verbosity, manifest.timeout_seconds) == (5, 0, 0)


def test_parse_manifest_git_project() -> None:
    data = with_change(("project",), {"id": "p", "name": "n", "scm_type": "git", "scm_url": "file:///srv/repo", "scm_branch": "main"})

    manifest = parse_manifest(data)

    assert manifest.project.scm_url == "file:///srv/repo"
    assert manifest.project.scm_branch == "main"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("run_id",), KeyError, "run_id"),
        (("playbook",), "", "playbook"),
        (("inventory",), [], "inventory"),
        (("extra_vars",), "a=1", "extra_vars"),
        (("forks",), 0, "forks"),
        (("forks",), True, "forks"),
        (("timeout_seconds",), -1, "timeout_seconds"),
        (("project",), None, "project"),
        (("project", "scm_type"), "svn", "not supported"),
        (("project", "local_path"), None, "local_path is required"),
        (("project", "scm_branch"), 3, "scm_branch"),
    ],
)
def test_parse_manifest_rejects(path: tuple[str, ...], value: Any, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest(with_change(path, value))


def test_parse_manifest_rejects_non_object() -> None:
    with pytest.raises(ManifestError, match="JSON object"):
        parse_manifest(["not", "an", "object"])
