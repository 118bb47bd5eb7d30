"""Rules of the inventory aggregate: unique names, membership within one inventory."""

from uuid import uuid4

import pytest

from praetor.domain.errors import Conflict, InvalidValue, NotFound
from praetor.domain.inventory import Inventory


def new_inventory() -> Inventory:
    return Inventory(name="prod", description="", organization_id=uuid4(), variables={})


def test_host_names_unique() -> None:
    inventory = new_inventory()
    inventory.add_host(uuid4(), "web-1", "", {}, True)
    with pytest.raises(Conflict):
        inventory.add_host(uuid4(), "web-1", "", {}, True)
    assert len(inventory.hosts) == 1


def test_group_name_taken_by_host() -> None:
    inventory = new_inventory()
    inventory.add_host(uuid4(), "web", "", {}, True)
    with pytest.raises(Conflict):
        inventory.add_group(uuid4(), "web", "", {})
    assert inventory.groups == {}


def test_group_accepts_own_hosts_only() -> None:
    inventory = new_inventory()
    group_id = uuid4()
    inventory.add_group(group_id, "web", "", {})
    with pytest.raises(InvalidValue) as raised:
        inventory.add_host_to_group(group_id, uuid4())
    assert raised.value.field == "host_id"
    assert inventory.groups[group_id]["host_ids"] == set()


def test_removed_host_leaves_groups() -> None:
    inventory = new_inventory()
    host_id, group_id = uuid4(), uuid4()
    inventory.add_host(host_id, "web-1", "", {}, True)
    inventory.add_group(group_id, "web", "", {})
    inventory.add_host_to_group(group_id, host_id)
    inventory.remove_host(host_id)
    assert inventory.groups[group_id]["host_ids"] == set()


def test_unchanged_fields_record_nothing() -> None:
    inventory = new_inventory()
    host_id = uuid4()
    inventory.add_host(host_id, "web-1", "", {"a": 1}, True)
    version = inventory.version
    inventory.change_host(host_id, {"variables": {"a": 1}})
    assert inventory.version == version


def test_unknown_host_not_found() -> None:
    inventory = new_inventory()
    with pytest.raises(NotFound):
        inventory.change_host(uuid4(), {"name": "x"})


def test_deleted_inventory_rejects_hosts() -> None:
    inventory = new_inventory()
    inventory.delete()
    with pytest.raises(Conflict):
        inventory.add_host(uuid4(), "web-1", "", {}, True)
