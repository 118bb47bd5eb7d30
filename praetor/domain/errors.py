"""Exceptions that domain rules raise. The API turns each into a 4xx response."""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a rule of the domain."""


def plural(kind: str) -> str:
    """Return the plural of a resource kind, as collections are named ("inventories")."""
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


class NotFound(DomainError):
    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} was not found; list the {plural(kind)} to find a valid id")
        self.kind = kind
        self.ident = ident

    @property
    def field(self) -> str:
        """The request field that usually carries an id of this kind, such as `job_template_id`."""
        return self.kind.replace(" ", "_") + "_id"


class InvalidValue(DomainError):
    """A field whose value the domain rejects, named by `field` in the error response."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Conflict(DomainError):
    """A request that contradicts the current state (a duplicate name, a finished job)."""
