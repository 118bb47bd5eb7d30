"""Stream workers build the PostgreSQL read models from real Kafka topics, each message once.

Every test produces messages in the format of docs/events.md, runs `python -m
praetor.infra.stream` as separate processes, and reads what they wrote to PostgreSQL.
"""

from __future__ import annotations

import re
from uuid import UUID, uuid4

from kafka import TopicPartition
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from stream_support import (
    WorkerProcess,
    build_domain_history,
    commit_offsets,
    committed_offsets,
    end_offsets,
    job_event_message,
    log_chunk_message,
    partition_of,
    produce,
    wait_until,
)

from praetor.infra.database import create_read_model_engine, session_factory
from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC
from praetor.infra.stream.records import position_name
from praetor.infra.stream.topics import DOMAIN_EVENTS_TOPIC
from praetor.projections import tables

TOPIC_PARTITIONS = 3
APPLY_TIMEOUT_SECONDS = 90


def wait_for_schema(read_models: sessionmaker[Session], *workers: WorkerProcess) -> None:
    """Wait until the workers have migrated the empty test database."""

    def migrated() -> bool:
        with read_models() as session:
            return inspect(session.connection()).has_table("projection_positions")

    wait_until(migrated, APPLY_TIMEOUT_SECONDS, lambda: "\n".join(worker.log_tail() for worker in workers))


def job_event_rows(read_models: sessionmaker[Session]) -> list[tuple[UUID, int]]:
    with read_models() as session:
        return [tuple(row) for row in session.execute(select(tables.JobEvent.run_id, tables.JobEvent.seq))]


def count_job_events(read_models: sessionmaker[Session]) -> int:
    with read_models() as session:
        return session.scalar(select(func.count()).select_from(tables.JobEvent))


def stored_positions(read_models: sessionmaker[Session], topic: str) -> dict[int, int]:
    names = {position_name(topic, partition): partition for partition in range(TOPIC_PARTITIONS)}
    with read_models() as session:
        rows = session.execute(
            select(tables.ProjectionPosition.name, tables.ProjectionPosition.position).where(
                tables.ProjectionPosition.name.in_(names)
            )
        )
        return {names[name]: position for name, position in rows}


def nonempty(offsets: dict[int, int]) -> dict[int, int]:
    return {partition: offset for partition, offset in offsets.items() if offset > 0}


def runs_on_distinct_partitions(count: int) -> list[str]:
    """Return `count` run ids that the default partitioner puts on different partitions."""
    by_partition: dict[int, str] = {}
    while len(by_partition) < count:
        run_id = str(uuid4())
        by_partition.setdefault(partition_of(run_id, TOPIC_PARTITIONS), run_id)
    return list(by_partition.values())


def assigned_job_event_partitions(worker: WorkerProcess, topic: str) -> set[int]:
    """Return the job-event partitions of the worker's latest assignment, read from its log."""
    assignments = [line for line in worker.log_text().splitlines() if "faust_worker: Assigned" in line]
    if not assignments:
        return set()
    return {int(number) for number in re.findall(re.escape(topic) + r" partition (\d+)", assignments[-1])}


def applied_partitions(worker: WorkerProcess, topic: str) -> set[int]:
    """Return the partitions of `topic` that the worker's debug log shows batches applied for."""
    return {int(number) for number in re.findall(r"Applied offsets \d+ to \d+ of " + re.escape(topic) + r" partition (\d+)", worker.log_text())}


def failure_text(read_models, *workers: WorkerProcess) -> str:
    logs = "\n".join(f"--- {worker.name} log ---\n{worker.log_tail()}" for worker in workers)
    return f"job_events holds {count_job_events(read_models)} rows\n{logs}"


