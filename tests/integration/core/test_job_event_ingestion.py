"""Job events reach the read models once, however often they are appended or replayed."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import func, select

from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC
from praetor.infra.log_consumer import EmbeddedLogConsumer
from praetor.projections import tables

STATS = {
    "ok": {"web-1": 3, "web-2": 1},
    "changed": {"web-1": 1},
    "failures": {"web-2": 1},
    "dark": {"db-1": 1},
    "skipped": {},
    "rescued": {},
    "ignored": {"web-2": 1},
    "processed": {"web-1": 1, "web-2": 1, "db-1": 1},
}


def event_messages(run_id: str, job_id: str, count: int) -> list[tuple[str, dict]]:
    messages = []
    for seq in range(1, count + 1):
        event_type = "playbook_on_stats" if seq == count else "runner_on_ok"
        event_data = STATS if seq == count else {"host": "web-1", "task": "ping", "play": "all"}
        messages.append(
            (
                run_id,
                {
                    "run_id": run_id,
                    "job_id": job_id,
                    "seq": seq,
                    "event_type": event_type,
                    "timestamp": "2026-12-04T12:00:00.000001",
                    "payload": {"seq": seq, "event_type": event_type, "stdout": f"line {seq}", "event_data": event_data},
                },
            )
        )
    return messages


def count_rows(container, table, run_id: str) -> int:
    with container.sessions() as session:
        return session.scalar(select(func.count()).select_from(table).where(table.run_id == UUID(run_id)))


def test_duplicate_batches_add_nothing(container) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    messages = event_messages(run_id, job_id, 50)

    container.event_log.append(JOB_EVENTS_TOPIC, messages)
    container.event_log.append(JOB_EVENTS_TOPIC, messages[:30])
    container.event_log.append(JOB_EVENTS_TOPIC, messages)
    container.log_consumer.catch_up()

    assert count_rows(container, tables.JobEvent, run_id) == 50
    assert count_rows(container, tables.JobHostSummary, run_id) == 3


def test_host_summaries_from_stats(container) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    container.event_log.append(JOB_EVENTS_TOPIC, event_messages(run_id, job_id, 5))
    container.log_consumer.catch_up()

    with container.sessions() as session:
        rows = {row.host: row for row in session.scalars(select(tables.JobHostSummary).where(tables.JobHostSummary.run_id == UUID(run_id)))}
    assert (rows["web-1"].ok, rows["web-1"].changed, rows["web-1"].failed) == (3, 1, False)
    assert (rows["web-2"].ok, rows["web-2"].failures, rows["web-2"].ignored, rows["web-2"].failed) == (1, 1, 1, True)
    assert (rows["db-1"].ok, rows["db-1"].dark, rows["db-1"].failed) == (0, 1, True)


def test_restarted_consumer_resumes_at_offset(container) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    messages = event_messages(run_id, job_id, 20)
    container.event_log.append(JOB_EVENTS_TOPIC, messages[:10])
    container.log_consumer.catch_up()
    container.log_consumer.stop()

    restarted = EmbeddedLogConsumer(container.event_log, container.sessions)
    container.event_log.append(JOB_EVENTS_TOPIC, messages[10:])
    applied = restarted.catch_up()

    assert applied == 10
    assert count_rows(container, tables.JobEvent, run_id) == 20


def test_log_chunks_indexed_once(container) -> None:
    run_id, job_id = str(uuid4()), str(uuid4())
    chunk = {"run_id": run_id, "job_id": job_id, "index": 0, "object_key": f"runs/{run_id}/stdout/00000000.log", "byte_offset": 0, "size": 10}
    container.event_log.append(LOG_CHUNKS_TOPIC, [(run_id, chunk), (run_id, chunk)])
    container.log_consumer.catch_up()

    assert count_rows(container, tables.LogChunk, run_id) == 1
