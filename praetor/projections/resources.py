"""Projections of organizations, users, projects, job templates and inventories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from praetor.domain import inventory as inventory_domain
from praetor.domain.job_template import JobTemplate
from praetor.domain.organization import Organization
from praetor.domain.project import Project
from praetor.domain.user import User
from praetor.projections import tables
from praetor.projections.registry import projects

TABLES: dict[type, type[tables.ReadModel]] = {
    Organization: tables.Organization,
    Project: tables.Project,
    JobTemplate: tables.JobTemplate,
    User: tables.User,
    inventory_domain.Inventory: tables.Inventory,
}
EVENT_TABLES: dict[type, type[tables.ReadModel]] = {
    event_type: table
    for aggregate, table in TABLES.items()
    for event_type in (aggregate.Created, aggregate.Updated, aggregate.Deleted)
}
CREATED_EVENTS = tuple(aggregate.Created for aggregate in TABLES)
UPDATED_EVENTS = tuple(aggregate.Updated for aggregate in TABLES)
DELETED_EVENTS = tuple(aggregate.Deleted for aggregate in TABLES)


def _table_of(event: Any) -> type[tables.ReadModel]:
    return EVENT_TABLES[type(event)]


def _event_fields(event: Any) -> dict[str, Any]:
    fields = dict(event.__dict__)
    for name in ("originator_id", "originator_version", "originator_topic", "timestamp"):
        fields.pop(name, None)
    return fields


@projects(*CREATED_EVENTS)
def resource_created(session: Session, event: Any) -> None:
    table = _table_of(event)
    row = table(id=event.originator_id, created_at=event.timestamp, modified_at=event.timestamp, **_event_fields(event))
    session.merge(row)


@projects(*UPDATED_EVENTS)
def resource_updated(session: Session, event: Any) -> None:
    row = session.get(_table_of(event), event.originator_id)
    if row is None:
        return
    for field, value in event.changes.items():
        setattr(row, field, value)
    row.modified_at = event.timestamp


@projects(*DELETED_EVENTS)
def resource_deleted(session: Session, event: Any) -> None:
    table = _table_of(event)
    session.execute(delete(table).where(table.id == event.originator_id))
    if table is tables.Inventory:
        group_ids = select(tables.Group.id).where(tables.Group.inventory_id == event.originator_id)
        session.execute(delete(tables.GroupHost).where(tables.GroupHost.group_id.in_(group_ids)))
        session.execute(delete(tables.Group).where(tables.Group.inventory_id == event.originator_id))
        session.execute(delete(tables.Host).where(tables.Host.inventory_id == event.originator_id))


# Hosts and groups, the entities inside an inventory.

Inventory = inventory_domain.Inventory


@projects(Inventory.HostAdded)
def host_added(session: Session, event: Any) -> None:
    session.merge(
        tables.Host(
            id=event.host_id,
            inventory_id=event.originator_id,
            name=event.name,
            description=event.description,
            variables=event.variables,
            enabled=event.enabled,
            created_at=event.timestamp,
            modified_at=event.timestamp,
        )
    )
    _count_members(session, event)


@projects(Inventory.HostChanged)
def host_changed(session: Session, event: Any) -> None:
    _change_row(session, tables.Host, event.host_id, event)


@projects(Inventory.HostRemoved)
def host_removed(session: Session, event: Any) -> None:
    session.execute(delete(tables.GroupHost).where(tables.GroupHost.host_id == event.host_id))
    session.execute(delete(tables.Host).where(tables.Host.id == event.host_id))
    _count_members(session, event)


@projects(Inventory.GroupAdded)
def group_added(session: Session, event: Any) -> None:
    session.merge(
        tables.Group(
            id=event.group_id,
            inventory_id=event.originator_id,
            name=event.name,
            description=event.description,
            variables=event.variables,
            created_at=event.timestamp,
            modified_at=event.timestamp,
        )
    )
    _count_members(session, event)


@projects(Inventory.GroupChanged)
def group_changed(session: Session, event: Any) -> None:
    _change_row(session, tables.Group, event.group_id, event)


@projects(Inventory.GroupRemoved)
def group_removed(session: Session, event: Any) -> None:
    session.execute(delete(tables.GroupHost).where(tables.GroupHost.group_id == event.group_id))
    session.execute(delete(tables.Group).where(tables.Group.id == event.group_id))
    _count_members(session, event)


@projects(Inventory.HostJoinedGroup)
def host_joined_group(session: Session, event: Any) -> None:
    session.merge(tables.GroupHost(group_id=event.group_id, host_id=event.host_id))


@projects(Inventory.HostLeftGroup)
def host_left_group(session: Session, event: Any) -> None:
    session.execute(
        delete(tables.GroupHost).where(
            tables.GroupHost.group_id == event.group_id, tables.GroupHost.host_id == event.host_id
        )
    )


def _change_row(session: Session, table: type[tables.ReadModel], row_id: Any, event: Any) -> None:
    row = session.get(table, row_id)
    if row is None:
        return
    for field, value in event.changes.items():
        setattr(row, field, value)
    row.modified_at = event.timestamp


def _count_members(session: Session, event: Any) -> None:
    session.flush()
    inventory = session.get(tables.Inventory, event.originator_id)
    if inventory is None:
        return
    inventory.total_hosts = session.scalar(
        select(func.count()).select_from(tables.Host).where(tables.Host.inventory_id == event.originator_id)
    )
    inventory.total_groups = session.scalar(
        select(func.count()).select_from(tables.Group).where(tables.Group.inventory_id == event.originator_id)
    )
    inventory.modified_at = event.timestamp
