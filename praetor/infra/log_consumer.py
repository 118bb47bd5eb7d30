"""The embedded consumer of the job-event log: applies job events and log chunks to read models.

Each batch is applied and its offset stored in one read-model transaction (position name
`log:<topic>`), so a restart neither skips nor repeats a message. The inserts also ignore
rows they already have, so a message appended twice adds nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC, EventLog
from praetor.infra.projection_runner import read_position, store_position
from praetor.projections.job_events import apply_job_events, apply_log_chunks

logger = logging.getLogger(__name__)

LogProjection = Callable[[Session, Sequence[dict[str, Any]]], None]

LOG_PROJECTIONS: dict[str, LogProjection] = {
    JOB_EVENTS_TOPIC: apply_job_events,
    LOG_CHUNKS_TOPIC: apply_log_chunks,
}


def position_name(topic: str) -> str:
    return f"log:{topic}"


class EmbeddedLogConsumer:
    def __init__(
        self, log: EventLog, sessions: sessionmaker[Session], *, batch_size: int = 5000, poll_seconds: float = 0.2
    ) -> None:
        self._log = log
        self._sessions = sessions
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, name="log-consumer", daemon=True)
        self._thread.start()
        logger.info("Job-event log consumer started for %s", ", ".join(LOG_PROJECTIONS))

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        logger.info("Job-event log consumer stopped")

    def wake(self) -> None:
        self._wake.set()

    def catch_up(self) -> int:
        """Apply every appended message not yet applied; return how many were applied."""
        applied = 0
        for topic, projection in LOG_PROJECTIONS.items():
            while True:
                with self._sessions.begin() as session:
                    after = read_position(session, position_name(topic))
                    records = self._log.read(topic, after, self._batch_size)
                    if not records:
                        break
                    projection(session, [value for _offset, value in records])
                    store_position(session, position_name(topic), records[-1][0])
                applied += len(records)
        return applied

    def _follow(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.catch_up()
            except Exception:
                logger.exception("Job-event log consumer failed; retrying in %s s", self._poll_seconds)
                self._stopping.wait(self._poll_seconds)
            self._wake.wait(self._poll_seconds)
