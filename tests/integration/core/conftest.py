"""An embedded container on a temporary data directory, with a project, an inventory and a template."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from praetor.commands.inventories import AddHost, CreateInventory
from praetor.commands.job_templates import CreateJobTemplate
from praetor.commands.organizations import CreateOrganization
from praetor.commands.projects import CreateProject
from praetor.infra.bootstrap import Container, build_container
from praetor.infra.settings import Settings

PLAYBOOK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"


@dataclass
class Fixtures:
    container: Container
    template_id: UUID
    inventory_id: UUID


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", admin_password="test-password")


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    container = build_container(settings)
    container.start(scheduler=False)
    yield container
    container.stop()


@pytest.fixture
def fixtures(container: Container, settings: Settings) -> Fixtures:
    project_dir = settings.resolved_projects_root / "site"
    project_dir.mkdir(parents=True)
    (project_dir / "site.yml").write_text(PLAYBOOK)
    bus = container.bus
    organization_id = bus.handle(CreateOrganization(name="ops"))
    project_id = bus.handle(
        CreateProject(name="site", organization_id=organization_id, scm_type="local", local_path=str(project_dir))
    )
    inventory_id = bus.handle(CreateInventory(name="prod", organization_id=organization_id))
    bus.handle(AddHost(inventory_id=inventory_id, name="web-1", variables={"ansible_connection": "local"}))
    template_id = bus.handle(
        CreateJobTemplate(name="ping", project_id=project_id, inventory_id=inventory_id, playbook="site.yml")
    )
    return Fixtures(container=container, template_id=template_id, inventory_id=inventory_id)
