"""Commands on organizations and users, the resources with no references to check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from praetor.commands.base import Context, handles
from praetor.domain.organization import Organization
from praetor.domain.user import User


@dataclass(frozen=True)
class CreateOrganization:
    name: str
    description: str = ""


@dataclass(frozen=True)
class UpdateOrganization:
    organization_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteOrganization:
    organization_id: UUID


@dataclass(frozen=True)
class CreateUser:
    username: str
    password_hash: str
    is_superuser: bool = False


@handles(CreateOrganization)
def create_organization(command: CreateOrganization, context: Context) -> UUID:
    organization = Organization(name=command.name, description=command.description)
    context.save(organization)
    return organization.id


@handles(UpdateOrganization)
def update_organization(command: UpdateOrganization, context: Context) -> UUID:
    organization = context.load(Organization, command.organization_id, "organization")
    organization.update(command.changes)
    context.save(organization)
    return organization.id


@handles(DeleteOrganization)
def delete_organization(command: DeleteOrganization, context: Context) -> UUID:
    organization = context.load(Organization, command.organization_id, "organization")
    organization.delete()
    context.save(organization)
    return organization.id


@handles(CreateUser)
def create_user(command: CreateUser, context: Context) -> UUID:
    user = User(username=command.username, password_hash=command.password_hash, is_superuser=command.is_superuser)
    context.save(user)
    return user.id
