"""The user aggregate: someone who signs in to the API."""

from __future__ import annotations

from eventsourcing.domain import event

from praetor.domain.resource import Resource


class User(Resource):
    @event("Created")
    def __init__(self, username: str, password_hash: str, is_superuser: bool) -> None:
        self.username = username
        self.password_hash = password_hash
        self.is_superuser = is_superuser
