"""The table from domain event class to the projection function that applies it.

A projection function takes `(session, event)`, changes read-model rows through the session
and never commits: the runner that calls it commits the change together with its position,
whether that runner is the embedded one or a stream worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from praetor.projections.tables import AggregateVersion

Projection = Callable[[Session, Any], None]

PROJECTIONS: dict[type, Projection] = {}


def projects(*event_types: type) -> Callable[[Projection], Projection]:
    def register(function: Projection) -> Projection:
        for event_type in event_types:
            PROJECTIONS[event_type] = function
        return function

    return register


def apply_domain_event(session: Session, event: Any) -> None:
    """Apply one domain event and record the aggregate version the read models now include.

    Event types that no read model needs only move the version.
    """
    projection = PROJECTIONS.get(type(event))
    if projection is not None:
        projection(session, event)
    session.merge(AggregateVersion(aggregate_id=event.originator_id, version=event.originator_version))
