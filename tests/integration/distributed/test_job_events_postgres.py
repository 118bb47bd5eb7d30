"""Job events reach PostgreSQL whatever text Ansible printed, NUL characters included."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import select

from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.projections import tables
from praetor.projections.job_events import apply_job_events


def test_nul_characters_stored_replaced(services) -> None:
    engine = create_read_model_engine(services.database_url, schema="praetor_read")
    migrate(engine)
    sessions = session_factory(engine)
    run_id, job_id = str(uuid4()), str(uuid4())
    message = {
        "run_id": run_id, "job_id": job_id, "seq": 1, "event_type": "runner_on_ok", "timestamp": "2026-12-04T12:00:00",
        "payload": {"seq": 1, "stdout": "before\x00after", "event_data": {"host": "web\x00-1", "res": {"msg": "x\x00"}}},
    }
    try:
        with sessions.begin() as session:
            apply_job_events(session, [message, message])
        with sessions() as session:
            rows = session.scalars(select(tables.JobEvent).where(tables.JobEvent.run_id == UUID(run_id))).all()
    finally:
        engine.dispose()

    assert len(rows) == 1
    assert rows[0].stdout == "before\ufffdafter"
    assert rows[0].host == "web\ufffd-1"
    assert rows[0].event_data["res"]["msg"] == "x\ufffd"
