"""The executor in the distributed mode: events and chunk announcements go to a real Kafka broker.

These tests need the broker of scripts/services/kafka.sh and the S3 server of scripts/services/moto.sh.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from typing import Any

import pytest
from conftest import KafkaTopics, S3Store, TopicReader, require_env
from tcp_proxy import TcpProxy

from praetor.executor.environment import KafkaSettings
from praetor.executor.kafka_sink import KafkaRunSink
from praetor.executor.logs import RunLogContext
from praetor.executor.retry import Backoff
from praetor.executor.sender import EventSender
from praetor.executor.sink import RetryAborted
from praetor.executor.spool import SpoolWriter, encode_record, read_spool

JOB_EVENT_FIELDS = {"run_id", "job_id", "seq", "event_type", "timestamp", "payload"}
LOG_CHUNK_FIELDS = {"run_id", "job_id", "index", "object_key", "first_seq", "last_seq", "byte_offset", "size"}


def stdout_of(records: list[dict[str, Any]]) -> bytes:
    return "".join(record["stdout"] + "\n" for record in records if record["stdout"]).encode("utf-8")


def decode(value: bytes) -> dict[str, Any]:
    return json.loads(value.decode("utf-8"))


def first_copies(messages: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Drop the repeats that at-least-once delivery allows, keeping the first copy of each `field` value."""
    seen: set[Any] = set()
    firsts = []
    for message in messages:
        if message[field] not in seen:
            seen.add(message[field])
            firsts.append(message)
    return firsts


def check_job_events(reader: TopicReader, run_id: str, job_id: str, spooled: list[dict[str, Any]]) -> int:
    """Check the run's job-event messages against the spool, and return the number of repeated messages."""
    records = reader.records(reader.topics.job_events, run_id)
    assert records, "no job-event messages for the run"
    assert {record.partition for record in records} == {records[0].partition}

    messages = [decode(record.value) for record in records]
    seqs = [message["seq"] for message in messages]
    assert set(seqs) == set(range(1, len(spooled) + 1))
    # The records are in offset order, so the first copies show the order the broker stored them in.
    firsts = first_copies(messages, "seq")
    assert [message["seq"] for message in firsts] == list(range(1, len(spooled) + 1))

    for message in messages:
        assert set(message) == JOB_EVENT_FIELDS
        assert message["run_id"] == run_id
        assert message["job_id"] == job_id
        payload = message["payload"]
        assert payload == spooled[message["seq"] - 1]
        assert message["event_type"] == payload["event_type"]
        assert message["timestamp"] == payload["created"]
    return len(messages) - len(firsts)


def check_log_chunks(reader: TopicReader, run: Any, job_id: str, spooled: list[dict[str, Any]], chunk_count: int) -> int:
    """Check the run's chunk messages against the object store, and return the number of repeated messages."""
    records = reader.records(reader.topics.log_chunks, run.run_id)
    messages = [decode(record.value) for record in records]
    firsts = sorted(first_copies(messages, "index"), key=lambda message: message["index"])
    assert [message["index"] for message in firsts] == list(range(chunk_count))

    offset = 0
    for message in firsts:
        assert set(message) == LOG_CHUNK_FIELDS
        assert message["run_id"] == run.run_id
        assert message["job_id"] == job_id
        assert message["object_key"] == f"runs/{run.run_id}/stdout/{message['index']:08d}.log"
        assert message["byte_offset"] == offset
        assert message["size"] == len(run.store.get(message["object_key"]))
        assert message["first_seq"] <= message["last_seq"]
        offset += message["size"]

    keys = run.store.list(f"runs/{run.run_id}/stdout/")
    assert keys == [message["object_key"] for message in firsts]
    assert b"".join(run.store.get(key) for key in keys) == stdout_of(spooled)
    return len(messages) - len(firsts)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_executor_publishes_to_kafka(executor_run, kafka_topics: KafkaTopics, s3_store: S3Store) -> None:
    run = executor_run("hello.yml", store=s3_store.store)
    job_id = run.stub.manifest["job_id"]

    with TopicReader(kafka_topics, run.stub) as reader:
        run.start({**kafka_topics.executor_env(), **s3_store.executor_env()})
        exit_code = run.wait(180)
        assert exit_code == 0, run.log_text()

        finish = run.stub.finish_bodies[-1]
        spooled = list(read_spool(run.run_dir / "events.jsonl"))
        assert finish["state"] == "successful"
        assert finish["event_count"] == len(spooled)
        assert reader.wait_for(run.run_id, events=len(spooled), chunks=finish["chunk_count"], timeout=30)

        event_repeats = check_job_events(reader, run.run_id, job_id, spooled)
        chunk_repeats = check_log_chunks(reader, run, job_id, spooled, finish["chunk_count"])

    assert run.stub.calls_to("events") == []
    assert run.stub.calls_to("log-chunks") == []
    assert run.stub.start_calls == 1
    assert finish["chunk_count"] >= 1
    assert [record["event_type"] for record in spooled].count("runner_on_ok") == 8
    assert "héllo wörld ✓ from web-1".encode() in stdout_of(spooled)
    print(f"{len(spooled)} events, {finish['chunk_count']} chunks, repeated messages: {event_repeats} events, {chunk_repeats} chunks")


