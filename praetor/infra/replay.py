"""Rebuilding every read model from the sources of truth, into fresh tables, then swapping.

Domain read models come from the event store, which keeps every event for good. Job events
and log chunks come first from the job-event log: the SQLite log, or the Kafka topics from
their earliest retained offset. The executors' spools and the stdout chunks in the object
store then fill in whatever Kafka retention has dropped. Every insert ignores rows
it already has, so the sources may overlap and a replay can be run twice.

NOTE: replay while no worker or server writes the read models (stop `praetor serve`, and in
the distributed mode `praetor worker`): changes applied to the old tables during a replay
are not carried over to the new ones.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from praetor.executor.spool import SPOOL_FILE_NAME, read_spool
from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC, SqliteEventLog
from praetor.infra.event_store import PraetorApplication, open_postgres_event_store, open_sqlite_event_store
from praetor.infra.log_consumer import EmbeddedLogConsumer
from praetor.infra.object_store import ObjectStore, open_object_store
from praetor.infra.projection_runner import EmbeddedProjectionRunner
from praetor.infra.settings import Mode, Settings
from praetor.projections import tables
from praetor.projections.job_events import apply_job_events, apply_log_chunks

logger = logging.getLogger(__name__)

# Reports progress: (stage name, items done in this stage, items expected or None).
Progress = Callable[[str, int, int | None], None]
SPOOL_BATCH = 5000
CHUNK_KEY = re.compile(r"^runs/(?P<run_id>[0-9a-f-]{36})/stdout/(?P<index>\d{8})\.log$")


@dataclass
class ReplaySummary:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def replay(settings: Settings, progress: Progress, *, swap: bool = True) -> ReplaySummary:
    """Rebuild the read models of `settings`' mode; with `swap`, put them in place of the live ones."""
    if settings.mode is Mode.DISTRIBUTED:
        return replay_distributed(settings, progress, swap=swap)
    return replay_embedded(settings, progress, swap=swap)


def replay_embedded(settings: Settings, progress: Progress, *, swap: bool = True) -> ReplaySummary:
    home = settings.resolved_home
    live_path = home / "readmodels.sqlite"
    next_path = home / "readmodels.next.sqlite"
    _remove_sqlite_files(next_path)

    started = time.monotonic()
    summary = ReplaySummary()
    app = open_sqlite_event_store(home / "events.sqlite")
    engine = create_read_model_engine(f"sqlite:///{next_path}")
    migrate(engine)
    sessions = session_factory(engine)

    summary.counts["domain events"] = replay_domain_events(app, sessions, progress)
    log = SqliteEventLog(home / "log.sqlite")
    try:
        summary.counts["log messages"] = EmbeddedLogConsumer(log, sessions).catch_up()
        progress("job-event log", summary.counts["log messages"], summary.counts["log messages"])
    finally:
        log.close()
    _fill_from_spools_and_chunks(settings, sessions, progress, summary)
    engine.dispose()

    if swap:
        _remove_sqlite_files(live_path, keep_main=True)
        os.replace(next_path, live_path)
        logger.info("Replaced %s with the rebuilt read models", live_path)
    summary.seconds = time.monotonic() - started
    return summary


def replay_distributed(settings: Settings, progress: Progress, *, swap: bool = True, target_schema: str | None = None) -> ReplaySummary:
    database_url, brokers = settings.require_distributed()
    live_schema = settings.read_model_schema
    next_schema = target_schema or f"{live_schema}_next"

    started = time.monotonic()
    summary = ReplaySummary()
    app = open_postgres_event_store(database_url)
    engine = create_read_model_engine(database_url, schema=next_schema)
    _recreate_schema(engine, next_schema)
    migrate(engine)
    sessions = session_factory(engine)

    summary.counts["domain events"] = replay_domain_events(app, sessions, progress)
    summary.counts["kafka messages"] = replay_kafka_topics(brokers, settings.kafka_topic_prefix, sessions, progress)
    _fill_from_spools_and_chunks(settings, sessions, progress, summary)

    if swap:
        with engine.begin() as connection:
            retired = f"{live_schema}_retired"
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{retired}" CASCADE')
            connection.exec_driver_sql(f'ALTER SCHEMA "{live_schema}" RENAME TO "{retired}"')
            connection.exec_driver_sql(f'ALTER SCHEMA "{next_schema}" RENAME TO "{live_schema}"')
            connection.exec_driver_sql(f'DROP SCHEMA "{retired}" CASCADE')
        logger.info("Swapped schema %s in as %s", next_schema, live_schema)
    engine.dispose()
    summary.seconds = time.monotonic() - started
    return summary


def replay_domain_events(app: PraetorApplication, sessions: sessionmaker[Session], progress: Progress) -> int:
    expected = app.recorder.max_notification_id() or 0
    runner = EmbeddedProjectionRunner(app, sessions, batch_size=2000)
    applied = 0
    while True:
        batch = runner.catch_up(max_batches=1)
        if batch == 0:
            return applied
        applied += batch
        progress("domain events", applied, expected)


