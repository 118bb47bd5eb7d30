"""`praetor replay` on the embedded mode: rebuilt read models equal the live ones."""

from __future__ import annotations

import json
from uuid import UUID

from sqlalchemy import select

from praetor.commands.jobs import LaunchJob, ScheduleRun
from praetor.executor.spool import SPOOL_FILE_NAME
from praetor.infra.bootstrap import build_container
from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC
from praetor.infra.replay import replay
from praetor.projections import tables

COMPARED = [tables.Organization, tables.Project, tables.Inventory, tables.Host, tables.JobTemplate, tables.Job, tables.Run,
            tables.User, tables.JobHostSummary, tables.LogChunk, tables.AggregateVersion]
STATS = {"ok": {"web-1": 2}, "changed": {"web-1": 1}, "failures": {}, "dark": {}, "skipped": {}, "rescued": {}, "ignored": {}, "processed": {"web-1": 1}}


def rows_of(sessions) -> dict[str, list[tuple]]:
    snapshot = {}
    with sessions() as session:
        for table in COMPARED:
            columns = [column.key for column in table.__table__.columns if column.key != "id" or table is not tables.JobHostSummary]
            key = [getattr(table, column.key) for column in table.__table__.primary_key.columns]
            snapshot[table.__tablename__] = sorted(
                tuple(str(getattr(row, column)) for column in columns) for row in session.scalars(select(table).order_by(*key))
            )
        snapshot["job_events"] = sorted(
            (str(row.run_id), row.seq, row.event_type, row.stdout) for row in session.scalars(select(tables.JobEvent))
        )
    return snapshot


def record(seq: int, event_type: str = "runner_on_ok", event_data: dict | None = None) -> dict:
    return {"seq": seq, "event_type": event_type, "created": "2026-12-04T12:00:00", "stdout": f"line {seq}",
            "event_data": event_data or {"host": "web-1"}}


def message(run_id: str, job_id: str, payload: dict) -> tuple[str, dict]:
    return run_id, {"run_id": run_id, "job_id": job_id, "seq": payload["seq"], "event_type": payload["event_type"],
                    "timestamp": payload["created"], "payload": payload}


def launch_run(container, template_id) -> tuple[str, str]:
    job_id = container.bus.handle(LaunchJob(job_template_id=template_id, launched_by="admin"))
    run_id = container.bus.handle(ScheduleRun(job_id=job_id, execution_pool="default"))
    return str(run_id), str(job_id)


def test_replay_equals_live(fixtures, settings) -> None:
    container = fixtures.container
    run_id, job_id = launch_run(container, fixtures.template_id)
    payloads = [record(seq) for seq in range(1, 30)] + [record(30, "playbook_on_stats", STATS)]
    container.event_log.append(JOB_EVENTS_TOPIC, [message(run_id, job_id, payload) for payload in payloads])
    key = f"runs/{run_id}/stdout/00000000.log"
    container.object_store.put(key, b"line 1\nline 2\n")
    container.event_log.append(
        LOG_CHUNKS_TOPIC,
        [(run_id, {"run_id": run_id, "job_id": job_id, "index": 0, "object_key": key, "byte_offset": 0, "size": 14,
                   "timestamp": "2026-12-04T12:00:01+00:00"})],
    )
    container.log_consumer.catch_up()
    live = rows_of(container.sessions)
    container.stop()

    summary = replay(settings, lambda *_: None)

    rebuilt = build_container(settings)
    try:
        assert rows_of(rebuilt.sessions) == live
    finally:
        rebuilt.engine.dispose()
    assert summary.counts["log messages"] == 31


def test_spools_fill_missing_events(fixtures, settings) -> None:
    container = fixtures.container
    run_id, job_id = launch_run(container, fixtures.template_id)
    container.event_log.append(JOB_EVENTS_TOPIC, [message(run_id, job_id, record(seq)) for seq in range(1, 6)])
    spool = settings.spool_dir / run_id / SPOOL_FILE_NAME
    spool.parent.mkdir(parents=True)
    spool.write_text("".join(json.dumps(record(seq)) + "\n" for seq in range(1, 11)))
    container.stop()

    replay(settings, lambda *_: None)

    rebuilt = build_container(settings)
    try:
        with rebuilt.sessions() as session:
            seqs = sorted(session.scalars(select(tables.JobEvent.seq).where(tables.JobEvent.run_id == UUID(run_id))))
    finally:
        rebuilt.engine.dispose()
    assert seqs == list(range(1, 11))
