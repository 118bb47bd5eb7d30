"""The playbooks and inventories under tests/data, and the inventory format of these tests.

An inventory file contains `vars` (the inventory's variables), `hosts` (host name to host
variables) and `groups` (group name to `vars` and a `hosts` list of member names).
tests/data/inventories/README.md shows an example.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
PLAYBOOKS_DIR = DATA_DIR / "playbooks"
INVENTORIES_DIR = DATA_DIR / "inventories"


@dataclass(frozen=True)
class GroupSpec:
    variables: dict[str, Any]
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class InventorySpec:
    name: str
    variables: dict[str, Any]
    hosts: dict[str, dict[str, Any]]
    groups: dict[str, GroupSpec]


def load_inventory(name: str) -> InventorySpec:
    """Read tests/data/inventories/{name}.yml; raise ValueError when a group names an unknown host."""
    document = yaml.safe_load((INVENTORIES_DIR / f"{name}.yml").read_text(encoding="utf-8")) or {}
    hosts = {host: dict(variables or {}) for host, variables in (document.get("hosts") or {}).items()}
    groups = {}
    for group, body in (document.get("groups") or {}).items():
        body = body or {}
        members = tuple(body.get("hosts") or ())
        unknown = [member for member in members if member not in hosts]
        if unknown:
            raise ValueError(f"inventory {name}: group {group} lists hosts missing from `hosts`: {', '.join(unknown)}")
        groups[group] = GroupSpec(variables=dict(body.get("vars") or {}), hosts=members)
    return InventorySpec(name=name, variables=dict(document.get("vars") or {}), hosts=hosts, groups=groups)


def ansible_inventory(spec: InventorySpec) -> dict[str, Any]:
    """Render `spec` in Ansible's YAML inventory structure, as the server's manifest does."""
    return {
        "all": {
            "vars": spec.variables,
            "hosts": {host: variables for host, variables in spec.hosts.items()},
            "children": {
                group: {"vars": body.variables, "hosts": {member: {} for member in body.hosts}}
                for group, body in spec.groups.items()
            },
        }
    }
