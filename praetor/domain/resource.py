"""The base of every named, editable, deletable aggregate (organization, project, ...).

Each subclass gets its own `Updated` and `Deleted` event classes from the eventsourcing
metaclass, so a stored event's topic names the concrete aggregate (for example
`Project.Updated`), which is what projections dispatch on.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from praetor.domain.errors import Conflict


class Resource(Aggregate):
    # A plain class attribute, not an annotation: annotations become fields of `Created`.
    deleted = False

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, aggregate: Aggregate) -> None:
            for field, value in self.changes.items():
                setattr(aggregate, field, value)

    class Deleted(Aggregate.Event):
        def apply(self, aggregate: Aggregate) -> None:
            aggregate.deleted = True  # type: ignore[attr-defined]

    def update(self, changes: dict[str, Any]) -> None:
        """Record the changed fields; fields whose value is unchanged are left out."""
        self.reject_if_deleted()
        changed = {field: value for field, value in changes.items() if getattr(self, field) != value}
        if changed:
            self.trigger_event(type(self).Updated, changes=changed)

    def delete(self) -> None:
        self.reject_if_deleted()
        self.trigger_event(type(self).Deleted)

    def reject_if_deleted(self) -> None:
        if self.deleted:
            raise Conflict(f"{type(self).__name__} {self.id} was deleted")