def test_executor_delivers_after_kafka_outage(executor_run, kafka_topics: KafkaTopics, tcp_proxy: TcpProxy) -> None:
    run = executor_run("hello.yml", limit="web-1")
    job_id = run.stub.manifest["job_id"]
    spool_path = run.run_dir / "events.jsonl"

    def ansible_done_and_retried() -> bool:
        log = run.log_text()
        spooled = spool_path.read_text() if spool_path.exists() else ""
        return '"playbook_on_stats"' in spooled and "failed (attempt 2)" in log

    with TopicReader(kafka_topics, run.stub) as reader:
        run.start(kafka_topics.executor_env(bootstrap=tcp_proxy.address))
        # ansible runs to the end, and every event is spooled, while connections to Kafka are refused.
        assert wait_for(ansible_done_and_retried, 120), run.log_text()
        assert run.process is not None and run.process.poll() is None
        assert reader.records(kafka_topics.job_events, run.run_id) == []

        host, port = kafka_topics.bootstrap.rsplit(":", 1)
        tcp_proxy.forward_to(host, int(port))
        exit_code = run.wait(120)
        assert exit_code == 0, run.log_text()

        finish = run.stub.finish_bodies[-1]
        spooled = list(read_spool(spool_path))
        assert reader.wait_for(run.run_id, events=len(spooled), chunks=finish["chunk_count"], timeout=30)
        event_repeats = check_job_events(reader, run.run_id, job_id, spooled)
        chunk_repeats = check_log_chunks(reader, run, job_id, spooled, finish["chunk_count"])

    assert finish["state"] == "successful"
    assert finish["event_count"] == len(spooled)
    assert run.stub.calls_to("events") == []
    log = run.log_text()
    retries = [line for line in log.splitlines() if "to Kafka topic" in line and "failed (attempt" in line]
    assert any(f"run_id={run.run_id}" in line and "events batch" in line and "failed (attempt 1)" in line for line in retries), log
    assert any("log chunk announcement" in line for line in retries), log
    assert "acknowledged after" in log
    assert tcp_proxy.connections >= 1
    print(f"{len(retries)} retry lines, repeated messages: {event_repeats} events, {chunk_repeats} chunks")


def test_sender_publishes_batches_in_order(kafka_topics: KafkaTopics, run_id: str, tmp_path) -> None:
    settings = KafkaSettings(bootstrap_servers=(kafka_topics.bootstrap,), topic_prefix=kafka_topics.prefix)
    log_context = RunLogContext(run_id, "job-1")
    sink = KafkaRunSink(settings, run_id, "job-1", log_context)
    spool = SpoolWriter(tmp_path / "events.jsonl")
    failures: list[str] = []
    sender = EventSender(sink, spool, log_context, on_fatal=failures.append)

    sender.start()
    for seq in range(1, 2001):
        spool.append({"seq": seq, "event_type": "runner_on_ok", "created": None, "stdout": f"ok {seq} ✓"})
    spool.close()
    drained = sender.drain(60)
    sink.close()

    assert drained
    assert failures == []
    assert sender.acked_seq == 2000
    assert sender.batches_sent >= 4
    with TopicReader(kafka_topics) as reader:
        assert reader.wait_for(run_id, events=2000, chunks=0, timeout=30)
        records = reader.records(kafka_topics.job_events, run_id)
    assert len({record.partition for record in records}) == 1
    seqs = [decode(record.value)["seq"] for record in records]
    assert [message["seq"] for message in first_copies([{"seq": seq} for seq in seqs], "seq")] == list(range(1, 2001))
    print(f"{sender.batches_sent} batches, repeated messages: {len(seqs) - 2000}")


def test_kafka_sink_retries_until_broker_reachable(
    kafka_topics: KafkaTopics, tcp_proxy: TcpProxy, run_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = KafkaSettings(bootstrap_servers=(tcp_proxy.address,), topic_prefix=kafka_topics.prefix)
    sink = KafkaRunSink(settings, run_id, "job-1", RunLogContext(run_id), backoff=Backoff(initial=0.1, maximum=0.5))
    lines = [encode_record({"seq": seq, "event_type": "runner_on_ok", "created": None, "stdout": f"line {seq}"}) for seq in range(1, 301)]
    errors: list[BaseException] = []

    def send() -> None:
        try:
            sink.send_events(lines, abort=threading.Event())
        except BaseException as error:  # noqa: BLE001 - the test thread reports any failure
            errors.append(error)

    with caplog.at_level(logging.INFO, logger="praetor.executor.kafka_sink"):
        sender = threading.Thread(target=send)
        sender.start()
        assert wait_for(lambda: "failed (attempt 2)" in caplog.text, 60), caplog.text
        assert sender.is_alive()

        host, port = kafka_topics.bootstrap.rsplit(":", 1)
        tcp_proxy.forward_to(host, int(port))
        sender.join(60)
        sink.close()

    assert not sender.is_alive()
    assert errors == []
    assert "acknowledged after" in caplog.text
    with TopicReader(kafka_topics) as reader:
        assert reader.wait_for(run_id, events=300, chunks=0, timeout=30)
        seqs = Counter(decode(record.value)["seq"] for record in reader.records(kafka_topics.job_events, run_id))
    assert set(seqs) == set(range(1, 301))


def test_kafka_sink_aborts_while_unreachable(tcp_proxy: TcpProxy, run_id: str) -> None:
    require_env("PRAETOR_TEST_KAFKA_BOOTSTRAP", "kafka.sh")
    settings = KafkaSettings(bootstrap_servers=(tcp_proxy.address,))
    sink = KafkaRunSink(settings, run_id, "job-1", RunLogContext(run_id), backoff=Backoff(initial=0.1, maximum=0.5))
    abort = threading.Event()
    threading.Timer(1.0, abort.set).start()
    started = time.monotonic()

    with pytest.raises(RetryAborted):
        sink.send_events([encode_record({"seq": 1, "event_type": "runner_on_ok", "created": None})], abort=abort)
    elapsed = time.monotonic() - started
    sink.close()

    # The producer's bootstrap is bounded to 5 s, so the abort is seen within one bootstrap.
    assert elapsed < 8