def replay_kafka_topics(brokers: str, topic_prefix: str, sessions: sessionmaker[Session], progress: Progress) -> int:
    """Apply every retained message of the job-event and log-chunk topics; return how many.

    The messages go through the stream worker's processor, so the rebuilt tables also hold the
    partition positions from which a worker resumes after the swap.
    """
    from kafka import KafkaConsumer, TopicPartition

    from praetor.infra.stream.messages import decode_value
    from praetor.infra.stream.processor import StreamProcessor
    from praetor.infra.stream.records import StreamRecord

    processor = StreamProcessor(sessions, topic_prefix=topic_prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=[server.strip() for server in brokers.split(",")], group_id=None, enable_auto_commit=False
    )
    applied = 0
    try:
        for topic in (JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC):
            name = topic_prefix + topic
            partitions = [TopicPartition(name, partition) for partition in sorted(consumer.partitions_for_topic(name) or [])]
            if not partitions:
                continue
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end_offsets = consumer.end_offsets(partitions)
            expected = sum(end_offsets[partition] - consumer.position(partition) for partition in partitions)
            done = 0
            while any(consumer.position(partition) < end_offsets[partition] for partition in partitions):
                for partition, messages in consumer.poll(timeout_ms=1000, max_records=5000).items():
                    records = [
                        StreamRecord(
                            topic=message.topic,
                            partition=message.partition,
                            offset=message.offset,
                            key=message.key.decode() if message.key else None,
                            value=decode_value(message.value),
                        )
                        for message in messages
                    ]
                    processor.apply(records)
                    done += len(records)
                    progress(name, done, expected)
            applied += done
    finally:
        consumer.close()
    return applied


def _fill_from_spools_and_chunks(settings: Settings, sessions: sessionmaker[Session], progress: Progress, summary: ReplaySummary) -> None:
    with sessions() as session:
        runs = {run.id: run.job_id for run in session.scalars(select(tables.Run))}
    summary.counts["spooled events"] = replay_spools(settings.spool_dir, runs, sessions, progress)
    store = open_object_store(settings.resolved_object_store_url, s3_endpoint_url=settings.s3_endpoint_url)
    summary.counts["stdout chunks"] = replay_chunks(store, runs, sessions, progress)


def replay_spools(spool_dir: Path, runs: dict[UUID, UUID], sessions: sessionmaker[Session], progress: Progress) -> int:
    """Apply the events of every spool under `spool_dir` whose run the read models know."""
    applied = 0
    spools = sorted(spool_dir.glob(f"*/{SPOOL_FILE_NAME}")) if spool_dir.is_dir() else []
    for index, path in enumerate(spools, start=1):
        run_id = _uuid_or_none(path.parent.name)
        if run_id not in runs:
            logger.warning("Skipping spool %s: no run %s in the event store", path, path.parent.name)
            continue
        for batch in _batches(read_spool(path), SPOOL_BATCH):
            messages = [_spool_message(str(run_id), str(runs[run_id]), record) for record in batch]
            with sessions.begin() as session:
                apply_job_events(session, messages)
            applied += len(messages)
        progress("spools", index, len(spools))
    return applied


def replay_chunks(store: ObjectStore, runs: dict[UUID, UUID], sessions: sessionmaker[Session], progress: Progress) -> int:
    """Index every stdout chunk in the object store whose run the read models know."""
    by_run: dict[UUID, list[tuple[int, str]]] = {}
    for key in store.list("runs/"):
        match = CHUNK_KEY.match(key)
        if match and UUID(match["run_id"]) in runs:
            by_run.setdefault(UUID(match["run_id"]), []).append((int(match["index"]), key))

    indexed = 0
    for done, (run_id, chunks) in enumerate(by_run.items(), start=1):
        offset = 0
        messages = []
        for index, key in sorted(chunks):
            size = len(store.get(key))
            messages.append(
                {"run_id": str(run_id), "job_id": str(runs[run_id]), "index": index, "object_key": key, "byte_offset": offset, "size": size}
            )
            offset += size
        with sessions.begin() as session:
            apply_log_chunks(session, messages)
        indexed += len(messages)
        progress("stdout chunks", done, len(by_run))
    return indexed


def _spool_message(run_id: str, job_id: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "job_id": job_id,
        "seq": record["seq"],
        "event_type": record["event_type"],
        "timestamp": record.get("created"),
        "payload": record,
    }


def _batches(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _uuid_or_none(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _remove_sqlite_files(path: Path, *, keep_main: bool = False) -> None:
    suffixes = ("-wal", "-shm") if keep_main else ("", "-wal", "-shm")
    for suffix in suffixes:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _recreate_schema(engine: Engine, schema: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
