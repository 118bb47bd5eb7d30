"""The job template aggregate: a playbook, a project and an inventory, ready to launch."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from praetor.domain.resource import Resource


class JobTemplate(Resource):
    @event("Created")
    def __init__(
        self,
        name: str,
        description: str,
        organization_id: UUID,
        project_id: UUID,
        inventory_id: UUID,
        playbook: str,
        extra_vars: dict[str, Any],
        limit: str,
        forks: int,
        verbosity: int,
        timeout_seconds: int,
    ) -> None:
        self.name = name
        self.description = description
        self.organization_id = organization_id
        self.project_id = project_id
        self.inventory_id = inventory_id
        self.playbook = playbook
        self.extra_vars = extra_vars
        self.limit = limit
        self.forks = forks
        self.verbosity = verbosity
        self.timeout_seconds = timeout_seconds
