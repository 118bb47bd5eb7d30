"""Two processors on one partition, as two workers during a rebalance, apply each batch once.

These tests need the PostgreSQL of scripts/services/, whose row locks serialise the two.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy.orm import Session, sessionmaker
from stream_support import job_event_message

from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.event_log import JOB_EVENTS_TOPIC
from praetor.infra.stream.processor import StreamProcessor
from praetor.infra.stream.records import StreamRecord

# Large enough that each transaction takes far longer than starting a thread, so the two
# transactions overlap.
BATCH_SIZE = 5000


@pytest.fixture
def postgres_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_read_model_engine(database_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def apply_concurrently(processors: list[StreamProcessor], records: list[StreamRecord]) -> list[int]:
    start = threading.Barrier(len(processors))
    results: list[int] = []
    errors: list[BaseException] = []

    def apply(processor: StreamProcessor) -> None:
        start.wait()
        try:
            results.append(processor.apply(records))
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=apply, args=(processor,)) for processor in processors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return sorted(results)


def batch(offsets: range) -> list[StreamRecord]:
    run_id, job_id = str(uuid4()), str(uuid4())
    return [
        StreamRecord(JOB_EVENTS_TOPIC, 0, offset, run_id, job_event_message(run_id, job_id, offset + 1)) for offset in offsets
    ]


def test_first_batch_applied_once(postgres_sessions) -> None:
    processors = [StreamProcessor(postgres_sessions), StreamProcessor(postgres_sessions)]

    # No position row exists yet, so there is nothing to lock unless the processor creates it.
    results = apply_concurrently(processors, batch(range(BATCH_SIZE)))

    assert results == [0, BATCH_SIZE]


def test_later_batch_applied_once(postgres_sessions) -> None:
    processors = [StreamProcessor(postgres_sessions), StreamProcessor(postgres_sessions)]
    processors[0].apply(batch(range(10)))

    results = apply_concurrently(processors, batch(range(10, 10 + BATCH_SIZE)))

    assert results == [0, BATCH_SIZE]
    assert processors[0].stored_offsets([(JOB_EVENTS_TOPIC, 0)]) == {(JOB_EVENTS_TOPIC, 0): 10 + BATCH_SIZE}
