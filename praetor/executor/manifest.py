"""The run manifest: everything the executor needs to run one run of a job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCM_TYPES = ("local", "git")


class ManifestError(ValueError):
    """A manifest field is missing or has the wrong type."""


@dataclass(frozen=True)
class ProjectSource:
    id: str
    name: str
    scm_type: str
    local_path: str | None = None
    scm_url: str | None = None
    scm_branch: str | None = None


@dataclass(frozen=True)
class RunManifest:
    run_id: str
    job_id: str
    attempt_number: int
    project: ProjectSource
    playbook: str
    inventory: dict[str, Any]
    extra_vars: dict[str, Any] = field(default_factory=dict)
    limit: str | None = None
    forks: int = 5
    verbosity: int = 0
    timeout_seconds: int = 0


def parse_manifest(data: Any) -> RunManifest:
    """Build a RunManifest from the JSON the API returns, raising ManifestError on an invalid field."""
    if not isinstance(data, Mapping):
        raise ManifestError(f"manifest must be a JSON object, got {type(data).__name__}")

    project_data = data.get("project")
    if not isinstance(project_data, Mapping):
        raise ManifestError("manifest field 'project' is missing or not an object")
    project = ProjectSource(
        id=_required_str(project_data, "id", "project.id"),
        name=_required_str(project_data, "name", "project.name"),
        scm_type=_required_str(project_data, "scm_type", "project.scm_type"),
        local_path=_optional_str(project_data, "local_path", "project.local_path"),
        scm_url=_optional_str(project_data, "scm_url", "project.scm_url"),
        scm_branch=_optional_str(project_data, "scm_branch", "project.scm_branch"),
    )
    if project.scm_type not in SCM_TYPES:
        raise ManifestError(f"project.scm_type {project.scm_type!r} is not supported. Expected one of {', '.join(SCM_TYPES)}")
    if project.scm_type == "local" and not project.local_path:
        raise ManifestError("project.local_path is required for a local project")
    if project.scm_type == "git" and not project.scm_url:
        raise ManifestError("project.scm_url is required for a git project")

    inventory = data.get("inventory")
    if not isinstance(inventory, Mapping):
        raise ManifestError("manifest field 'inventory' is missing or not an object")
    extra_vars = data.get("extra_vars") or {}
    if not isinstance(extra_vars, Mapping):
        raise ManifestError("manifest field 'extra_vars' must be an object")

    return RunManifest(
        run_id=_required_str(data, "run_id", "run_id"),
        job_id=_required_str(data, "job_id", "job_id"),
        attempt_number=_int(data, "attempt_number", default=1, minimum=1),
        project=project,
        playbook=_required_str(data, "playbook", "playbook"),
        inventory=dict(inventory),
        extra_vars=dict(extra_vars),
        limit=_optional_str(data, "limit", "limit") or None,
        forks=_int(data, "forks", default=5, minimum=1),
        verbosity=_int(data, "verbosity", default=0, minimum=0),
        timeout_seconds=_int(data, "timeout_seconds", default=0, minimum=0),
    )


def _required_str(data: Mapping[str, Any], key: str, name: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"manifest field '{name}' is missing or not a non-empty string")
    return value


def _optional_str(data: Mapping[str, Any], key: str, name: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"manifest field '{name}' must be a string or null, got {type(value).__name__}")
    return value


def _int(data: Mapping[str, Any], key: str, *, default: int, minimum: int) -> int:
    value = data.get(key)
    if value is None:
        return default
    # bool is a subclass of int, but `true` is never a valid count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(f"manifest field '{key}' must be an integer, got {value!r}")
    if value < minimum:
        raise ManifestError(f"manifest field '{key}' must be at least {minimum}, got {value}")
    return value
