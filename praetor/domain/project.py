"""The project aggregate: where a job template's playbooks come from."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from praetor.domain.resource import Resource


class ScmType(StrEnum):
    LOCAL = "local"
    GIT = "git"


class Project(Resource):
    @event("Created")
    def __init__(
        self,
        name: str,
        description: str,
        organization_id: UUID,
        scm_type: str,
        local_path: str | None,
        scm_url: str | None,
        scm_branch: str | None,
    ) -> None:
        self.name = name
        self.description = description
        self.organization_id = organization_id
        self.scm_type = scm_type
        self.local_path = local_path
        self.scm_url = scm_url
        self.scm_branch = scm_branch
