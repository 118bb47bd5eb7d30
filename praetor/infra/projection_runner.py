"""The embedded projection runner: follows the event store's notification log in a thread.

The SQLite recorder cannot push new notifications (it has no `subscribe()`), so the runner
polls `select_notifications` and is woken early after each save. Each batch of events is
applied and the position stored in one read-model transaction, so a restart resumes at the
first event not yet applied and never applies one twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import Application
from sqlalchemy.orm import Session, sessionmaker

from praetor.commands.ports import ReadModelWaiter
from praetor.projections.registry import apply_domain_event
from praetor.projections.tables import ProjectionPosition

logger = logging.getLogger(__name__)

DOMAIN_PROJECTION = "domain-events"


def read_position(session: Session, name: str) -> int:
    """Return the stored position of projection `name`, locking its row until the transaction ends.

    PostgreSQL takes the row lock (`FOR UPDATE`), so two runners serialise; SQLite has no row
    locks, but its single writer makes the later of two such transactions fail instead.
    """
    row = session.get(ProjectionPosition, name, with_for_update=True)
    return row.position if row is not None else 0


def store_position(session: Session, name: str, position: int) -> None:
    session.merge(ProjectionPosition(name=name, position=position, updated_at=datetime.now(UTC)))


class EmbeddedProjectionRunner(ReadModelWaiter):
    def __init__(
        self,
        app: Application,
        sessions: sessionmaker[Session],
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        wait_timeout_seconds: float = 30.0,
    ) -> None:
        self._app = app
        self._sessions = sessions
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wait_timeout_seconds = wait_timeout_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._applied = threading.Condition()
        self._position = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._sessions() as session:
            self._position = read_position(session, DOMAIN_PROJECTION)
        self._thread = threading.Thread(target=self._follow, name="projection-runner", daemon=True)
        self._thread.start()
        logger.info("Projection runner started at notification %s", self._position)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        logger.info("Projection runner stopped at notification %s", self._position)

    def wake(self) -> None:
        self._wake.set()

    def wait_for(self, notification_id: int, versions: Mapping[UUID, int] | None = None) -> None:
        self._wake.set()
        with self._applied:
            caught_up = self._applied.wait_for(
                lambda: self._position >= notification_id, timeout=self._wait_timeout_seconds
            )
        if not caught_up:
            raise TimeoutError(
                f"read models reached notification {self._position}, not {notification_id}, "
                f"within {self._wait_timeout_seconds} s; see the projection runner's log"
            )

    def catch_up(self, *, max_batches: int | None = None) -> int:
        """Apply stored notifications not yet applied; return how many were applied.

        Without `max_batches`, continue until none is left.
        """
        applied = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            batches += 1
            with self._sessions.begin() as session:
                # The stored position, read in the transaction that moves it, is the truth:
                # a second runner on the same read models then cannot apply an event twice.
                position = read_position(session, DOMAIN_PROJECTION)
                notifications = self._app.recorder.select_notifications(
                    start=position, limit=self._batch_size, inclusive_of_start=False
                )
                for notification in notifications:
                    apply_domain_event(session, self._app.mapper.to_domain_event(notification))
                if notifications:
                    position = notifications[-1].id
                    store_position(session, DOMAIN_PROJECTION, position)
            with self._applied:
                self._position = position
                self._applied.notify_all()
            if not notifications:
                return applied
            applied += len(notifications)
        return applied

    def _follow(self) -> None:
        while not self._stopping.is_set():
            # Clear before reading, so a save during the catch-up wakes the next round.
            self._wake.clear()
            try:
                self.catch_up()
            except Exception:
                # A projection that fails on one event would fail on it again at once, so the
                # runner waits for the next poll instead of spinning. Each failure is logged.
                logger.exception("Projection runner failed after notification %s; retrying", self._position)
                self._stopping.wait(self._poll_seconds)
            self._wake.wait(self._poll_seconds)