def test_worker_stores_job_events_once(kafka_bootstrap, topic_prefix, read_models, start_worker, group_id) -> None:
    topic = topic_prefix + JOB_EVENTS_TOPIC
    first_run, second_run = runs_on_distinct_partitions(2)
    job_id = str(uuid4())
    messages = [(run_id, job_event_message(run_id, job_id, seq)) for run_id in (first_run, second_run) for seq in range(1, 41)]
    # Executors resend batches they are unsure about, so some events arrive twice.
    duplicates = messages[10:20] + messages[55:60]
    counts = produce(kafka_bootstrap, topic, messages + duplicates)
    assert len(counts) == 2
    produce(kafka_bootstrap, topic_prefix + LOG_CHUNKS_TOPIC, [(first_run, log_chunk_message(first_run, job_id, index)) for index in range(4)])

    worker = start_worker("single")
    wait_for_schema(read_models, worker)
    wait_until(lambda: count_job_events(read_models) >= 80, APPLY_TIMEOUT_SECONDS, lambda: failure_text(read_models, worker))
    wait_until(
        lambda: stored_positions(read_models, topic) == nonempty(end_offsets(kafka_bootstrap, topic, TOPIC_PARTITIONS)),
        APPLY_TIMEOUT_SECONDS,
        lambda: f"positions {stored_positions(read_models, topic)}\n{failure_text(read_models, worker)}",
    )
    wait_until(
        lambda: len(stored_positions(read_models, topic_prefix + LOG_CHUNKS_TOPIC)) == 1,
        APPLY_TIMEOUT_SECONDS,
        lambda: failure_text(read_models, worker),
    )
    exit_code = worker.stop()

    rows = job_event_rows(read_models)
    assert len(rows) == 80
    assert sorted(rows) == sorted((UUID(run_id), seq) for run_id in (first_run, second_run) for seq in range(1, 41))
    with read_models() as session:
        assert session.scalar(select(func.count()).select_from(tables.LogChunk)) == 4
    assert exit_code == 0, worker.log_tail()
    assert f"Stream worker starting: group {group_id}" in worker.log_text()
    assert f"Stream worker of group {group_id} stopped" in worker.log_text()


def test_worker_builds_domain_read_models(kafka_bootstrap, topic_prefix, read_models, start_worker) -> None:
    history = build_domain_history()
    messages = history.messages()
    # A relay that restarts sends some events again, at new offsets.
    produce(kafka_bootstrap, topic_prefix + DOMAIN_EVENTS_TOPIC, messages + messages[2:6])
    expected_versions = {
        history.organization.id: history.organization.version,
        history.inventory.id: history.inventory.version,
        history.job.id: history.job.version,
    }

    worker = start_worker("domain")
    wait_for_schema(read_models, worker)

    def versions() -> dict[UUID, int]:
        with read_models() as session:
            return dict(session.execute(select(tables.AggregateVersion.aggregate_id, tables.AggregateVersion.version)).all())

    wait_until(lambda: versions() == expected_versions, APPLY_TIMEOUT_SECONDS, lambda: f"{versions()}\n{worker.log_tail()}")
    topic = topic_prefix + DOMAIN_EVENTS_TOPIC
    wait_until(
        lambda: stored_positions(read_models, topic) == nonempty(end_offsets(kafka_bootstrap, topic, TOPIC_PARTITIONS)),
        APPLY_TIMEOUT_SECONDS,
        lambda: f"positions {stored_positions(read_models, topic)}\n{worker.log_tail()}",
    )
    exit_code = worker.stop()

    with read_models() as session:
        organization = session.get(tables.Organization, history.organization.id)
        inventory = session.get(tables.Inventory, history.inventory.id)
        hosts = session.scalars(select(tables.Host.name).where(tables.Host.inventory_id == history.inventory.id)).all()
        job = session.get(tables.Job, history.job.id)
        run = session.get(tables.Run, history.run_id)
    assert organization.name == "ops-renamed"
    assert organization.description == "operations"
    assert inventory.organization_id == history.organization.id
    assert inventory.variables == {"region": "eu"}
    assert inventory.total_hosts == 3
    assert sorted(hosts) == ["web-0", "web-1", "web-2"]
    assert job.status == "successful"
    assert job.extra_vars == {"big": 2**70, "text": "grüße"}
    assert job.current_run_id == history.run_id
    assert job.finished_at is not None
    assert run.state == "successful"
    assert run.exit_code == 0
    assert run.event_count == 12
    assert exit_code == 0, worker.log_tail()


