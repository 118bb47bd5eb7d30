from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from run_api_stub import StubRunApi

from praetor.executor.api import ApiUnavailableError, RunApiClient, RunApiError
from praetor.executor.logs import RunLogContext
from praetor.executor.retry import Backoff
from praetor.executor.sender import EventSender
from praetor.executor.spool import SpoolWriter

TOKEN = "test-run-token"
FAST_BACKOFF = Backoff(initial=0.01, maximum=0.05)


def make_record(seq: int) -> dict:
    return {"seq": seq, "event_type": "runner_on_ok", "stdout": f"ok {seq} ✓", "event_data": {}}


def make_sender(url: str, run_id: str, tmp_path: Path, log_context: RunLogContext, failures: list[str]):
    client = RunApiClient(url, run_id, TOKEN, log_context, backoff=FAST_BACKOFF)
    spool = SpoolWriter(tmp_path / "events.jsonl")
    sender = EventSender(client, spool, log_context, on_fatal=failures.append)
    return client, spool, sender


def test_sender_batches_in_seq_order(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    client, spool, sender = make_sender(stub_api.url, stub_api.run_id, tmp_path, log_context, failures)

    sender.start()
    for seq in range(1, 1201):
        spool.append(make_record(seq))
    spool.close()
    drained = sender.drain(10)
    client.close()

    assert drained
    assert failures == []
    assert sender.acked_seq == 1200
    assert stub_api.event_arrivals == list(range(1, 1201))
    assert max(stub_api.event_batches) <= 500
    assert stub_api.events[7]["stdout"] == "ok 7 ✓"


def test_sender_sends_partial_batch_after_delay(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    client, spool, sender = make_sender(stub_api.url, stub_api.run_id, tmp_path, log_context, failures)

    sender.start()
    for seq in range(1, 4):
        spool.append(make_record(seq))
    deadline = time.monotonic() + 5
    while sender.acked_seq < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    acked_while_open = sender.acked_seq
    spool.close()
    sender.drain(5)
    client.close()

    assert acked_while_open == 3
    assert stub_api.event_batches == [3]


def test_sender_retries_server_errors(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    stub_api.fail_next("events", 503, 500, 429, 409)
    client, spool, sender = make_sender(stub_api.url, stub_api.run_id, tmp_path, log_context, failures)

    sender.start()
    for seq in range(1, 11):
        spool.append(make_record(seq))
    spool.close()
    drained = sender.drain(10)
    client.close()

    assert drained
    assert failures == []
    assert stub_api.calls_to("events")[:5] == [503, 500, 429, 409, 202]
    assert sorted(stub_api.events) == list(range(1, 11))


def test_sender_retries_until_server_is_up(tmp_path: Path, run_id: str, log_context: RunLogContext) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    failures: list[str] = []
    client, spool, sender = make_sender(f"http://127.0.0.1:{port}", run_id, tmp_path, log_context, failures)

    sender.start()
    for seq in range(1, 6):
        spool.append(make_record(seq))
    spool.close()
    time.sleep(0.5)
    # NOTE: another process may take the port between the probe and this bind; the test then fails.
    with StubRunApi(run_id, TOKEN, port=port) as stub:
        drained = sender.drain(10)
    client.close()

    assert drained
    assert sorted(stub.events) == [1, 2, 3, 4, 5]


def test_sender_stops_on_client_error(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    stub_api.fail_next("events", 422)
    client, spool, sender = make_sender(stub_api.url, stub_api.run_id, tmp_path, log_context, failures)

    sender.start()
    for seq in range(1, 4):
        spool.append(make_record(seq))
    spool.close()
    drained = sender.drain(10)
    client.close()

    assert not drained
    assert len(failures) == 1
    assert "HTTP 422" in failures[0]
    assert "injected failure 422" in failures[0]
    assert sender.acked_seq == 0


def test_sender_drain_times_out_while_api_down(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    stub_api.fail_next("events", *([503] * 1000))
    client, spool, sender = make_sender(stub_api.url, stub_api.run_id, tmp_path, log_context, failures)

    sender.start()
    spool.append(make_record(1))
    spool.close()
    started = time.monotonic()
    drained = sender.drain(1.0)
    elapsed = time.monotonic() - started
    client.close()

    assert not drained
    assert failures == []
    assert elapsed < 5
    assert sender.acked_seq == 0


def test_client_finish_retries_conflict(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    client = RunApiClient(stub_api.url, stub_api.run_id, TOKEN, log_context, backoff=FAST_BACKOFF)
    stub_api.fail_next("finish", 409, 503)

    client.finish({"state": "successful", "exit_code": 0, "error_reason": None, "event_count": 0, "chunk_count": 0})
    client.close()

    assert stub_api.calls_to("finish") == [409, 503, 200]


def test_client_finish_gives_up_at_deadline(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    client = RunApiClient(stub_api.url, stub_api.run_id, TOKEN, log_context, backoff=FAST_BACKOFF)
    stub_api.fail_next("finish", *([503] * 1000))

    with pytest.raises(ApiUnavailableError, match="finish request failed"):
        client.finish({"state": "failed", "event_count": 0}, deadline_seconds=0.5)
    client.close()


def test_client_rejects_wrong_token(stub_api: StubRunApi, log_context: RunLogContext) -> None:
    client = RunApiClient(stub_api.url, stub_api.run_id, "wrong-token", log_context, backoff=FAST_BACKOFF)

    with pytest.raises(RunApiError) as raised:
        client.get_manifest()
    client.close()

    assert raised.value.status_code == 401
