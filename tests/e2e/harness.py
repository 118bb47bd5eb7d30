"""The server process of the end-to-end tests and the API steps that many tests share."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from expected import SUMMARY_FIELDS
from inventory_files import PLAYBOOKS_DIR, load_inventory

from praetor.cli.client import ApiClient

SERVER_START_TIMEOUT_SECONDS = 60.0
SERVER_STOP_TIMEOUT_SECONDS = 30.0
JOB_TIMEOUT_SECONDS = 120.0
LOG_TAIL_LINES = 80


@dataclass
class ServerProcess:
    """A `praetor serve` child process and the folders it was given."""

    process: subprocess.Popen[bytes]
    base_url: str
    home: Path
    projects_root: Path
    scratch_dir: Path
    log_path: Path
    admin_password: str

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            return f"(cannot read {self.log_path}: {error})"
        return "\n".join(text.splitlines()[-lines:])

    def wait_until_up(self) -> None:
        """Poll /api/v1/ping; raise RuntimeError with the log tail when the server exits or times out."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"praetor serve exited with code {self.process.returncode} before answering /api/v1/ping; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/api/v1/ping", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"praetor serve did not answer /api/v1/ping within {SERVER_START_TIMEOUT_SECONDS} s; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server by its pid: SIGTERM, then SIGKILL if it still runs after the timeout."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(base: Path, extra_env: dict[str, str] | None = None) -> ServerProcess:
    """Start `praetor serve` on a free port of 127.0.0.1 with every folder it writes to under `base`.

    `extra_env` adds settings, such as those of the distributed mode. With `PRAETOR_MODE`
    set to distributed, the server also runs a relay and a stream worker (`--all-in-one`).
    """
    home = base / "home"
    projects_root = base / "projects"
    scratch_dir = base / "scratch"
    for directory in (home, projects_root, scratch_dir):
        directory.mkdir()

    port = free_port()
    password = secrets.token_urlsafe(16)
    # Settings from the caller's environment (a secret key, another mode) must not leak in.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PRAETOR_")}
    env.update(
        {
            "PRAETOR_HOME": str(home),
            "PRAETOR_ADMIN_PASSWORD": password,
            "PRAETOR_PROJECTS_ROOT": str(projects_root),
            # Playbooks write their files under TMPDIR, so the runs leave nothing outside `base`.
            "TMPDIR": str(scratch_dir),
        }
    )
    env.update(extra_env or {})
    command = [sys.executable, "-m", "praetor.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if env.get("PRAETOR_MODE") == "distributed":
        command.append("--all-in-one")
    log_path = base / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return ServerProcess(
        process=process,
        base_url=f"http://127.0.0.1:{port}",
        home=home,
        projects_root=projects_root,
        scratch_dir=scratch_dir,
        log_path=log_path,
        admin_password=password,
    )


@contextmanager
def own_server(base: Path, request_timeout: float) -> Iterator[Praetor]:
    """Start a server under `base` for one test or module, sign in, and stop the server on exit."""
    running = start_server(base)
    try:
        running.wait_until_up()
        client = ApiClient(running.base_url, timeout=request_timeout)
        try:
            client.sign_in("admin", running.admin_password)
            yield Praetor(api=client, server=running)
        finally:
            client.close()
    finally:
        running.stop()


@dataclass
class Inventory:
    """An inventory created through the API, with the ids of its hosts and groups by name."""

    id: str
    host_ids: dict[str, str]
    group_ids: dict[str, str]


@dataclass
class Praetor:
    """API steps that many tests share, each one or a few requests."""

    api: ApiClient
    server: ServerProcess
    _inventories: dict[tuple[str, str], Inventory] = field(default_factory=dict)
    _project_count: int = 0

    def create_organization(self, name: str) -> dict[str, Any]:
        return self.api.create("organizations", name=name)

    def create_local_project(self, name: str, organization_id: str, source: Path = PLAYBOOKS_DIR) -> dict[str, Any]:
        """Copy `source` to a new folder under the projects root and create a local project on it."""
        self._project_count += 1
        folder_name = f"{self._project_count:03d}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        folder = self.server.projects_root / folder_name
        shutil.copytree(source, folder)
        return self.api.create(
            "projects", name=name, organization_id=organization_id, scm_type="local", local_path=str(folder)
        )

    def create_inventory(self, name: str, organization_id: str) -> Inventory:
        """Create the inventory of tests/data/inventories/{name}.yml: its hosts, groups and memberships."""
        spec = load_inventory(name)
        inventory = self.api.create("inventories", name=name, organization_id=organization_id, variables=spec.variables)
        host_ids = {
            host: self.api.create("hosts", name=host, inventory_id=inventory["id"], variables=variables)["id"]
            for host, variables in spec.hosts.items()
        }
        group_ids = {}
        for group, body in spec.groups.items():
            group_ids[group] = self.api.create(
                "groups", name=group, inventory_id=inventory["id"], variables=body.variables
            )["id"]
            for member in body.hosts:
                self.api.post(f"groups/{group_ids[group]}/hosts", {"host_id": host_ids[member]})
        return Inventory(id=inventory["id"], host_ids=host_ids, group_ids=group_ids)

    def inventory(self, name: str, organization_id: str) -> Inventory:
        """Return the session's inventory made from `name`, creating it on first use."""
        key = (name, organization_id)
        if key not in self._inventories:
            self._inventories[key] = self.create_inventory(name, organization_id)
        return self._inventories[key]

    def create_template(self, name: str, project_id: str, inventory_id: str, playbook: str, **fields: Any) -> dict[str, Any]:
        return self.api.create(
            "job-templates", name=name, project_id=project_id, inventory_id=inventory_id, playbook=playbook, **fields
        )

    def wait(self, job_id: str, timeout: float = JOB_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Wait until the job has finished and return it."""
        return self.api.wait_for_job(job_id, timeout=timeout)

    def total(self, collection: str, **params: Any) -> int:
        return self.api.get(collection, limit=1, **params)["total"]

    def host_summaries(self, job_id: str) -> list[dict[str, Any]]:
        """Return the job's per-host summaries, ordered by host, with only the counter fields."""
        rows = self.api.get(f"jobs/{job_id}/hosts", limit=1000)["items"]
        return [{name: row[name] for name in SUMMARY_FIELDS} for row in rows]
