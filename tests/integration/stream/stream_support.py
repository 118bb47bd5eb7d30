"""Message builders, a Kafka producer helper and a worker subprocess for the stream tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.partitioner.default import murmur2
from kafka.structs import OffsetAndMetadata

from praetor.domain.inventory import Inventory
from praetor.domain.job import Job
from praetor.domain.organization import Organization
from praetor.domain.statuses import RunState
from praetor.infra.event_log import encode_message
from praetor.infra.event_store import PraetorApplication
from praetor.infra.stream.messages import domain_event_message

KAFKA_TIMEOUT_SECONDS = 30


def job_event_message(run_id: str, job_id: str, seq: int) -> dict[str, Any]:
    """Return a `praetor.job-events` message value as docs/events.md describes it."""
    return {
        "run_id": run_id,
        "job_id": job_id,
        "seq": seq,
        "event_type": "runner_on_ok",
        "timestamp": "2026-12-04T20:15:04.000123",
        "payload": {
            "seq": seq,
            "event_type": "runner_on_ok",
            "uuid": str(uuid4()),
            "parent_uuid": None,
            "counter": seq,
            "created": "2026-12-04T20:15:04.000123",
            "stdout": f"ok: [web-1] {seq}",
            "start_line": seq,
            "end_line": seq + 1,
            "event_data": {"host": "web-1", "task": "Ping", "play": "all", "res": {"ping": "pong"}},
        },
    }


def log_chunk_message(run_id: str, job_id: str, index: int) -> dict[str, Any]:
    """Return a `praetor.log-chunks` message value as docs/events.md describes it."""
    return {
        "run_id": run_id,
        "job_id": job_id,
        "index": index,
        "object_key": f"runs/{run_id}/stdout/{index:08d}.log",
        "first_seq": index * 10 + 1,
        "last_seq": index * 10 + 10,
        "byte_offset": index * 100,
        "size": 100,
    }


@dataclass
class DomainHistory:
    """Aggregates saved in an in-memory event store, and their notifications as messages."""

    app: PraetorApplication
    organization: Organization
    inventory: Inventory
    job: Job
    run_id: UUID

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        notifications = self.app.recorder.select_notifications(start=1, limit=10_000)
        return [domain_event_message(notification) for notification in notifications]


def build_domain_history() -> DomainHistory:
    """Save an organization, an inventory with hosts, and a job with a finished run."""
    app = PraetorApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    organization = Organization(name="ops", description="operations")
    organization.update({"name": "ops-renamed"})
    inventory = Inventory(name="prod", description="", organization_id=organization.id, variables={"region": "eu"})
    for number in range(3):
        inventory.add_host(uuid4(), f"web-{number}", "", {"ansible_connection": "local"}, True)
    job = Job(
        name="ping",
        job_template_id=uuid4(),
        organization_id=organization.id,
        project_id=uuid4(),
        inventory_id=inventory.id,
        playbook="site.yml",
        extra_vars={"big": 2**70, "text": "grüße"},
        limit="",
        forks=5,
        verbosity=0,
        timeout_seconds=0,
        launched_by="admin",
        relaunch_of=None,
    )
    run_id = uuid4()
    job.schedule_run(run_id, "default")
    job.start_run(run_id)
    job.finish_run(run_id, RunState.SUCCESSFUL, 0, None, 12)
    _save(app, organization, inventory, job)
    return DomainHistory(app=app, organization=organization, inventory=inventory, job=job, run_id=run_id)


def _save(app: PraetorApplication, *aggregates: Aggregate) -> None:
    for aggregate in aggregates:
        app.save(aggregate)


def create_topics(bootstrap: str, names: Iterable[str], partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=KAFKA_TIMEOUT_SECONDS * 1000)
    try:
        admin.create_topics([NewTopic(name, partitions, 1) for name in names], timeout_ms=KAFKA_TIMEOUT_SECONDS * 1000)
    finally:
        admin.close()


def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=KAFKA_TIMEOUT_SECONDS * 1000)
    try:
        existing = set(admin.list_topics())
        doomed = [name for name in names if name in existing]
        if doomed:
            admin.delete_topics(doomed, timeout_ms=KAFKA_TIMEOUT_SECONDS * 1000)
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, messages: Sequence[tuple[str, dict[str, Any]]]) -> dict[int, int]:
    """Send `(key, value)` messages in order, keyed like Praetor's producers, and return the count per partition."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    counts: dict[int, int] = {}
    try:
        futures = [producer.send(topic, key=key.encode(), value=encode_message(value).data) for key, value in messages]
        producer.flush(timeout=KAFKA_TIMEOUT_SECONDS)
        for future in futures:
            metadata = future.get(timeout=KAFKA_TIMEOUT_SECONDS)
            counts[metadata.partition] = counts.get(metadata.partition, 0) + 1
    finally:
        producer.close()
    return counts


def partition_of(key: str, partitions: int) -> int:
    """Return the partition that Kafka's default partitioner (murmur2 of the key) picks for `key`."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        offsets = consumer.end_offsets([TopicPartition(topic, partition) for partition in range(partitions)])
    finally:
        consumer.close()
    return {tp.partition: offset for tp, offset in offsets.items()}


def commit_offsets(bootstrap: str, group_id: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit offsets for a consumer group that has no active member."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        consumer.assign(list(offsets))
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
    finally:
        consumer.close(autocommit=False)


def committed_offsets(bootstrap: str, group_id: str, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int | None]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        return {tp: consumer.committed(tp) for tp in partitions}
    finally:
        consumer.close(autocommit=False)


def wait_until(condition: Callable[[], bool], timeout: float, failure: Callable[[], str]) -> None:
    """Poll `condition` until it is true, and fail with the text of `failure` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {failure()}")
        time.sleep(0.2)


@dataclass
class WorkerProcess:
    """One `python -m praetor.infra.stream` process with its log file."""

    name: str
    arguments: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps its own copy
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "praetor.infra.stream", *self.arguments],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=dict(os.environ),
            )
        finally:
            log_file.close()
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 60) -> int:
        """Send SIGTERM to the process by its pid and return its exit code."""
        assert self.process is not None, f"worker {self.name} was not started"
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None, f"worker {self.name} was not started"
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
