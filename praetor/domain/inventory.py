"""The inventory aggregate, with its hosts and groups as entities inside it.

Hosts and groups live in the inventory so that the inventory can enforce its own rules:
host and group names are unique within it, and a group only contains hosts of the same
inventory.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from praetor.domain.errors import Conflict, InvalidValue, NotFound
from praetor.domain.host_patterns import match_hosts
from praetor.domain.resource import Resource


class Inventory(Resource):
    @event("Created")
    def __init__(self, name: str, description: str, organization_id: UUID, variables: dict[str, Any]) -> None:
        self.name = name
        self.description = description
        self.organization_id = organization_id
        self.variables = variables
        self.hosts: dict[UUID, dict[str, Any]] = {}
        self.groups: dict[UUID, dict[str, Any]] = {}

    # Hosts.

    def add_host(self, host_id: UUID, name: str, description: str, variables: dict[str, Any], enabled: bool) -> None:
        self.reject_if_deleted()
        self._reject_taken_name("name", name)
        self._host_added(host_id, name, description, variables, enabled)

    @event("HostAdded")
    def _host_added(self, host_id: UUID, name: str, description: str, variables: dict[str, Any], enabled: bool) -> None:
        self.hosts[host_id] = {"name": name, "description": description, "variables": variables, "enabled": enabled}

    def change_host(self, host_id: UUID, changes: dict[str, Any]) -> None:
        host = self._host(host_id)
        if "name" in changes and changes["name"] != host["name"]:
            self._reject_taken_name("name", changes["name"])
        changed = {field: value for field, value in changes.items() if host[field] != value}
        if changed:
            self._host_changed(host_id, changed)

    @event("HostChanged")
    def _host_changed(self, host_id: UUID, changes: dict[str, Any]) -> None:
        self.hosts[host_id].update(changes)

    def remove_host(self, host_id: UUID) -> None:
        self._host(host_id)
        self._host_removed(host_id)

    @event("HostRemoved")
    def _host_removed(self, host_id: UUID) -> None:
        del self.hosts[host_id]
        for group in self.groups.values():
            group["host_ids"].discard(host_id)

    # Groups.

    def add_group(self, group_id: UUID, name: str, description: str, variables: dict[str, Any]) -> None:
        self.reject_if_deleted()
        self._reject_taken_name("name", name)
        self._group_added(group_id, name, description, variables)

    @event("GroupAdded")
    def _group_added(self, group_id: UUID, name: str, description: str, variables: dict[str, Any]) -> None:
        self.groups[group_id] = {"name": name, "description": description, "variables": variables, "host_ids": set()}

    def change_group(self, group_id: UUID, changes: dict[str, Any]) -> None:
        group = self._group(group_id)
        if "name" in changes and changes["name"] != group["name"]:
            self._reject_taken_name("name", changes["name"])
        changed = {field: value for field, value in changes.items() if group[field] != value}
        if changed:
            self._group_changed(group_id, changed)

    @event("GroupChanged")
    def _group_changed(self, group_id: UUID, changes: dict[str, Any]) -> None:
        self.groups[group_id].update(changes)

    def remove_group(self, group_id: UUID) -> None:
        self._group(group_id)
        self._group_removed(group_id)

    @event("GroupRemoved")
    def _group_removed(self, group_id: UUID) -> None:
        del self.groups[group_id]

    def add_host_to_group(self, group_id: UUID, host_id: UUID) -> None:
        group = self._group(group_id)
        if host_id not in self.hosts:
            raise InvalidValue("host_id", f"host {host_id} is not in inventory {self.id}; add a host of this inventory")
        if host_id not in group["host_ids"]:
            self._host_joined_group(group_id, host_id)

    @event("HostJoinedGroup")
    def _host_joined_group(self, group_id: UUID, host_id: UUID) -> None:
        self.groups[group_id]["host_ids"].add(host_id)

    def remove_host_from_group(self, group_id: UUID, host_id: UUID) -> None:
        group = self._group(group_id)
        if host_id not in group["host_ids"]:
            raise NotFound("group host", host_id)
        self._host_left_group(group_id, host_id)

    @event("HostLeftGroup")
    def _host_left_group(self, group_id: UUID, host_id: UUID) -> None:
        self.groups[group_id]["host_ids"].discard(host_id)

    # Rules.

    def check_limit(self, limit: str) -> None:
        """Raise InvalidValue unless the inventory has enabled hosts and `limit` selects one."""
        hosts = {host["name"] for host in self.hosts.values() if host["enabled"]}
        if not hosts:
            raise InvalidValue("inventory_id", f"inventory {self.id} has no enabled hosts; add hosts before launching")
        groups = {
            group["name"]: {self.hosts[host_id]["name"] for host_id in group["host_ids"] if self.hosts[host_id]["enabled"]}
            for group in self.groups.values()
        }
        if limit and not match_hosts(limit, hosts, groups):
            raise InvalidValue("limit", f"{limit!r} matches no host of inventory {self.id}; name a host or group in it")

    def _host(self, host_id: UUID) -> dict[str, Any]:
        self.reject_if_deleted()
        try:
            return self.hosts[host_id]
        except KeyError:
            raise NotFound("host", host_id) from None

    def _group(self, group_id: UUID) -> dict[str, Any]:
        self.reject_if_deleted()
        try:
            return self.groups[group_id]
        except KeyError:
            raise NotFound("group", group_id) from None

    def _reject_taken_name(self, field: str, name: str) -> None:
        # Ansible keeps hosts and groups in one namespace, so a host may not share a group's name.
        used_names = {host["name"] for host in self.hosts.values()} | {group["name"] for group in self.groups.values()}
        if name in used_names:
            raise Conflict(f"{field}: {name!r} is already a host or group in inventory {self.id}; choose another name")
