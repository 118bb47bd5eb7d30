"""Commands on inventories and on the hosts and groups inside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from praetor.commands.base import Context, handles
from praetor.domain.inventory import Inventory
from praetor.domain.organization import Organization


@dataclass(frozen=True)
class CreateInventory:
    name: str
    organization_id: UUID
    variables: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class UpdateInventory:
    inventory_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteInventory:
    inventory_id: UUID


@dataclass(frozen=True)
class AddHost:
    inventory_id: UUID
    name: str
    variables: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class ChangeHost:
    inventory_id: UUID
    host_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class RemoveHost:
    inventory_id: UUID
    host_id: UUID


@dataclass(frozen=True)
class AddGroup:
    inventory_id: UUID
    name: str
    variables: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ChangeGroup:
    inventory_id: UUID
    group_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class RemoveGroup:
    inventory_id: UUID
    group_id: UUID


@dataclass(frozen=True)
class AddHostToGroup:
    inventory_id: UUID
    group_id: UUID
    host_id: UUID


@dataclass(frozen=True)
class RemoveHostFromGroup:
    inventory_id: UUID
    group_id: UUID
    host_id: UUID


@handles(CreateInventory)
def create_inventory(command: CreateInventory, context: Context) -> UUID:
    context.load(Organization, command.organization_id, "organization")
    inventory = Inventory(
        name=command.name,
        description=command.description,
        organization_id=command.organization_id,
        variables=command.variables,
    )
    context.save(inventory)
    return inventory.id


@handles(UpdateInventory)
def update_inventory(command: UpdateInventory, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    if "organization_id" in command.changes:
        context.load(Organization, command.changes["organization_id"], "organization")
    inventory.update(command.changes)
    context.save(inventory)
    return inventory.id


@handles(DeleteInventory)
def delete_inventory(command: DeleteInventory, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.delete()
    context.save(inventory)
    return inventory.id


@handles(AddHost)
def add_host(command: AddHost, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    host_id = uuid4()
    inventory.add_host(host_id, command.name, command.description, command.variables, command.enabled)
    context.save(inventory)
    return host_id


@handles(ChangeHost)
def change_host(command: ChangeHost, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.change_host(command.host_id, command.changes)
    context.save(inventory)
    return command.host_id


@handles(RemoveHost)
def remove_host(command: RemoveHost, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.remove_host(command.host_id)
    context.save(inventory)
    return command.host_id


@handles(AddGroup)
def add_group(command: AddGroup, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    group_id = uuid4()
    inventory.add_group(group_id, command.name, command.description, command.variables)
    context.save(inventory)
    return group_id


@handles(ChangeGroup)
def change_group(command: ChangeGroup, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.change_group(command.group_id, command.changes)
    context.save(inventory)
    return command.group_id


@handles(RemoveGroup)
def remove_group(command: RemoveGroup, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.remove_group(command.group_id)
    context.save(inventory)
    return command.group_id


@handles(AddHostToGroup)
def add_host_to_group(command: AddHostToGroup, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.add_host_to_group(command.group_id, command.host_id)
    context.save(inventory)
    return command.group_id


@handles(RemoveHostFromGroup)
def remove_host_from_group(command: RemoveHostFromGroup, context: Context) -> UUID:
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    inventory.remove_host_from_group(command.group_id, command.host_id)
    context.save(inventory)
    return command.group_id
