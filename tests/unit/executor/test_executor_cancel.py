from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import psutil
from run_api_stub import StubRunApi

from praetor.executor.api import RunApiClient
from praetor.executor.cancel import StopWatcher
from praetor.executor.logs import RunLogContext

TOKEN = "test-run-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_watcher(stub: StubRunApi, log_context: RunLogContext, clock: FakeClock) -> tuple[RunApiClient, StopWatcher]:
    client = RunApiClient(stub.url, stub.run_id, TOKEN, log_context)
    return client, StopWatcher(client, log_context, clock=clock, grace_seconds=0.5)


def test_watcher_polls_once_per_interval(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    clock = FakeClock()
    client, watcher = make_watcher(stub_api, log_context, clock)

    results = [watcher() for _ in range(10)]
    clock.now += 1.0
    results.append(watcher())
    client.close()

    assert results == [False] * 11
    assert stub_api.calls_to("control") == [200, 200]


def test_watcher_treats_errors_as_not_canceled(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    clock = FakeClock()
    stub_api.fail_next("control", 503, 404)
    client, watcher = make_watcher(stub_api, log_context, clock)

    first = watcher()
    clock.now += 1.0
    second = watcher()
    clock.now += 1.0
    stub_api.cancel_requested = True
    third = watcher()
    client.close()

    assert (first, second) == (False, False)
    assert third is True
    assert watcher.cancel_requested


def test_watcher_stops_on_request_stop(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    clock = FakeClock()
    client, watcher = make_watcher(stub_api, log_context, clock)

    watcher.request_stop("spool write failed")
    stopped = watcher()
    stub_api.cancel_requested = True
    watcher.request_stop("a later reason")
    client.close()

    assert stopped is True
    assert watcher.stop_reason == "spool write failed"
    assert not watcher.cancel_requested


def test_watcher_times_out_without_stopping(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    clock = FakeClock()
    client, watcher = make_watcher(stub_api, log_context, clock)
    watcher.start_timer(5)

    clock.now += 4.9
    before = watcher()
    clock.now += 0.2
    after = watcher()
    client.close()

    assert before is False
    assert after is False
    assert watcher.timed_out


KILL_SCRIPT = textwrap.dedent(
    """
    import json, subprocess, sys, time
    from praetor.executor.cancel import kill_process_tree

    plain = subprocess.Popen(["sleep", "293"])
    # A grandchild in its own session, like the workers of ansible-playbook.
    parent = subprocess.Popen(["sh", "-c", "sleep 293 & wait"], start_new_session=True)
    # A child that ignores SIGTERM, so only SIGKILL stops it.
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(293)"], stdout=subprocess.PIPE)
    stubborn.stdout.readline()
    time.sleep(0.3)
    pids = [child.pid for child in __import__("psutil").Process().children(recursive=True)]
    signaled = kill_process_tree(0.5)
    print(json.dumps({"pids": pids, "signaled": signaled}))
    """
)


def test_kill_process_tree_kills_descendants() -> None:
    result = subprocess.run([sys.executable, "-c", KILL_SCRIPT], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # sleep, sh, the sleep below sh, and the python that ignores SIGTERM
    assert len(report["pids"]) == 4
    assert report["signaled"] >= 4
    survivors = [pid for pid in report["pids"] if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert survivors == []
