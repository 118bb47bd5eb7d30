"""Unit tests of the Kafka event sink, with a fake producer in place of kafka-python's."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.errors import (
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumberError,
)

from praetor.executor.api import RunApiClient
from praetor.executor.chunks import ChunkPublisher, StdoutChunker
from praetor.executor.environment import ExecutorEnvironment, KafkaSettings
from praetor.executor.kafka_sink import (
    KafkaRunSink,
    build_job_event_message,
    build_log_chunk_message,
    producer_config,
)
from praetor.executor.logs import RunLogContext
from praetor.executor.program import select_event_sink
from praetor.executor.retry import Backoff
from praetor.executor.sender import EventSender
from praetor.executor.sink import RetryAborted, SinkRejectedError
from praetor.executor.spool import SpoolWriter, encode_record
from praetor.infra.object_store import open_object_store

JOB_ID = "7f6c2a55-3f0e-4d55-9d1c-1f6b7a0f4e21"
FAST_BACKOFF = Backoff(initial=0.01, maximum=0.02)
SETTINGS = KafkaSettings(bootstrap_servers=("127.0.0.1:9092",), topic_prefix="tenant-a.")

# A value for FakeCluster.outcomes: the record's future never completes.
PENDING = "pending"


def make_record(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_type": "runner_on_ok",
        "uuid": f"uuid-{seq}",
        "parent_uuid": None,
        "counter": seq,
        "created": f"2026-12-04T20:15:04.{seq:06d}",
        "stdout": f"ok: [web-1] grüße {seq} ✓",
        "start_line": seq,
        "end_line": seq + 1,
        "event_data": {"host": "web-1", "res": {"ping": "pong"}},
    }


def make_announcement(index: int) -> dict[str, Any]:
    return {
        "index": index,
        "object_key": f"runs/r/stdout/{index:08d}.log",
        "first_seq": index * 10 + 1,
        "last_seq": index * 10 + 10,
        "byte_offset": index * 100,
        "size": 100,
    }


class FakeFuture:
    def __init__(self, error: Exception | None, pending: bool) -> None:
        self.error = error
        self.pending = pending

    @property
    def is_done(self) -> bool:
        return not self.pending

    def get(self, timeout: float | None = None) -> str:
        if self.pending:
            time.sleep(min(timeout or 0.01, 0.01))
            raise KafkaTimeoutError(f"Timeout after waiting for {timeout} secs.")
        if self.error is not None:
            raise self.error
        return "record metadata"


class FakeSender:
    def __init__(self) -> None:
        self.force_closed = False

    def force_close(self) -> None:
        self.force_closed = True

    def join(self, timeout: float | None = None) -> None:
        return None


class FakeProducer:
    def __init__(self, cluster: FakeCluster, config: dict[str, Any]) -> None:
        self.cluster = cluster
        self.config = config
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.closed = False
        self.close_failures = 0
        self._sender = FakeSender()

    def send(self, topic: str, key: bytes, value: bytes) -> FakeFuture:
        if self.cluster.send_errors:
            raise self.cluster.send_errors.popleft()
        outcome = self.cluster.outcomes.popleft() if self.cluster.outcomes else None
        self.sent.append((topic, key, value))
        if outcome is None:
            self.cluster.acknowledged.append((topic, key, value))
        return FakeFuture(None if outcome in (None, PENDING) else outcome, outcome == PENDING)

    def close(self, timeout: float | None = None) -> None:
        if self.close_failures:
            self.close_failures -= 1
            raise KafkaTimeoutError("Timeout waiting for future")
        self.closed = True


class FakeCluster:
    """Producer factory whose builds, sends and records fail as queued in its fields."""

    def __init__(self) -> None:
        self.build_errors: deque[Exception] = deque()
        self.send_errors: deque[Exception] = deque()
        # One entry per send(): None acknowledges the record, an exception fails it, PENDING never completes.
        self.outcomes: deque[Exception | str | None] = deque()
        self.producers: list[FakeProducer] = []
        self.acknowledged: list[tuple[str, bytes, bytes]] = []

    def __call__(self, **config: Any) -> FakeProducer:
        if self.build_errors:
            raise self.build_errors.popleft()
        producer = FakeProducer(self, config)
        self.producers.append(producer)
        return producer


def make_sink(cluster: FakeCluster, run_id: str, log_context: RunLogContext, **options: Any) -> KafkaRunSink:
    return KafkaRunSink(SETTINGS, run_id, JOB_ID, log_context, backoff=FAST_BACKOFF, producer_factory=cluster, **options)


def test_job_event_message_format() -> None:
    record = make_record(17)

    message = build_job_event_message("run-1", JOB_ID, record)

    assert message == {
        "run_id": "run-1",
        "job_id": JOB_ID,
        "seq": 17,
        "event_type": "runner_on_ok",
        "timestamp": "2026-12-04T20:15:04.000017",
        "payload": record,
    }


def test_job_event_message_without_created() -> None:
    record = {"seq": 1, "event_type": "playbook_on_start", "created": None}

    message = build_job_event_message("run-1", JOB_ID, record)

    assert message["timestamp"] is None


def test_log_chunk_message_format() -> None:
    message = build_log_chunk_message("run-1", JOB_ID, make_announcement(2))

    assert message == {
        "run_id": "run-1",
        "job_id": JOB_ID,
        "index": 2,
        "object_key": "runs/r/stdout/00000002.log",
        "first_seq": 21,
        "last_seq": 30,
        "byte_offset": 200,
        "size": 100,
    }


def test_producer_config_acks_all_idempotent() -> None:
    config, unknown = producer_config(SETTINGS, "run-1")

    assert unknown == []
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is True
    assert "transactional_id" not in config
    assert config["max_block_ms"] == 5000
    assert config["bootstrap_timeout_ms"] == 5000
    assert config["bootstrap_servers"] == ["127.0.0.1:9092"]
    assert config["client_id"] == "praetor-executor-run-1"


def test_producer_config_accepted_by_kafka_python() -> None:
    config, _ = producer_config(SETTINGS, "run-1")

    # KafkaProducer raises "Unrecognized configs" for an option it does not know.
    assert set(config) <= set(KafkaProducer.DEFAULT_CONFIG)


def test_sink_publishes_job_events(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    sink = make_sink(cluster, run_id, log_context)
    records = [make_record(seq) for seq in range(1, 4)]

    sink.send_events([encode_record(record) for record in records])

    assert [topic for topic, _, _ in cluster.acknowledged] == ["tenant-a.praetor.job-events"] * 3
    assert [key for _, key, _ in cluster.acknowledged] == [run_id.encode()] * 3
    messages = [json.loads(value.decode("utf-8")) for _, _, value in cluster.acknowledged]
    assert [message["seq"] for message in messages] == [1, 2, 3]
    assert messages[0] == build_job_event_message(run_id, JOB_ID, records[0])
    # UTF-8 JSON, not ASCII with \u escapes.
    assert "grüße 1 ✓".encode() in cluster.acknowledged[0][2]


def test_sink_replaces_lone_surrogates(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    sink = make_sink(cluster, run_id, log_context)
    record = make_record(1)
    record["stdout"] = "bad byte \udc80 here"
    record["event_data"] = {"big": 2**70}

    sink.send_events([encode_record(record)])

    value = cluster.acknowledged[0][2]
    message = json.loads(value.decode("utf-8"))
    assert message["payload"]["stdout"] == "bad byte \ufffd here"
    assert message["payload"]["event_data"]["big"] == 2**70


def test_sink_publishes_log_chunks(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    sink = make_sink(cluster, run_id, log_context)

    sink.send_log_chunks([make_announcement(0), make_announcement(1)])

    assert [topic for topic, _, _ in cluster.acknowledged] == ["tenant-a.praetor.log-chunks"] * 2
    assert [key for _, key, _ in cluster.acknowledged] == [run_id.encode()] * 2
    messages = [json.loads(value) for _, _, value in cluster.acknowledged]
    assert messages == [build_log_chunk_message(run_id, JOB_ID, make_announcement(index)) for index in (0, 1)]


def test_sink_builds_producer_on_first_send(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    sink = make_sink(cluster, run_id, log_context)
    assert cluster.producers == []

    sink.send_events([encode_record(make_record(1))])
    sink.send_log_chunks([make_announcement(0)])

    assert len(cluster.producers) == 1
    assert cluster.producers[0].config["acks"] == "all"


def test_sink_retries_unreachable_bootstrap(run_id: str, log_context: RunLogContext, caplog: pytest.LogCaptureFixture) -> None:
    cluster = FakeCluster()
    cluster.build_errors.extend([KafkaTimeoutError("Unable to bootstrap"), KafkaTimeoutError("Unable to bootstrap")])
    sink = make_sink(cluster, run_id, log_context)

    with caplog.at_level(logging.INFO, logger="praetor.executor.kafka_sink"):
        sink.send_events([encode_record(make_record(seq)) for seq in (1, 2)])

    assert len(cluster.acknowledged) == 2
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert f"run_id={run_id}" in warnings[0]
    assert "failed (attempt 1): KafkaTimeoutError: Unable to bootstrap" in warnings[0]
    assert "failed (attempt 2)" in warnings[1]
    assert "acknowledged after 3 attempts" in caplog.text


def test_sink_resends_batch_after_failed_record(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    cluster.outcomes.extend([None, NotLeaderForPartitionError(), None])
    sink = make_sink(cluster, run_id, log_context)

    sink.send_events([encode_record(make_record(seq)) for seq in (1, 2, 3)])

    # The retriable error keeps the producer, and the whole batch goes out again.
    assert len(cluster.producers) == 1
    seqs = [json.loads(value)["seq"] for _, _, value in cluster.producers[0].sent]
    assert seqs == [1, 2, 3, 1, 2, 3]
    assert sorted({json.loads(value)["seq"] for _, _, value in cluster.acknowledged}) == [1, 2, 3]


def test_sink_rebuilds_producer_after_fatal_error(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    cluster.outcomes.append(OutOfOrderSequenceNumberError())
    sink = make_sink(cluster, run_id, log_context)

    sink.send_events([encode_record(make_record(1))])

    assert len(cluster.producers) == 2
    assert cluster.producers[0].closed
    assert not cluster.producers[1].closed
    assert len(cluster.producers[1].sent) == 1


def test_sink_replaces_producer_that_never_completes(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    cluster.outcomes.append(PENDING)
    sink = make_sink(cluster, run_id, log_context, attempt_timeout=0.2)

    sink.send_events([encode_record(make_record(1))])

    assert len(cluster.producers) == 2
    assert cluster.producers[0].closed
    assert len(cluster.acknowledged) == 1


def test_sink_rejects_oversized_record(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    cluster.send_errors.append(MessageSizeTooLargeError("The message is 2000000 bytes"))
    sink = make_sink(cluster, run_id, log_context)

    with pytest.raises(SinkRejectedError, match="MessageSizeTooLargeError"):
        sink.send_events([encode_record(make_record(1))])

    assert len(cluster.producers) == 1
    assert cluster.acknowledged == []


def test_sink_aborts_retries(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    cluster.build_errors.extend(KafkaTimeoutError("Unable to bootstrap") for _ in range(10_000))
    sink = make_sink(cluster, run_id, log_context)
    abort = threading.Event()
    threading.Timer(0.2, abort.set).start()
    started = time.monotonic()

    with pytest.raises(RetryAborted):
        sink.send_events([encode_record(make_record(1))], abort=abort)

    assert time.monotonic() - started < 2


def test_sink_aborts_wait_for_acknowledgement(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    cluster.outcomes.append(PENDING)
    sink = make_sink(cluster, run_id, log_context)
    abort = threading.Event()
    threading.Timer(0.2, abort.set).start()
    started = time.monotonic()

    with pytest.raises(RetryAborted):
        sink.send_events([encode_record(make_record(1))], abort=abort)

    assert time.monotonic() - started < 2


def test_sink_close_forces_queued_records(run_id: str, log_context: RunLogContext) -> None:
    cluster = FakeCluster()
    sink = make_sink(cluster, run_id, log_context)
    sink.send_events([encode_record(make_record(1))])
    producer = cluster.producers[0]
    producer.close_failures = 1

    sink.close()

    assert producer._sender.force_closed
    assert producer.closed
    with pytest.raises(RetryAborted):
        sink.send_events([encode_record(make_record(2))])


def test_select_sink_without_kafka(run_id: str, log_context: RunLogContext, tmp_path: Path) -> None:
    env = ExecutorEnvironment(run_id, "http://127.0.0.1:9", "token", "file:///objects", tmp_path)
    client = RunApiClient(env.api_url, run_id, "token", log_context)

    sink = select_event_sink(env, client, JOB_ID, log_context)
    client.close()

    assert sink is client


def test_select_sink_with_kafka(run_id: str, log_context: RunLogContext, tmp_path: Path) -> None:
    env = ExecutorEnvironment(run_id, "http://127.0.0.1:9", "token", "file:///objects", tmp_path, kafka=SETTINGS)
    client = RunApiClient(env.api_url, run_id, "token", log_context)

    sink = select_event_sink(env, client, JOB_ID, log_context)
    client.close()

    assert isinstance(sink, KafkaRunSink)
    assert sink.job_id == JOB_ID
    assert sink.job_events_topic == "tenant-a.praetor.job-events"
    assert sink.log_chunks_topic == "tenant-a.praetor.log-chunks"


def test_sender_fails_on_rejected_batch(run_id: str, log_context: RunLogContext, tmp_path: Path) -> None:
    cluster = FakeCluster()
    cluster.send_errors.append(MessageSizeTooLargeError("The message is 2000000 bytes"))
    sink = make_sink(cluster, run_id, log_context)
    spool = SpoolWriter(tmp_path / "events.jsonl")
    failures: list[str] = []
    sender = EventSender(sink, spool, log_context, on_fatal=failures.append)

    sender.start()
    spool.append(make_record(1))
    spool.close()
    drained = sender.drain(10)

    assert not drained
    assert len(failures) == 1
    assert failures[0].startswith("the event sink rejected events: events batch to Kafka topic tenant-a.praetor.job-events was rejected")
    assert sender.acked_seq == 0


def test_sender_acks_after_kafka_retries(run_id: str, log_context: RunLogContext, tmp_path: Path) -> None:
    cluster = FakeCluster()
    cluster.build_errors.extend([KafkaTimeoutError("Unable to bootstrap")] * 3)
    sink = make_sink(cluster, run_id, log_context)
    spool = SpoolWriter(tmp_path / "events.jsonl")
    failures: list[str] = []
    sender = EventSender(sink, spool, log_context, on_fatal=failures.append)

    sender.start()
    for seq in range(1, 601):
        spool.append(make_record(seq))
    spool.close()
    drained = sender.drain(10)

    assert drained
    assert failures == []
    assert sender.acked_seq == 600
    assert sorted(json.loads(value)["seq"] for _, _, value in cluster.acknowledged) == list(range(1, 601))


def test_publisher_fails_on_rejected_announcement(run_id: str, log_context: RunLogContext, tmp_path: Path) -> None:
    cluster = FakeCluster()
    cluster.send_errors.append(MessageSizeTooLargeError("The message is 2000000 bytes"))
    sink = make_sink(cluster, run_id, log_context)
    store = open_object_store((tmp_path / "objects").as_uri())
    failures: list[str] = []
    publisher = ChunkPublisher(sink, store, run_id, log_context, on_fatal=failures.append, chunker=StdoutChunker(max_bytes=10))

    publisher.start()
    publisher.add(1, "0123456789")
    drained = publisher.drain(10)

    assert not drained
    assert len(failures) == 1
    assert failures[0].startswith("the event sink rejected log chunks:")
    assert publisher.announced_count == 0
