"""Applies batches of consumed Kafka records to the read models, one partition at a time.

The processor does not depend on a Kafka client: the stream worker hands it records, and it
applies each batch and stores the partition's position in one read-model transaction. The
position is the next offset to apply, the same number Kafka stores as a committed offset.
A record at an offset below it was applied before, so a redelivered record changes nothing,
and a batch that fails leaves both the read models and the position as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

import praetor.projections  # noqa: F401  (importing the package registers every projection)
from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC
from praetor.infra.event_store import PraetorApplication
from praetor.infra.projection_runner import read_position, store_position
from praetor.infra.stream.messages import stored_event
from praetor.infra.stream.records import StreamRecord, position_name
from praetor.infra.stream.topics import DOMAIN_EVENTS_TOPIC
from praetor.projections.job_events import apply_job_events, apply_log_chunks
from praetor.projections.registry import apply_domain_event
from praetor.projections.tables import AggregateVersion, ProjectionPosition

logger = logging.getLogger(__name__)

# The application is built only for its mapper, which turns stored events into domain events.
# Messages carry the plain JSON state, so compression and encryption are switched off even
# when the environment configures them (the "PRAETOR_" names take precedence over the bare ones).
MAPPER_ENV = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "PRAETOR_COMPRESSOR_TOPIC": "",
    "PRAETOR_CIPHER_TOPIC": "",
    "PRAETOR_CIPHER_KEY": "",
}

BatchProjection = Callable[[Session, Sequence[StreamRecord]], None]


class StreamProcessor:
    """Applies records of the domain-event, job-event and log-chunk topics to the read models.

    `topic_prefix` is prepended to each topic name, as in `praetor.infra.stream.topics`.
    `apply` is synchronous and blocks on the database, and calls for different partitions
    may run at the same time in different threads.
    """

    def __init__(self, sessions: sessionmaker[Session], *, topic_prefix: str = "") -> None:
        self._sessions = sessions
        self._mapper = PraetorApplication(env=MAPPER_ENV).mapper
        self._projections: dict[str, BatchProjection] = {
            topic_prefix + DOMAIN_EVENTS_TOPIC: self._apply_domain_events,
            topic_prefix + JOB_EVENTS_TOPIC: _apply_job_events,
            topic_prefix + LOG_CHUNKS_TOPIC: _apply_log_chunks,
        }

    @property
    def topics(self) -> tuple[str, ...]:
        """The names of the topics this processor applies."""
        return tuple(self._projections)

    def apply(self, records: Sequence[StreamRecord]) -> int:
        """Apply the records of one topic partition that are not applied yet, and return their count.

        Raises ValueError when the records span several partitions or come from a topic this
        processor does not apply. Any error rolls back the whole batch.
        """
        if not records:
            return 0
        topic, partition = records[0].topic, records[0].partition
        if any(record.topic != topic or record.partition != partition for record in records):
            raise ValueError(
                f"a batch must contain records of one topic partition, but it mixes {topic} partition {partition} with others"
            )
        projection = self._projections.get(topic)
        if projection is None:
            raise ValueError(f"topic {topic} is not applied here; the processor applies {', '.join(self.topics)}")
        name = position_name(topic, partition)

        with self._sessions.begin() as session:
            # Reading the position locks its row, so a second worker that holds the same
            # partition during a rebalance waits here and then drops what this one applied.
            # The row must exist to be locked: without it both workers would read 0.
            _create_position_row(session, name)
            next_offset = read_position(session, name)
            fresh = _records_from(records, next_offset)
            if not fresh:
                logger.debug(
                    "Dropped %s redelivered records of %s partition %s below offset %s", len(records), topic, partition, next_offset
                )
                return 0
            if next_offset > 0 and fresh[0].offset > next_offset:
                logger.warning(
                    "Offsets %s to %s of %s partition %s were skipped, which is expected only after "
                    "retention deleted them or with transactional producers",
                    next_offset, fresh[0].offset - 1, topic, partition,
                )

            projection(session, fresh)
            store_position(session, name, fresh[-1].offset + 1)

        logger.debug("Applied offsets %s to %s of %s partition %s", fresh[0].offset, fresh[-1].offset, topic, partition)
        return len(fresh)

    def stored_offsets(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """Return the next offset to apply for each `(topic, partition)`, 0 for one never applied."""
        requested = {position_name(topic, partition): (topic, partition) for topic, partition in partitions}
        offsets = dict.fromkeys(requested.values(), 0)
        if not requested:
            return offsets
        with self._sessions() as session:
            rows = session.execute(
                select(ProjectionPosition.name, ProjectionPosition.position).where(ProjectionPosition.name.in_(requested))
            )
            for name, position in rows:
                offsets[requested[name]] = position
        return offsets

    def _apply_domain_events(self, session: Session, records: Sequence[StreamRecord]) -> None:
        # The relay may send an event again at a new offset (after a crash between sending and
        # storing its own position), so each event is applied only if the read models do not
        # include its aggregate version yet.
        events = [stored_event(record.value) for record in records]
        versions = _aggregate_versions(session, {event.originator_id for event in events})

        for record, stored in zip(records, events, strict=True):
            applied_version = versions.get(stored.originator_id, 0)
            if stored.originator_version <= applied_version:
                logger.debug(
                    "Skipped %s version %s at %s partition %s offset %s: version %s is applied",
                    stored.topic, stored.originator_version, record.topic, record.partition, record.offset, applied_version,
                )
                continue
            if stored.originator_version > applied_version + 1:
                logger.warning(
                    "Aggregate %s jumps from version %s to %s at %s partition %s offset %s",
                    stored.originator_id, applied_version, stored.originator_version, record.topic, record.partition, record.offset,
                )
            apply_domain_event(session, self._mapper.to_domain_event(stored))
            versions[stored.originator_id] = stored.originator_version


def _create_position_row(session: Session, name: str) -> None:
    """Insert position 0 for `name` unless a row exists, waiting for a concurrent insert to end."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:
        # NOTE: other databases get no row here, so two workers could both apply a
        # partition's first batch. The read models run on PostgreSQL or SQLite only.
        return
    statement = insert(ProjectionPosition).values(name=name, position=0, updated_at=datetime.now(UTC))
    session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))


def _records_from(records: Sequence[StreamRecord], next_offset: int) -> list[StreamRecord]:
    """Return the records at `next_offset` or later, in offset order, each offset once."""
    fresh: dict[int, StreamRecord] = {}
    for record in sorted(records, key=lambda record: record.offset):
        if record.offset >= next_offset:
            fresh.setdefault(record.offset, record)
    return list(fresh.values())


def _aggregate_versions(session: Session, aggregate_ids: set[UUID]) -> dict[UUID, int]:
    rows = session.execute(
        select(AggregateVersion.aggregate_id, AggregateVersion.version).where(AggregateVersion.aggregate_id.in_(aggregate_ids))
    )
    return {aggregate_id: version for aggregate_id, version in rows}


def _apply_job_events(session: Session, records: Sequence[StreamRecord]) -> None:
    apply_job_events(session, [record.value for record in records])


def _apply_log_chunks(session: Session, records: Sequence[StreamRecord]) -> None:
    apply_log_chunks(session, [record.value for record in records])
