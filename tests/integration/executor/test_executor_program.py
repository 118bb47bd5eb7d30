from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psutil

from praetor.executor.spool import read_spool

PLAYBOOKS = Path(__file__).parent / "playbooks"


def stdout_of(records: list[dict]) -> bytes:
    return "".join(record["stdout"] + "\n" for record in records if record["stdout"]).encode("utf-8")


def test_executor_runs_playbook(executor_run) -> None:
    run = executor_run("hello.yml")
    run.start()

    exit_code = run.wait(120)

    assert exit_code == 0, run.log_text()
    stub = run.stub
    assert stub.start_calls == 1

    seqs = sorted(stub.events)
    assert seqs == list(range(1, len(seqs) + 1))
    records = [stub.events[seq] for seq in seqs]
    event_types = [record["event_type"] for record in records]
    assert event_types[0] == "playbook_on_start"
    assert "playbook_on_stats" in event_types
    assert event_types.count("runner_on_ok") == 8
    assert set(records[0]) == {"seq", "event_type", "uuid", "parent_uuid", "counter", "created", "stdout", "start_line", "end_line", "event_data"}

    finish = stub.finish_bodies[-1]
    assert finish == {"state": "successful", "exit_code": 0, "error_reason": None, "event_count": len(seqs), "chunk_count": len(stub.chunks)}

    spooled = list(read_spool(run.run_dir / "events.jsonl"))
    assert spooled == records
    assert not (run.run_dir / "private").exists()

    keys = run.store.list(f"runs/{run.run_id}/stdout/")
    assert keys == [f"runs/{run.run_id}/stdout/{index:08d}.log" for index in range(len(stub.chunks))]
    text = b"".join(run.store.get(key) for key in keys)
    assert text == stdout_of(records)
    assert "héllo wörld ✓ from web-1".encode() in text
    assert ("ä" * 20000).encode() in text
    assert b"\x1b[" in text
    assert "extra var is grüße".encode() in text

    offset = 0
    for index in range(len(keys)):
        chunk = stub.chunks[index]
        assert chunk["byte_offset"] == offset
        assert chunk["size"] == len(run.store.get(chunk["object_key"]))
        assert chunk["first_seq"] <= chunk["last_seq"]
        offset += chunk["size"]


def test_executor_retries_flaky_api(executor_run) -> None:
    run = executor_run("hello.yml", limit="web-1")
    run.stub.fail_next("manifest", 503, 502)
    run.stub.fail_next("start", 500)
    run.stub.fail_next("events", 503, 503, 503)
    run.stub.fail_next("log-chunks", 500)
    run.stub.fail_next("finish", 409, 503)
    run.start()

    exit_code = run.wait(120)

    assert exit_code == 0, run.log_text()
    assert run.stub.calls_to("manifest") == [503, 502, 200]
    seqs = sorted(run.stub.events)
    assert seqs == list(range(1, len(seqs) + 1))
    assert run.stub.finish_bodies[-1]["state"] == "successful"
    assert run.stub.finish_bodies[-1]["event_count"] == len(seqs)
    assert "events batch failed (attempt 3)" in run.log_text()


def test_executor_reports_failed_playbook(executor_run) -> None:
    run = executor_run("fail.yml")
    run.start()

    exit_code = run.wait(120)

    assert exit_code == 0, run.log_text()
    finish = run.stub.finish_bodies[-1]
    assert finish["state"] == "failed"
    assert finish["exit_code"] == 2
    assert finish["error_reason"] is None
    assert "runner_on_failed" in [record["event_type"] for record in run.stub.events.values()]


def test_executor_reports_missing_playbook(executor_run) -> None:
    run = executor_run("absent.yml")
    run.start()

    exit_code = run.wait(60)

    assert exit_code == 0, run.log_text()
    finish = run.stub.finish_bodies[-1]
    assert finish["state"] == "error"
    assert finish["error_reason"] == "playbook 'absent.yml' not found in the project"
    assert finish["event_count"] == 0


def test_executor_reports_rejected_manifest(executor_run) -> None:
    run = executor_run("hello.yml")
    run.stub.fail_next("manifest", 404)
    run.start()

    exit_code = run.wait(60)

    assert exit_code == 0, run.log_text()
    assert run.stub.start_calls == 0
    finish = run.stub.finish_bodies[-1]
    assert finish["state"] == "error"
    assert "HTTP 404" in finish["error_reason"]


def test_executor_exits_nonzero_when_finish_rejected(executor_run) -> None:
    run = executor_run("absent.yml")
    run.stub.fail_next("finish", 400)
    run.start()

    exit_code = run.wait(60)

    assert exit_code == 1, run.log_text()
    assert run.stub.calls_to("finish") == [400]
    assert "reporting the result failed" in run.log_text()


def test_executor_runs_git_project(executor_run, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hello.yml").write_text((PLAYBOOKS / "hello.yml").read_text())
    for args in (["init", "--quiet"], ["add", "."], ["-c", "user.email=dev@example.com", "-c", "user.name=Dev", "commit", "--quiet", "-m", "init"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    project = {"id": "p2", "name": "git project", "scm_type": "git", "local_path": None, "scm_url": repo.as_uri(), "scm_branch": None}
    run = executor_run("hello.yml", project=project, limit="web-2")
    run.start()

    exit_code = run.wait(120)

    assert exit_code == 0, run.log_text()
    assert run.stub.finish_bodies[-1]["state"] == "successful"


def test_executor_reports_timeout(executor_run) -> None:
    run = executor_run("sleep.yml", timeout_seconds=2, extra_vars={"sleep_seconds": 331})
    run.start()
    started = time.monotonic()

    exit_code = run.wait(60)

    assert exit_code == 0, run.log_text()
    assert time.monotonic() - started < 30
    finish = run.stub.finish_bodies[-1]
    assert finish["state"] == "failed"
    assert finish["error_reason"] == "timed out after 2 s"
    assert sleeping_processes("331") == []


def test_executor_cancels_run(executor_run) -> None:
    run = executor_run("sleep.yml", extra_vars={"sleep_seconds": 317})
    run.start()
    assert wait_for(lambda: sleeping_processes("317"), 60), run.log_text()

    run.stub.cancel_requested = True
    canceled_at = time.monotonic()
    exit_code = run.wait(60)
    elapsed = time.monotonic() - canceled_at

    assert exit_code == 0, run.log_text()
    assert elapsed < 15
    finish = run.stub.finish_bodies[-1]
    assert finish["state"] == "canceled"
    assert finish["exit_code"] is None
    assert finish["event_count"] == len(run.stub.events)
    assert sleeping_processes("317") == []


def test_executor_stops_on_sigterm(executor_run) -> None:
    run = executor_run("sleep.yml", extra_vars={"sleep_seconds": 319})
    process = run.start()
    assert wait_for(lambda: sleeping_processes("319"), 60), run.log_text()

    process.send_signal(signal.SIGTERM)
    exit_code = run.wait(60)

    assert exit_code == 0, run.log_text()
    finish = run.stub.finish_bodies[-1]
    assert finish["state"] == "error"
    assert finish["error_reason"] == "the executor received SIGTERM"
    assert sleeping_processes("319") == []
    assert (run.run_dir / "events.jsonl").exists()


def sleeping_processes(seconds: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if len(cmdline) >= 2 and cmdline[0].endswith("sleep") and cmdline[1] == seconds:
            found.append(process)
    return found


def wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    return None
