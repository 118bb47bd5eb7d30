"""Projections of the job-event log: job events, per-host summaries and log chunks.

A message on the job-event log is one Ansible event of one run:
`{"run_id", "job_id", "seq", "event_type", "timestamp", "payload"}`, where `payload` is the
executor's record (uuid, parent_uuid, counter, stdout, start_line, end_line, event_data).
A message on the log-chunk log announces one stdout chunk in the object store.
Both inserts ignore rows they already have, so a batch delivered twice adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from dateutil.parser import isoparse
from sqlalchemy import insert
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from praetor.projections import tables
from praetor.projections.json_text import NUL, dump_jsonb, replace_nul

logger = logging.getLogger(__name__)

SUMMARY_COUNTERS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed")
FAILED_EVENT_TYPES = frozenset({"runner_on_failed", "runner_on_unreachable", "runner_item_on_failed"})


def apply_job_events(session: Session, messages: Sequence[dict[str, Any]]) -> None:
    """Insert the job events of `messages`, and host summaries for each `playbook_on_stats`."""
    if not messages:
        return
    rows = [_job_event_row(message) for message in messages]
    if session.get_bind().dialect.name == "postgresql":
        _copy_job_events(session, rows)
    else:
        session.connection().execute(_insert_ignoring_duplicates(session, tables.JobEvent, ("run_id", "seq")), rows)

    for message in messages:
        if message["event_type"] == "playbook_on_stats":
            _apply_stats(session, message)


def apply_log_chunks(session: Session, messages: Sequence[dict[str, Any]]) -> None:
    if not messages:
        return
    rows = [
        {
            "run_id": UUID(message["run_id"]),
            "job_id": UUID(message["job_id"]),
            "chunk_index": message["index"],
            "object_key": message["object_key"],
            "first_seq": message.get("first_seq"),
            "last_seq": message.get("last_seq"),
            "byte_offset": message["byte_offset"],
            "size": message["size"],
            "created_at": _parse_time(message.get("timestamp")),
        }
        for message in messages
    ]
    session.connection().execute(_insert_ignoring_duplicates(session, tables.LogChunk, ("run_id", "chunk_index")), rows)


def _job_event_row(message: dict[str, Any]) -> dict[str, Any]:
    payload = message.get("payload") or {}
    event_data = payload.get("event_data") or {}
    event_type = message["event_type"]
    result = event_data.get("res")
    return {
        "run_id": UUID(message["run_id"]),
        "job_id": UUID(message["job_id"]),
        "seq": message["seq"],
        "event_type": event_type,
        "uuid": payload.get("uuid"),
        "parent_uuid": payload.get("parent_uuid"),
        "counter": payload.get("counter"),
        "host": event_data.get("host") or event_data.get("remote_addr"),
        "play": event_data.get("play"),
        "task": event_data.get("task"),
        "stdout": payload.get("stdout") or "",
        "start_line": payload.get("start_line"),
        "end_line": payload.get("end_line"),
        "failed": event_type in FAILED_EVENT_TYPES and not event_data.get("ignore_errors", False),
        "changed": isinstance(result, dict) and bool(result.get("changed")),
        "created_at": _parse_time(message.get("timestamp")),
        "event_data": event_data,
    }


def _apply_stats(session: Session, message: dict[str, Any]) -> None:
    stats = (message.get("payload") or {}).get("event_data") or {}
    hosts = sorted({host for counter in SUMMARY_COUNTERS for host in (stats.get(counter) or {})})
    rows = []
    for host in hosts:
        counts = {counter: int((stats.get(counter) or {}).get(host, 0)) for counter in SUMMARY_COUNTERS}
        rows.append(
            {
                "job_id": UUID(message["job_id"]),
                "run_id": UUID(message["run_id"]),
                "host": host,
                **counts,
                "failed": counts["failures"] > 0 or counts["dark"] > 0,
                "created_at": _parse_time(message.get("timestamp")),
            }
        )
    if rows:
        session.connection().execute(_insert_ignoring_duplicates(session, tables.JobHostSummary, ("run_id", "host")), rows)


JOB_EVENT_COLUMNS = (
    "run_id", "job_id", "seq", "event_type", "uuid", "parent_uuid", "counter", "host", "play", "task", "stdout",
    "start_line", "end_line", "failed", "changed", "created_at", "event_data",
)


def _copy_job_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert job events on PostgreSQL by COPY into a staging table, skipping stored `(run_id, seq)`.

    With one INSERT per row, PostgreSQL's cost per statement bounded ingestion. COPY sends the
    whole batch as one stream. The staging table belongs to the connection and is emptied here
    and at every commit.
    """
    columns = ", ".join(JOB_EVENT_COLUMNS)
    with session.connection().connection.driver_connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS job_events_incoming (LIKE job_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY job_events_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(column, row[column]) for column in JOB_EVENT_COLUMNS])
        cursor.execute(
            f"INSERT INTO job_events ({columns}) SELECT {columns} FROM job_events_incoming ON CONFLICT (run_id, seq) DO NOTHING"
        )
        cursor.execute("TRUNCATE job_events_incoming")


def _copy_value(column: str, value: Any) -> Any:
    if column == "event_data":
        return Jsonb(value, dumps=dump_jsonb)
    if isinstance(value, str) and NUL in value:
        return replace_nul(value)
    return value


def _insert_ignoring_duplicates(session: Session, table: type[tables.ReadModel], key: tuple[str, ...]) -> Any:
    # Core inserts on the table, not ORM bulk inserts on the class: an order of magnitude
    # less Python per row, which is what bounds ingestion here.
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table.__table__).on_conflict_do_nothing(index_elements=list(key))
    if dialect == "sqlite":
        return sqlite.insert(table.__table__).on_conflict_do_nothing(index_elements=list(key))
    return insert(table.__table__)


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        # fromisoformat is many times faster than dateutil and reads what ansible-runner writes.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = isoparse(value)
        except ValueError:
            # A bad time must not stop the log: the row gets the time it was stored instead.
            logger.warning("Invalid event time %r; storing the current time instead", value)
            return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
