"""Waiting for read models that a stream worker builds, by aggregate version.

In the distributed mode the domain events reach the read models through Kafka partitions,
so there is no single position to wait for. Every projection transaction also moves the
`aggregate_versions` row of its aggregate, and this waiter polls those rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from praetor.commands.ports import ReadModelWaiter
from praetor.projections.tables import AggregateVersion


class AggregateVersionWaiter(ReadModelWaiter):
    def __init__(self, sessions: sessionmaker[Session], *, timeout_seconds: float = 30.0, poll_seconds: float = 0.01) -> None:
        self._sessions = sessions
        self._timeout_seconds = timeout_seconds
        self._poll_seconds = poll_seconds

    def wait_for(self, notification_id: int, versions: Mapping[UUID, int]) -> None:
        deadline = time.monotonic() + self._timeout_seconds
        pending = dict(versions)
        while pending:
            with self._sessions() as session:
                rows = session.execute(
                    select(AggregateVersion.aggregate_id, AggregateVersion.version).where(AggregateVersion.aggregate_id.in_(list(pending)))
                ).all()
            for aggregate_id, version in rows:
                if version >= pending.get(aggregate_id, version + 1):
                    pending.pop(aggregate_id)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"read models do not include notification {notification_id} after {self._timeout_seconds} s; "
                    "check that `praetor relay` and `praetor worker` are running"
                )
            time.sleep(self._poll_seconds)
