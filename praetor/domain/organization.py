"""The organization aggregate: the owner of projects, inventories and job templates."""

from __future__ import annotations

from eventsourcing.domain import event

from praetor.domain.resource import Resource


class Organization(Resource):
    @event("Created")
    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
