"""Request bodies. Unknown fields are rejected, so a misspelt field is an error, not ignored.

In update bodies every field is optional, but an explicit `null` is still checked against
the field's type: `Field(default=None)` leaves only the default unvalidated.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=512)]
Description = Annotated[str, Field(max_length=10_000)]
Variables = dict[str, Any]
Forks = Annotated[int, Field(ge=1, le=500, description="Hosts Ansible works on in parallel.")]
Verbosity = Annotated[int, Field(ge=0, le=5)]
Timeout = Annotated[int, Field(ge=0, description="Seconds before the run is stopped; 0 for no limit.")]
UNSET: Any = Field(default=None)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationCreate(Body):
    name: Name
    description: Description = ""


class OrganizationUpdate(Body):
    name: Name = UNSET
    description: Description = UNSET


class ProjectCreate(Body):
    name: Name
    organization_id: UUID
    scm_type: Literal["local", "git"]
    local_path: str | None = None
    scm_url: str | None = None
    scm_branch: str | None = None
    description: Description = ""


class ProjectUpdate(Body):
    name: Name = UNSET
    organization_id: UUID = UNSET
    scm_type: Literal["local", "git"] = UNSET
    local_path: str | None = None
    scm_url: str | None = None
    scm_branch: str | None = None
    description: Description = UNSET


class InventoryCreate(Body):
    name: Name
    organization_id: UUID
    variables: Variables = Field(default_factory=dict)
    description: Description = ""


class InventoryUpdate(Body):
    name: Name = UNSET
    organization_id: UUID = UNSET
    variables: Variables = UNSET
    description: Description = UNSET


class HostCreate(Body):
    name: Name
    inventory_id: UUID
    variables: Variables = Field(default_factory=dict)
    enabled: bool = True
    description: Description = ""


class HostUpdate(Body):
    name: Name = UNSET
    variables: Variables = UNSET
    enabled: bool = UNSET
    description: Description = UNSET


class GroupCreate(Body):
    name: Name
    inventory_id: UUID
    variables: Variables = Field(default_factory=dict)
    description: Description = ""


class GroupUpdate(Body):
    name: Name = UNSET
    variables: Variables = UNSET
    description: Description = UNSET


class GroupHostAdd(Body):
    host_id: UUID


class JobTemplateCreate(Body):
    name: Name
    project_id: UUID
    inventory_id: UUID
    playbook: Annotated[str, Field(min_length=1, max_length=1024)]
    extra_vars: Variables = Field(default_factory=dict)
    limit: Annotated[str, Field(max_length=4096)] = ""
    forks: Forks = 5
    verbosity: Verbosity = 0
    timeout_seconds: Timeout = 0
    description: Description = ""


class JobTemplateUpdate(Body):
    name: Name = UNSET
    project_id: UUID = UNSET
    inventory_id: UUID = UNSET
    playbook: Annotated[str, Field(min_length=1, max_length=1024)] = UNSET
    extra_vars: Variables = UNSET
    limit: Annotated[str, Field(max_length=4096)] = UNSET
    forks: Forks = UNSET
    verbosity: Verbosity = UNSET
    timeout_seconds: Timeout = UNSET
    description: Description = UNSET


class LaunchBody(Body):
    extra_vars: Variables = Field(default_factory=dict)
    limit: Annotated[str, Field(max_length=4096)] | None = None


class JobCreate(LaunchBody):
    job_template_id: UUID


class TokenRequest(Body):
    username: Annotated[str, Field(min_length=1)]
    password: Annotated[str, Field(min_length=1)]
