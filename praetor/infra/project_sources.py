"""Reading project sources on the server: local directories and git repositories.

The server reads a project's files only to validate it (the path exists, the repository
can be read, the playbook is there). Executors fetch their own copy for each run.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Set
from pathlib import Path

from praetor.commands.ports import ProjectSources
from praetor.domain.errors import InvalidValue
from praetor.domain.project import ScmType

logger = logging.getLogger(__name__)

GIT_TIMEOUT_SECONDS = 120
PLAYBOOK_SUFFIXES = (".yml", ".yaml")
# Folders whose YAML files are never playbooks: role parts and variable files.
NON_PLAYBOOK_DIRS = frozenset({"roles", "group_vars", "host_vars", "vars", "defaults", "tasks", "handlers", "meta", "templates", "files"})
PLAY_KEY = re.compile(r"^\s*-?\s*(hosts|import_playbook|ansible\.builtin\.import_playbook)\s*:", re.MULTILINE)


class FilesystemProjectSources(ProjectSources):
    def __init__(self, projects_root: Path) -> None:
        self._projects_root = projects_root

    def check_source(self, scm_type: str, local_path: str | None, scm_url: str | None, scm_branch: str | None) -> str | None:
        if scm_type == ScmType.LOCAL:
            return str(self._resolve_local_path(local_path))
        if scm_type == ScmType.GIT:
            self._check_git_source(scm_url, scm_branch)
            return None
        raise InvalidValue("scm_type", f"{scm_type!r} is not a source type; use 'local' or 'git'")

    def playbooks(self, scm_type: str, local_path: str | None, scm_url: str | None, scm_branch: str | None) -> Set[str]:
        if scm_type == ScmType.LOCAL:
            return find_playbooks(self._resolve_local_path(local_path))
        with tempfile.TemporaryDirectory(prefix="praetor-project-") as checkout:
            clone(scm_url or "", scm_branch, Path(checkout) / "project")
            return find_playbooks(Path(checkout) / "project")

    def _resolve_local_path(self, local_path: str | None) -> Path:
        if not local_path:
            raise InvalidValue("local_path", f"is required for local projects; give a directory inside {self._projects_root}")
        path = Path(local_path)
        resolved = (path if path.is_absolute() else self._projects_root / path).resolve()
        if not resolved.is_relative_to(self._projects_root):
            raise InvalidValue(
                "local_path",
                f"{local_path!r} is outside the projects root {self._projects_root}; "
                "put the project there or set PRAETOR_PROJECTS_ROOT",
            )
        if not resolved.is_dir():
            raise InvalidValue("local_path", f"{resolved} is not a directory; create it inside {self._projects_root}")
        return resolved

    def _check_git_source(self, scm_url: str | None, scm_branch: str | None) -> None:
        if not scm_url:
            raise InvalidValue("scm_url", "is required for git projects; give a clonable URL such as file:///srv/repo.git")
        command = ["git", "ls-remote", "--heads", "--tags", scm_url]
        result = _run_git(command, field="scm_url")
        if result.returncode != 0:
            raise InvalidValue("scm_url", f"git cannot read {scm_url!r}: {_last_line(result.stderr)}")
        if scm_branch:
            refs = {line.split("\t", 1)[1] for line in result.stdout.splitlines() if "\t" in line}
            if f"refs/heads/{scm_branch}" not in refs and f"refs/tags/{scm_branch}" not in refs:
                raise InvalidValue("scm_branch", f"{scm_branch!r} is not a branch or tag of {scm_url}; name one that exists")


def clone(scm_url: str, scm_branch: str | None, destination: Path) -> None:
    """Clone the newest commit of `scm_branch` (or the default branch) into `destination`."""
    command = ["git", "clone", "--quiet", "--depth", "1"]
    if scm_branch:
        command += ["--branch", scm_branch]
    command += [scm_url, str(destination)]
    result = _run_git(command, field="scm_url")
    if result.returncode != 0:
        raise InvalidValue("scm_url", f"git clone of {scm_url!r} failed: {_last_line(result.stderr)}")


def find_playbooks(root: Path) -> set[str]:
    """Return the paths, relative to `root`, of YAML files that contain a play."""
    found: set[str] = set()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".") and name not in NON_PLAYBOOK_DIRS]
        for name in files:
            if not name.endswith(PLAYBOOK_SUFFIXES):
                continue
            path = Path(directory) / name
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as error:
                logger.warning("Cannot read %s while listing playbooks: %s", path, error)
                continue
            if PLAY_KEY.search(text):
                found.add(path.relative_to(root).as_posix())
    return found


def _run_git(command: list[str], *, field: str) -> subprocess.CompletedProcess[str]:
    # GIT_TERMINAL_PROMPT=0 makes git fail at once instead of waiting for a password.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, env=env, check=False)
    except subprocess.TimeoutExpired as error:
        raise InvalidValue(field, f"git timed out after {GIT_TIMEOUT_SECONDS} s; check that the URL is reachable") from error


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
