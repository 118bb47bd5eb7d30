"""Fixtures that run the real executor program against the in-memory run API."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The stub API is shared with the unit tests; the path entry makes it importable whatever
# pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "executor"))

from run_api_stub import StubRunApi  # noqa: E402

from praetor.infra.object_store import ObjectStore, open_object_store  # noqa: E402

PLAYBOOKS = Path(__file__).parent / "playbooks"
TOKEN = "integration-run-token"

HOST_VARS = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def make_manifest(run_id: str, playbook: str, **changes: Any) -> dict[str, Any]:
    manifest = {
        "run_id": run_id,
        "job_id": str(uuid.uuid4()),
        "attempt_number": 1,
        "project": {"id": "p1", "name": "executor tests", "scm_type": "local", "local_path": str(PLAYBOOKS), "scm_url": None, "scm_branch": None},
        "playbook": playbook,
        "inventory": {
            "all": {
                "hosts": {"web-1": dict(HOST_VARS), "web-2": dict(HOST_VARS)},
                "vars": {},
                "children": {"web": {"hosts": {"web-1": {}, "web-2": {}}, "vars": {}}},
            }
        },
        "extra_vars": {"greeting": "grüße"},
        "limit": None,
        "forks": 5,
        "verbosity": 0,
        "timeout_seconds": 0,
    }
    manifest.update(changes)
    return manifest


@dataclass
class ExecutorRun:
    run_id: str
    stub: StubRunApi
    spool_dir: Path
    store: ObjectStore
    process: subprocess.Popen[str] | None = None

    @property
    def run_dir(self) -> Path:
        return self.spool_dir / self.run_id

    def start(self, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env.update(extra_env or {})
        env.update(
            {
                "RUN_ID": self.run_id,
                "PRAETOR_API_URL": self.stub.url,
                "PRAETOR_RUN_TOKEN": TOKEN,
                "PRAETOR_OBJECT_STORE_URL": self.store.url,
                "PRAETOR_SPOOL_DIR": str(self.spool_dir),
            }
        )
        log_file = open(self.spool_dir / f"{self.run_id}.executor.log", "w")  # noqa: SIM115 - closed after wait
        self.process = subprocess.Popen(
            [sys.executable, "-m", "praetor.executor"], env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True
        )
        log_file.close()
        return self.process

    def wait(self, timeout: float) -> int:
        if self.process is None:
            raise RuntimeError("the executor was not started")
        return self.process.wait(timeout)

    def log_text(self) -> str:
        return (self.spool_dir / f"{self.run_id}.executor.log").read_text()


@pytest.fixture
def executor_run(tmp_path: Path) -> Iterator[Any]:
    """Return a factory that prepares an executor run of a playbook against a fresh stub API."""
    runs: list[ExecutorRun] = []

    def prepare(playbook: str, *, store: ObjectStore | None = None, **manifest_changes: Any) -> ExecutorRun:
        run_id = str(uuid.uuid4())
        stub = StubRunApi(run_id, TOKEN, make_manifest(run_id, playbook, **manifest_changes)).start()
        spool_dir = tmp_path / "spool"
        spool_dir.mkdir(exist_ok=True)
        if store is None:
            store = open_object_store((tmp_path / "objects").as_uri())
        run = ExecutorRun(run_id, stub, spool_dir, store)
        runs.append(run)
        return run

    yield prepare

    for run in runs:
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        run.stub.stop()
