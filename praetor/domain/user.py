"""The user aggregate: someone who signs in to the API."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from praetor.domain.resource import Resource


class User(Resource):
    @staticmethod
    def create_id(username: str) -> UUID:
        """Derive the id from the username, so the event store rejects a second user of that name."""
        return uuid5(NAMESPACE_URL, f"praetor:user:{username}")

    @event("Created")
    def __init__(self, username: str, password_hash: str, is_superuser: bool) -> None:
        self.username = username
        self.password_hash = password_hash
        self.is_superuser = is_superuser
