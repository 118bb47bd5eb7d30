"""Read models rebuilt from the event store equal the live ones, row for row."""

from __future__ import annotations

import tempfile
from pathlib import Path
from uuid import UUID

from hypothesis import given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select

from praetor.commands.inventories import AddGroup, AddHost, AddHostToGroup, CreateInventory, RemoveHost, UpdateInventory
from praetor.commands.job_templates import CreateJobTemplate
from praetor.commands.jobs import CancelJob, LaunchJob, ScheduleRun
from praetor.commands.organizations import CreateOrganization, UpdateOrganization
from praetor.commands.projects import CreateProject
from praetor.domain.errors import DomainError
from praetor.infra.bootstrap import build_container
from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.projection_runner import EmbeddedProjectionRunner
from praetor.infra.settings import Settings
from praetor.projections import tables

DOMAIN_TABLES = [
    tables.Organization, tables.Inventory, tables.Host, tables.Group, tables.GroupHost, tables.Job, tables.Run,
    tables.User, tables.Project, tables.JobTemplate,
]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("rename_organization"), st.text(min_size=1, max_size=8)),
        st.tuples(st.just("add_host"), st.integers(0, 5)),
        st.tuples(st.just("remove_host"), st.integers(0, 5)),
        st.tuples(st.just("add_group"), st.integers(0, 2)),
        st.tuples(st.just("join_group"), st.tuples(st.integers(0, 2), st.integers(0, 5))),
        st.tuples(st.just("set_variables"), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)),
        st.tuples(st.just("launch"), st.none()),
        st.tuples(st.just("schedule"), st.integers(0, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 3)),
    ),
    max_size=25,
)


def snapshot(sessions) -> dict[str, list[tuple]]:
    rows = {}
    with sessions() as session:
        for table in DOMAIN_TABLES:
            columns = [column.key for column in table.__table__.columns]
            primary_key = [getattr(table, column.key) for column in table.__table__.primary_key.columns]
            rows[table.__tablename__] = [
                tuple(getattr(row, column) for column in columns) for row in session.scalars(select(table).order_by(*primary_key))
            ]
    return rows


@hypothesis_settings(max_examples=25, deadline=None)
@given(steps=steps)
def test_rebuilt_read_models_equal_live(steps) -> None:
    with tempfile.TemporaryDirectory() as home:
        container = build_container(Settings(home=Path(home) / "home"))
        container.runner.start()
        try:
            bus = container.bus
            organization_id = bus.handle(CreateOrganization(name="ops"))
            inventory_id = bus.handle(CreateInventory(name="prod", organization_id=organization_id))
            host_ids: dict[int, UUID] = {}
            group_ids: dict[int, UUID] = {}
            job_ids: list[UUID] = []
            project_dir = container.settings.resolved_projects_root / "site"
            project_dir.mkdir()
            (project_dir / "site.yml").write_text("- hosts: all\n  tasks: []\n")
            project_id = bus.handle(CreateProject(name="site", organization_id=organization_id, scm_type="local", local_path="site"))
            bus.handle(AddHost(inventory_id=inventory_id, name="always-here"))
            template_id = bus.handle(CreateJobTemplate(name="t", project_id=project_id, inventory_id=inventory_id, playbook="site.yml"))

            for action, argument in steps:
                try:
                    if action == "rename_organization":
                        bus.handle(UpdateOrganization(organization_id, {"name": argument}))
                    elif action == "add_host":
                        host_ids[argument] = bus.handle(AddHost(inventory_id=inventory_id, name=f"host-{argument}"))
                    elif action == "remove_host" and argument in host_ids:
                        bus.handle(RemoveHost(inventory_id, host_ids.pop(argument)))
                    elif action == "add_group":
                        group_ids[argument] = bus.handle(AddGroup(inventory_id=inventory_id, name=f"group-{argument}"))
                    elif action == "join_group" and argument[0] in group_ids and argument[1] in host_ids:
                        bus.handle(AddHostToGroup(inventory_id, group_ids[argument[0]], host_ids[argument[1]]))
                    elif action == "set_variables":
                        bus.handle(UpdateInventory(inventory_id, {"variables": argument}))
                    elif action == "launch":
                        job_ids.append(bus.handle(LaunchJob(job_template_id=template_id, launched_by="admin")))
                    elif action == "schedule" and argument < len(job_ids):
                        bus.handle(ScheduleRun(job_ids[argument], "default"))
                    elif action == "cancel" and argument < len(job_ids):
                        bus.handle(CancelJob(job_ids[argument]))
                except DomainError:
                    pass  # A rejected command changes nothing; the comparison below checks that too.

            live = snapshot(container.sessions)

            rebuilt_engine = create_read_model_engine(f"sqlite:///{Path(home) / 'rebuilt.sqlite'}")
            migrate(rebuilt_engine)
            rebuilt_sessions = session_factory(rebuilt_engine)
            EmbeddedProjectionRunner(container.app, rebuilt_sessions).catch_up()
            rebuilt = snapshot(rebuilt_sessions)
            rebuilt_engine.dispose()
        finally:
            container.runner.stop()
            container.engine.dispose()

    assert rebuilt == live


def test_projection_position_survives_restart(container) -> None:
    bus = container.bus
    bus.handle(CreateOrganization(name="first"))
    container.runner.stop()
    bus.handle(CreateOrganization(name="second"), wait=False)

    restarted = EmbeddedProjectionRunner(container.app, container.sessions)
    restarted.start()
    try:
        restarted.wait_for(container.app.recorder.max_notification_id())
    finally:
        restarted.stop()

    with container.sessions() as session:
        names = sorted(session.scalars(select(tables.Organization.name)))
    assert names == ["first", "second"]
