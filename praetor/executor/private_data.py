"""The ansible-runner private data dir of a run: project, inventory and env files."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.manifest import ProjectSource, RunManifest

logger = logging.getLogger(__name__)

# NOTE: a fixed limit. A clone that takes longer fails the run, and a cancel request is not
# seen until the clone ends.
GIT_CLONE_TIMEOUT_SECONDS = 600

# ansible-runner reads these from env/settings. A 1 s pexpect timeout makes it call the cancel
# callback and check the job timeout at least once a second, instead of every 5 s by default.
RUNNER_SETTINGS = {"pexpect_timeout": 1}


class PrivateDataError(Exception):
    """The private data dir could not be prepared. The message is the run's error reason."""


def prepare_private_data_dir(private_dir: Path, manifest: RunManifest, log_context: RunLogContext) -> None:
    """Create `private_dir` afresh with project/, inventory/hosts.yml, env/extravars and env/settings."""
    log = RunLogAdapter(logger, log_context)
    if private_dir.exists():
        log.warning("removing leftover private data dir %s", private_dir)
        shutil.rmtree(private_dir)
    private_dir.mkdir(parents=True, mode=0o700)

    project_dir = private_dir / "project"
    fetch_project(manifest.project, project_dir, log_context)
    check_playbook(project_dir, manifest.playbook)

    inventory_dir = private_dir / "inventory"
    inventory_dir.mkdir(mode=0o700)
    (inventory_dir / "hosts.yml").write_text(render_inventory(manifest.inventory), encoding="utf-8")

    env_dir = private_dir / "env"
    env_dir.mkdir(mode=0o700)
    (env_dir / "extravars").write_text(json.dumps(manifest.extra_vars, ensure_ascii=False), encoding="utf-8")
    (env_dir / "settings").write_text(json.dumps(RUNNER_SETTINGS), encoding="utf-8")
    log.info("prepared private data dir %s", private_dir)


def render_inventory(inventory: dict[str, Any]) -> str:
    """Render an inventory in Ansible's YAML structure as JSON, which the yaml inventory plugin reads as YAML."""
    return json.dumps(inventory, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def check_playbook(project_dir: Path, playbook: str) -> None:
    """Raise PrivateDataError unless `playbook` is a file inside `project_dir`."""
    project_root = project_dir.resolve()
    playbook_path = (project_root / playbook).resolve()
    if not playbook_path.is_relative_to(project_root):
        raise PrivateDataError(f"playbook {playbook!r} is outside the project directory")
    if not playbook_path.is_file():
        raise PrivateDataError(f"playbook {playbook!r} not found in the project")


def fetch_project(project: ProjectSource, destination: Path, log_context: RunLogContext) -> None:
    if project.scm_type == "git":
        clone_git_project(project.scm_url or "", project.scm_branch, destination, log_context)
    else:
        copy_local_project(Path(project.local_path or ""), destination, log_context)


def copy_local_project(source: Path, destination: Path, log_context: RunLogContext) -> None:
    """Copy the project tree without `.git`, copying symlinks as links."""
    log = RunLogAdapter(logger, log_context)
    if not source.is_absolute():
        raise PrivateDataError(f"local project path {str(source)!r} is not absolute")
    if not source.is_dir():
        raise PrivateDataError(f"local project directory {str(source)!r} not found")

    try:
        shutil.copytree(source, destination, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    except (OSError, shutil.Error) as error:
        raise PrivateDataError(f"copying local project {str(source)!r} failed: {_one_line(str(error))}") from error
    log.info("copied local project %s", source)


def clone_git_project(url: str, branch: str | None, destination: Path, log_context: RunLogContext) -> None:
    """Shallow-clone `url` at `branch` (the remote's default branch when None)."""
    log = RunLogAdapter(logger, log_context)
    shown_url = redact_url(url)
    command = ["git", "clone", "--quiet", "--depth", "1"]
    if branch:
        # NOTE: --branch takes a branch or tag name, but not a commit hash.
        command += ["--branch", branch]
    command += ["--", url, str(destination)]

    # Git must fail instead of prompting for credentials, because no one can answer.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    log.info("cloning %s at %s", shown_url, branch or "the default branch")
    try:
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=GIT_CLONE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise PrivateDataError(f"git clone of {shown_url} timed out after {GIT_CLONE_TIMEOUT_SECONDS} s") from error
    except OSError as error:
        raise PrivateDataError(f"git clone of {shown_url} failed to start: {error}") from error

    if result.returncode != 0:
        detail = _last_line(result.stderr).replace(url, shown_url)
        raise PrivateDataError(f"git clone of {shown_url} failed with exit code {result.returncode}: {detail}")
    log.info("cloned %s", shown_url)


def redact_url(url: str) -> str:
    """Return `url` with any user name and password removed, for logs and error reasons."""
    parts = urlsplit(url)
    if not parts.username and not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"


def _one_line(text: str) -> str:
    return " ".join(text.split())
