"""The command bus: a table from command type to handler, and what handlers share.

Every handler has one shape: load the aggregates it needs, let them decide, save, return
the id of what it created or changed. The bus then waits until the read models have applied
what was saved, so a client that reads right after a write gets its own write back.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from praetor.commands.ports import ProjectSources, ReadModelWaiter
from praetor.domain.errors import InvalidValue, NotFound

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)
Handler = Callable[[Any, "Context"], UUID]

HANDLERS: dict[type, Handler] = {}
MAX_ATTEMPTS = 10


def handles(command_type: type) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[command_type] = handler
        return handler

    return register


@dataclass
class Context:
    """The event-sourced application and the ports a handler validates with."""

    app: Application
    project_sources: ProjectSources
    last_notification_id: int | None = field(default=None)
    saved_versions: dict[UUID, int] = field(default_factory=dict)

    def load(self, aggregate_type: type[A], aggregate_id: UUID, kind: str) -> A:
        """Load a live aggregate of the given type, or raise NotFound naming `kind`."""
        try:
            aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(kind, aggregate_id) from None
        if not isinstance(aggregate, aggregate_type) or getattr(aggregate, "deleted", False):
            raise NotFound(kind, aggregate_id)
        return aggregate

    def save(self, *aggregates: Aggregate) -> None:
        recordings = self.app.save(*aggregates)
        for recording in recordings:
            self.last_notification_id = max(recording.notification.id, self.last_notification_id or 0)
            event = recording.domain_event
            self.saved_versions[event.originator_id] = event.originator_version


def reject_nul_characters(command: object) -> None:
    """Raise InvalidValue naming the field of `command` whose text contains a NUL character.

    PostgreSQL's text and JSONB cannot store NUL, so a read model could never apply the event.
    """
    for field_ in fields(command):  # type: ignore[arg-type]
        if _contains_nul(getattr(command, field_.name)):
            raise InvalidValue(field_.name, "contains a NUL character (\\u0000), which cannot be stored; remove it")


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    return False


class CommandBus:
    def __init__(self, app: Application, project_sources: ProjectSources, waiter: ReadModelWaiter) -> None:
        self._app = app
        self._project_sources = project_sources
        self._waiter = waiter

    def handle(self, command: object, *, wait: bool = True) -> UUID:
        """Run the command's handler and return the id it returns.

        With `wait`, return only once the read models include the change.
        """
        handler = HANDLERS[type(command)]
        reject_nul_characters(command)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            context = Context(self._app, self._project_sources)
            try:
                aggregate_id = handler(command, context)
                break
            except IntegrityError:
                # Another writer saved the same aggregate first. Deciding again on the newer
                # state either succeeds or raises the domain error that state calls for.
                if attempt == MAX_ATTEMPTS:
                    raise
                logger.info("Retrying %s after a concurrent change (attempt %d)", type(command).__name__, attempt)
                # Random waits keep racing writers from colliding again in lockstep.
                time.sleep(random.uniform(0, 0.005 * attempt))
        logger.debug("Handled %s for %s", type(command).__name__, aggregate_id)
        if wait and context.last_notification_id is not None:
            self._waiter.wait_for(context.last_notification_id, context.saved_versions)
        return aggregate_id
