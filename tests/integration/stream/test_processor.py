"""The stream processor applies each partition's records once, in one transaction per batch.

These tests run the processor on SQLite read models, without Kafka.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stream_support import build_domain_history, job_event_message, log_chunk_message

from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC
from praetor.infra.projection_runner import read_position
from praetor.infra.stream.processor import StreamProcessor
from praetor.infra.stream.records import StreamRecord, position_name
from praetor.infra.stream.topics import DOMAIN_EVENTS_TOPIC, RUN_STATE_TOPIC
from praetor.projections import tables


def job_event_records(run_id: str, job_id: str, offsets_and_seqs: list[tuple[int, int]], partition: int = 0) -> list[StreamRecord]:
    return [
        StreamRecord(JOB_EVENTS_TOPIC, partition, offset, run_id, job_event_message(run_id, job_id, seq))
        for offset, seq in offsets_and_seqs
    ]


def stored_seqs(sessions: sessionmaker[Session], run_id: str) -> list[int]:
    with sessions() as session:
        return list(
            session.scalars(select(tables.JobEvent.seq).where(tables.JobEvent.run_id == UUID(run_id)).order_by(tables.JobEvent.seq))
        )


def stored_position(sessions: sessionmaker[Session], topic: str, partition: int) -> int:
    with sessions() as session:
        return read_position(session, position_name(topic, partition))


def test_job_events_applied_with_position(processor: StreamProcessor, sqlite_sessions) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())

    applied = processor.apply(job_event_records(run_id, job_id, [(0, 1), (1, 2), (2, 3)]))

    assert applied == 3
    assert stored_seqs(sqlite_sessions, run_id) == [1, 2, 3]
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 0) == 3


def test_redelivered_offsets_skipped(processor: StreamProcessor, sqlite_sessions) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    processor.apply(job_event_records(run_id, job_id, [(offset, offset + 1) for offset in range(5)]))

    # Offsets 2 to 4 come again, carrying other events: a redelivery must not apply them.
    redelivered = job_event_records(run_id, job_id, [(2, 102), (3, 103), (4, 104), (5, 6), (6, 7)])
    applied = processor.apply(redelivered)

    assert applied == 2
    assert stored_seqs(sqlite_sessions, run_id) == [1, 2, 3, 4, 5, 6, 7]
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 0) == 7


def test_batch_of_only_redelivered_offsets(processor: StreamProcessor, sqlite_sessions) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    records = job_event_records(run_id, job_id, [(0, 1), (1, 2)])
    processor.apply(records)

    applied = processor.apply(records)

    assert applied == 0
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 0) == 2


def test_offsets_repeated_within_batch(processor: StreamProcessor, sqlite_sessions) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    records = job_event_records(run_id, job_id, [(1, 2), (0, 1), (1, 2), (2, 3)])

    applied = processor.apply(records)

    assert applied == 3
    assert stored_seqs(sqlite_sessions, run_id) == [1, 2, 3]
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 0) == 3


def test_positions_kept_per_partition(processor: StreamProcessor, sqlite_sessions) -> None:
    first_run, second_run, job_id = str(uuid4()), str(uuid4()), str(uuid4())
    processor.apply(job_event_records(first_run, job_id, [(offset, offset + 1) for offset in range(10)], partition=0))

    # Partition 1 has its own offsets: low offsets there are new, not redelivered.
    applied = processor.apply(job_event_records(second_run, job_id, [(0, 1), (1, 2)], partition=1))

    assert applied == 2
    assert stored_seqs(sqlite_sessions, second_run) == [1, 2]
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 0) == 10
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 1) == 2
    assert processor.stored_offsets([(JOB_EVENTS_TOPIC, 0), (JOB_EVENTS_TOPIC, 1), (JOB_EVENTS_TOPIC, 2)]) == {
        (JOB_EVENTS_TOPIC, 0): 10,
        (JOB_EVENTS_TOPIC, 1): 2,
        (JOB_EVENTS_TOPIC, 2): 0,
    }


def test_failing_record_rolls_back_batch(processor: StreamProcessor, sqlite_sessions) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    processor.apply(job_event_records(run_id, job_id, [(0, 1)]))
    batch = job_event_records(run_id, job_id, [(1, 2), (2, 3), (3, 4)])
    # The recap's counters are read after the batch's events were inserted, so the failure
    # comes after writes that the rollback must undo.
    broken_recap = dict(batch[2].value, event_type="playbook_on_stats")
    broken_recap["payload"] = {"event_data": {"ok": {"web-1": "not a number"}}}
    batch[2] = StreamRecord(JOB_EVENTS_TOPIC, 0, 3, run_id, broken_recap)

    with pytest.raises(ValueError, match="not a number"):
        processor.apply(batch)

    assert stored_seqs(sqlite_sessions, run_id) == [1]
    assert stored_position(sqlite_sessions, JOB_EVENTS_TOPIC, 0) == 1

    # The same offsets apply once the record is valid.
    assert processor.apply(job_event_records(run_id, job_id, [(1, 2), (2, 3), (3, 4)])) == 3
    assert stored_seqs(sqlite_sessions, run_id) == [1, 2, 3, 4]


def test_failing_domain_event_rolls_back_batch(processor: StreamProcessor, sqlite_sessions) -> None:
    history = build_domain_history()
    messages = history.messages()
    records = [StreamRecord(DOMAIN_EVENTS_TOPIC, 0, offset, key, value) for offset, (key, value) in enumerate(messages)]
    unknown = dict(records[-1].value, topic="praetor.domain.job:Job.NoSuchEvent")
    records[-1] = StreamRecord(DOMAIN_EVENTS_TOPIC, 0, records[-1].offset, records[-1].key, unknown)

    with pytest.raises(Exception, match="NoSuchEvent"):
        processor.apply(records)

    with sqlite_sessions() as session:
        assert session.scalar(select(func.count()).select_from(tables.Organization)) == 0
        assert session.scalar(select(func.count()).select_from(tables.AggregateVersion)) == 0
    assert stored_position(sqlite_sessions, DOMAIN_EVENTS_TOPIC, 0) == 0


def test_domain_events_build_read_models(processor: StreamProcessor, sqlite_sessions) -> None:
    history = build_domain_history()
    messages = history.messages()
    records = [StreamRecord(DOMAIN_EVENTS_TOPIC, 0, offset, key, value) for offset, (key, value) in enumerate(messages)]

    applied = processor.apply(records)

    assert applied == len(messages)
    with sqlite_sessions() as session:
        organization = session.get(tables.Organization, history.organization.id)
        inventory = session.get(tables.Inventory, history.inventory.id)
        job = session.get(tables.Job, history.job.id)
        run = session.get(tables.Run, history.run_id)
        versions = dict(session.execute(select(tables.AggregateVersion.aggregate_id, tables.AggregateVersion.version)).all())
    assert organization.name == "ops-renamed"
    assert inventory.total_hosts == 3
    assert job.status == "successful"
    assert job.extra_vars == {"big": 2**70, "text": "grüße"}
    assert run.state == "successful"
    assert run.event_count == 12
    assert versions == {
        history.organization.id: history.organization.version,
        history.inventory.id: history.inventory.version,
        history.job.id: history.job.version,
    }


def test_repeated_domain_events_skipped(processor: StreamProcessor, sqlite_sessions) -> None:
    history = build_domain_history()
    messages = history.messages()
    processor.apply([StreamRecord(DOMAIN_EVENTS_TOPIC, 0, offset, key, value) for offset, (key, value) in enumerate(messages)])
    with sqlite_sessions() as session:
        session.get(tables.Job, history.job.id).status = "edited-by-test"
        session.commit()

    # A relay that restarts may send events again at new offsets, and they must change nothing.
    resent = [
        StreamRecord(DOMAIN_EVENTS_TOPIC, 0, len(messages) + offset, key, value)
        for offset, (key, value) in enumerate(messages)
    ]
    processor.apply(resent)

    with sqlite_sessions() as session:
        assert session.get(tables.Job, history.job.id).status == "edited-by-test"
    assert stored_position(sqlite_sessions, DOMAIN_EVENTS_TOPIC, 0) == 2 * len(messages)


def test_log_chunks_applied(processor: StreamProcessor, sqlite_sessions) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    records = [StreamRecord(LOG_CHUNKS_TOPIC, 2, index, run_id, log_chunk_message(run_id, job_id, index)) for index in range(3)]

    assert processor.apply(records) == 3

    with sqlite_sessions() as session:
        keys = list(session.scalars(select(tables.LogChunk.object_key).order_by(tables.LogChunk.chunk_index)))
    assert keys == [f"runs/{run_id}/stdout/{index:08d}.log" for index in range(3)]
    assert stored_position(sqlite_sessions, LOG_CHUNKS_TOPIC, 2) == 3


def test_batch_across_partitions_rejected(processor: StreamProcessor) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    records = job_event_records(run_id, job_id, [(0, 1)], partition=0) + job_event_records(run_id, job_id, [(0, 2)], partition=1)

    with pytest.raises(ValueError, match="one topic partition"):
        processor.apply(records)


def test_run_state_topic_rejected(processor: StreamProcessor) -> None:
    record = StreamRecord(RUN_STATE_TOPIC, 0, 0, "run", {"run_id": "run", "state": "running"})

    with pytest.raises(ValueError, match="is not applied here"):
        processor.apply([record])


def test_topic_prefix_names_topics(sqlite_sessions) -> None:
    processor = StreamProcessor(sqlite_sessions, topic_prefix="site-a.")
    run_id, job_id = str(uuid4()), str(uuid4())
    record = StreamRecord("site-a." + JOB_EVENTS_TOPIC, 0, 0, run_id, job_event_message(run_id, job_id, 1))

    assert processor.topics == ("site-a." + DOMAIN_EVENTS_TOPIC, "site-a." + JOB_EVENTS_TOPIC, "site-a." + LOG_CHUNKS_TOPIC)
    assert processor.apply([record]) == 1
    assert stored_position(sqlite_sessions, "site-a." + JOB_EVENTS_TOPIC, 0) == 1
    with pytest.raises(ValueError, match="is not applied here"):
        processor.apply([StreamRecord(JOB_EVENTS_TOPIC, 0, 0, run_id, job_event_message(run_id, job_id, 1))])


def test_empty_batch_changes_nothing(processor: StreamProcessor, sqlite_sessions) -> None:
    assert processor.apply([]) == 0
    with sqlite_sessions() as session:
        assert session.scalar(select(func.count()).select_from(tables.ProjectionPosition)) == 0
