from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import psutil
import pytest

from praetor.infra.local_launcher import LocalLauncher


def wait_for_exit(launcher: LocalLauncher, run_id: str, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    exited: dict[str, int] = {}
    while run_id not in exited and time.monotonic() < deadline:
        exited.update(launcher.reap())
        time.sleep(0.1)
    return exited


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_launcher_reaps_exited_executor(tmp_path: Path) -> None:
    launcher = LocalLauncher("http://127.0.0.1:1", (tmp_path / "objects").as_uri(), tmp_path / "spool")

    pid = launcher.launch("not-a-uuid", "tok-7f3a9c")
    exited = wait_for_exit(launcher, "not-a-uuid", 60)

    assert pid > 0
    assert exited == {"not-a-uuid": 2}
    assert launcher.running() == {}
    log_text = (tmp_path / "spool" / "not-a-uuid" / "executor.log").read_text()
    assert "RUN_ID 'not-a-uuid' is not a UUID" in log_text
    assert "tok-7f3a9c" not in log_text


def test_launcher_stop_all_ends_executors(tmp_path: Path) -> None:
    # Nothing listens on the API port, so the executor keeps retrying the manifest request.
    launcher = LocalLauncher(f"http://127.0.0.1:{unused_port()}", (tmp_path / "objects").as_uri(), tmp_path / "spool")
    run_id = str(uuid.uuid4())
    pid = launcher.launch(run_id, "token")
    time.sleep(1.0)
    assert launcher.running() == {run_id: pid}
    with pytest.raises(ValueError, match="already running"):
        launcher.launch(run_id, "token")

    started = time.monotonic()
    launcher.stop_all(timeout=2)
    elapsed = time.monotonic() - started

    assert elapsed < 10
    assert launcher.running() == {}
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert "manifest request failed" in (tmp_path / "spool" / run_id / "executor.log").read_text()


@pytest.mark.parametrize("run_id", ["", "..", "a/b"])
def test_launcher_rejects_invalid_run_id(tmp_path: Path, run_id: str) -> None:
    launcher = LocalLauncher("http://127.0.0.1:1", (tmp_path / "objects").as_uri(), tmp_path / "spool")

    with pytest.raises(ValueError, match="invalid"):
        launcher.launch(run_id, "token")