def test_two_workers_share_partitions(kafka_bootstrap, topic_prefix, database_url, start_worker) -> None:
    topic = topic_prefix + JOB_EVENTS_TOPIC
    # Both workers create the schema and migrate the empty database at the same moment.
    first = start_worker("first", "--log-level", "debug", "--read-model-schema", "praetor_read")
    second = start_worker("second", "--log-level", "debug", "--read-model-schema", "praetor_read")
    engine = create_read_model_engine(database_url, schema="praetor_read")
    read_models = session_factory(engine)
    wait_for_schema(read_models, first, second)

    def split() -> bool:
        first_partitions = assigned_job_event_partitions(first, topic)
        second_partitions = assigned_job_event_partitions(second, topic)
        return (
            bool(first_partitions)
            and bool(second_partitions)
            and not first_partitions & second_partitions
            and first_partitions | second_partitions == set(range(TOPIC_PARTITIONS))
        )

    wait_until(split, APPLY_TIMEOUT_SECONDS, lambda: f"{first.log_tail()}\n{second.log_tail()}")

    job_id = str(uuid4())
    run_ids = [str(uuid4()) for _ in range(12)]
    messages = [(run_id, job_event_message(run_id, job_id, seq)) for run_id in run_ids for seq in range(1, 201)]
    counts = produce(kafka_bootstrap, topic, messages + messages[::7])
    wait_until(
        lambda: stored_positions(read_models, topic) == nonempty(end_offsets(kafka_bootstrap, topic, TOPIC_PARTITIONS)),
        APPLY_TIMEOUT_SECONDS,
        lambda: f"positions {stored_positions(read_models, topic)}\n{failure_text(read_models, first, second)}",
    )

    rows = job_event_rows(read_models)
    assert len(rows) == len(messages)
    assert len(set(rows)) == len(messages)
    assert sorted(counts) == list(range(TOPIC_PARTITIONS))
    assert applied_partitions(first, topic) == assigned_job_event_partitions(first, topic)
    assert applied_partitions(second, topic) == assigned_job_event_partitions(second, topic)
    assert first.stop() == 0, first.log_tail()
    assert second.stop() == 0, second.log_tail()
    engine.dispose()


def test_restarted_worker_resumes_without_duplicates(kafka_bootstrap, topic_prefix, read_models, start_worker, group_id) -> None:
    topic = topic_prefix + JOB_EVENTS_TOPIC
    job_id = str(uuid4())
    run_ids = [str(uuid4()) for _ in range(6)]
    messages = [(run_id, job_event_message(run_id, job_id, seq)) for run_id in run_ids for seq in range(1, 1001)]
    produce(kafka_bootstrap, topic, messages)

    # Small batches make the first worker slow enough to be stopped in the middle, and the
    # short session lets the group hand its partitions on soon after the kill.
    worker = start_worker("interrupted", "--batch-size", "20", "--session-timeout", "10")
    wait_for_schema(read_models, worker)
    wait_until(lambda: count_job_events(read_models) >= 500, APPLY_TIMEOUT_SECONDS, lambda: failure_text(read_models, worker))
    worker.kill()
    applied_before_restart = count_job_events(read_models)
    positions_before_restart = stored_positions(read_models, topic)

    later = [(run_id, job_event_message(run_id, job_id, seq)) for run_id in run_ids for seq in range(1001, 1101)]
    produce(kafka_bootstrap, topic, later)
    restarted = start_worker("restarted")
    wait_for_schema(read_models, restarted)
    wait_until(
        lambda: stored_positions(read_models, topic) == nonempty(end_offsets(kafka_bootstrap, topic, TOPIC_PARTITIONS)),
        APPLY_TIMEOUT_SECONDS,
        lambda: f"positions {stored_positions(read_models, topic)}\n{failure_text(read_models, worker, restarted)}",
    )
    exit_code = restarted.stop()

    rows = job_event_rows(read_models)
    assert applied_before_restart < len(messages), "the first worker finished before it was stopped"
    assert len(rows) == len(messages) + len(later)
    assert len(set(rows)) == len(rows)
    committed = committed_offsets(kafka_bootstrap, group_id, [TopicPartition(topic, partition) for partition in range(TOPIC_PARTITIONS)])
    assert {tp.partition: offset for tp, offset in committed.items() if offset} == stored_positions(read_models, topic)
    for partition, position in positions_before_restart.items():
        assert f"{topic} partition {partition} at" in restarted.log_text()
        assert position <= stored_positions(read_models, topic)[partition]
    assert exit_code == 0, restarted.log_tail()


def test_worker_resumes_behind_committed_offset(kafka_bootstrap, topic_prefix, read_models, start_worker, group_id) -> None:
    topic = topic_prefix + JOB_EVENTS_TOPIC
    run_id, job_id = str(uuid4()), str(uuid4())
    produce(kafka_bootstrap, topic, [(run_id, job_event_message(run_id, job_id, seq)) for seq in range(1, 31)])
    # Kafka has a committed offset past messages the read models never applied, as after
    # faust acked a batch whose transaction failed.
    ends = end_offsets(kafka_bootstrap, topic, TOPIC_PARTITIONS)
    commit_offsets(kafka_bootstrap, group_id, {TopicPartition(topic, partition): end for partition, end in ends.items()})

    worker = start_worker("behind")
    wait_for_schema(read_models, worker)
    wait_until(lambda: count_job_events(read_models) == 30, APPLY_TIMEOUT_SECONDS, lambda: failure_text(read_models, worker))
    exit_code = worker.stop()

    busy_partition = next(partition for partition, end in ends.items() if end)
    assert f"Resuming {topic} partition {busy_partition} at stored offset 0 instead of committed offset 30" in worker.log_text()
    assert exit_code == 0, worker.log_tail()


def test_new_group_resumes_at_stored_offsets(kafka_bootstrap, topic_prefix, read_models, start_worker) -> None:
    topic = topic_prefix + JOB_EVENTS_TOPIC
    run_id, job_id = str(uuid4()), str(uuid4())
    produce(kafka_bootstrap, topic, [(run_id, job_event_message(run_id, job_id, seq)) for seq in range(1, 21)])
    first = start_worker("first-group")
    wait_for_schema(read_models, first)
    wait_until(lambda: count_job_events(read_models) == 20, APPLY_TIMEOUT_SECONDS, lambda: failure_text(read_models, first))
    assert first.stop() == 0, first.log_tail()

    # A group with no committed offsets starts where the read models are, not at the start.
    second = start_worker("second-group", "--log-level", "debug", group=f"other-{uuid4().hex[:8]}")
    wait_for_schema(read_models, second)
    wait_until(lambda: "Worker ready" in second.log_text(), APPLY_TIMEOUT_SECONDS, second.log_tail)
    exit_code = second.stop()

    busy_partition = partition_of(run_id, TOPIC_PARTITIONS)
    assert f"Resuming {topic} partition {busy_partition} at stored offset 20 instead of committed offset None" in second.log_text()
    assert "Applied offsets" not in second.log_text()
    assert exit_code == 0, second.log_tail()


def test_failing_batch_retried_after_restart(kafka_bootstrap, topic_prefix, read_models, start_worker, group_id) -> None:
    topic = topic_prefix + JOB_EVENTS_TOPIC
    run_id, job_id = str(uuid4()), str(uuid4())
    partition = partition_of(run_id, TOPIC_PARTITIONS)
    broken = job_event_message(run_id, job_id, 6)
    del broken["job_id"]
    messages = [(run_id, job_event_message(run_id, job_id, seq)) for seq in range(1, 6)]
    messages += [(run_id, broken)] + [(run_id, job_event_message(run_id, job_id, seq)) for seq in range(7, 11)]
    produce(kafka_bootstrap, topic, messages)

    worker = start_worker("failing")
    wait_for_schema(read_models, worker)
    wait_until(lambda: "(attempt 2)" in worker.log_text(), APPLY_TIMEOUT_SECONDS, worker.log_tail)
    exit_code = worker.stop()
    position = stored_positions(read_models, topic).get(partition, 0)
    committed = committed_offsets(kafka_bootstrap, group_id, [TopicPartition(topic, partition)])

    # The broken event is at offset 5: its batch is rolled back on every attempt.
    assert position <= 5
    assert count_job_events(read_models) == position
    assert f"of {topic} partition {partition} failed (attempt 1)" in worker.log_text()
    assert exit_code == 0, worker.log_tail()

    restarted = start_worker("restarted")
    wait_until(lambda: "(attempt 1)" in restarted.log_text(), APPLY_TIMEOUT_SECONDS, restarted.log_tail)
    restarted.stop()

    # faust may have committed past the failed batch when it stopped; the worker must resume
    # before it all the same.
    assert f"Applying offsets {position} to 9 of {topic} partition {partition} failed" in restarted.log_text(), (
        f"Kafka committed {committed}, stored position {position}\n{restarted.log_tail()}"
    )
    assert count_job_events(read_models) == position
