"""Distributed replay: read models rebuilt from PostgreSQL and Kafka equal the live ones.

The live read models are built the production way, by a relay to Kafka and a `praetor worker`
process. Hypothesis drives random command sequences against them. Then `replay` rebuilds every
table into another schema, which must match the live one row for row.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from sqlalchemy import func, select, text

from praetor.commands.inventories import AddGroup, AddHost, AddHostToGroup, CreateInventory, RemoveHost, UpdateInventory
from praetor.commands.job_templates import CreateJobTemplate
from praetor.commands.jobs import CancelJob, LaunchJob, ScheduleRun
from praetor.commands.organizations import CreateOrganization, UpdateOrganization
from praetor.commands.projects import CreateProject
from praetor.domain.errors import DomainError
from praetor.infra.bootstrap import build_container
from praetor.infra.database import create_read_model_engine, session_factory
from praetor.infra.event_log import JOB_EVENTS_TOPIC
from praetor.infra.relay import run_relay
from praetor.infra.replay import replay_distributed
from praetor.infra.settings import Settings
from praetor.projections import tables

COMPARED = [
    tables.Organization, tables.Project, tables.Inventory, tables.Host, tables.Group, tables.GroupHost, tables.JobTemplate,
    tables.Job, tables.Run, tables.User, tables.AggregateVersion, tables.JobHostSummary,
]
REPLAY_SCHEMA = "praetor_replayed"

steps = st.lists(
    st.one_of(
        st.tuples(st.just("rename_organization"), st.text(min_size=1, max_size=8)),
        st.tuples(st.just("add_host"), st.integers(0, 4)),
        st.tuples(st.just("remove_host"), st.integers(0, 4)),
        st.tuples(st.just("add_group"), st.integers(0, 2)),
        st.tuples(st.just("join_group"), st.tuples(st.integers(0, 2), st.integers(0, 4))),
        st.tuples(st.just("set_variables"), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)),
        st.tuples(st.just("launch"), st.none()),
        st.tuples(st.just("schedule"), st.integers(0, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 3)),
        st.tuples(st.just("job_events"), st.integers(1, 40)),
    ),
    max_size=15,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    admin_dsn = os.environ.get("PRAETOR_TEST_PG_DSN")
    brokers = os.environ.get("PRAETOR_TEST_KAFKA_BOOTSTRAP")
    if not admin_dsn or not brokers:
        pytest.fail('PRAETOR_TEST_PG_DSN and PRAETOR_TEST_KAFKA_BOOTSTRAP are not set; run through scripts/test.sh')
    suffix = secrets.token_hex(4)
    database = f"praetor_replay_{suffix}"

    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    home = tmp_path_factory.mktemp("replay-home")

    env = {
        "PRAETOR_MODE": "distributed",
        "PRAETOR_HOME": str(home),
        "PRAETOR_DATABASE_URL": admin_dsn.rsplit("/", 1)[0] + f"/{database}",
        "PRAETOR_KAFKA_BOOTSTRAP_SERVERS": brokers,
        "PRAETOR_KAFKA_TOPIC_PREFIX": f"replay-{suffix}.",
        "PRAETOR_WORKER_GROUP_ID": f"replay-{suffix}",
        "PRAETOR_KAFKA_TOPIC_PARTITIONS": "3",
    }
    settings = Settings(
        mode="distributed", home=home, database_url=env["PRAETOR_DATABASE_URL"], kafka_bootstrap_servers=brokers,
        kafka_topic_prefix=env["PRAETOR_KAFKA_TOPIC_PREFIX"], kafka_topic_partitions=3,
    )

    container = build_container(settings)
    relay = run_relay(container.app, settings.database_url, brokers, topic_prefix=settings.kafka_topic_prefix, topic_partitions=3)
    with (home / "worker.log").open("wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "praetor.cli.main", "worker"], env={**os.environ, **env},
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        bus = container.bus
        organization_id = bus.handle(CreateOrganization(name="ops"))
        project_dir = settings.resolved_projects_root / "site"
        project_dir.mkdir(parents=True)
        (project_dir / "site.yml").write_text("- hosts: all\n  tasks: []\n")
        project_id = bus.handle(CreateProject(name="site", organization_id=organization_id, scm_type="local", local_path="site"))
        yield container, settings, organization_id, project_id
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        relay.stop()
        container.stop()
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def snapshot(sessions) -> dict[str, list[tuple]]:
    rows = {}
    with sessions() as session:
        for table in COMPARED:
            columns = [column.key for column in table.__table__.columns if column.key != "id" or table is not tables.JobHostSummary]
            rows[table.__tablename__] = sorted(tuple(str(getattr(row, column)) for column in columns) for row in session.scalars(select(table)))
        rows["job_events"] = sorted(
            (str(row.run_id), row.seq, row.event_type, row.stdout, str(row.created_at)) for row in session.scalars(select(tables.JobEvent))
        )
    return rows


def wait_for_job_events(container, expected: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with container.sessions() as session:
            stored = session.scalar(select(func.count()).select_from(tables.JobEvent))
        if stored >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker stored {stored} of {expected} job events")
        time.sleep(0.1)


@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_replayed_tables_equal_live(stack, steps) -> None:
    container, settings, organization_id, project_id = stack
    bus = container.bus
    inventory_id = bus.handle(CreateInventory(name=f"inv-{uuid4().hex[:6]}", organization_id=organization_id))
    bus.handle(AddHost(inventory_id=inventory_id, name="always-here"))
    template_id = bus.handle(CreateJobTemplate(name="t", project_id=project_id, inventory_id=inventory_id, playbook="site.yml"))
    host_ids: dict[int, UUID] = {}
    group_ids: dict[int, UUID] = {}
    job_ids: list[UUID] = []
    with container.sessions() as session:
        sent_events = session.scalar(select(func.count()).select_from(tables.JobEvent))

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
            elif action == "job_events" and job_ids:
                run_id, job_id = str(uuid4()), str(job_ids[-1])
                messages = [
                    (run_id, {"run_id": run_id, "job_id": job_id, "seq": seq, "event_type": "runner_on_ok",
                              "timestamp": "2026-12-04T12:00:00", "payload": {"seq": seq, "event_type": "runner_on_ok",
                              "stdout": f"line {seq}", "event_data": {"host": "web-1"}}})
                    for seq in range(1, argument + 1)
                ]
                container.event_log.append(JOB_EVENTS_TOPIC, messages + messages[:3])
                sent_events += argument
        except DomainError:
            pass  # A rejected command changes nothing; the comparison below covers that too.

    wait_for_job_events(container, sent_events)
    live = snapshot(container.sessions)

    replay_distributed(settings, lambda *_: None, swap=False, target_schema=REPLAY_SCHEMA)
    engine = create_read_model_engine(settings.database_url, schema=REPLAY_SCHEMA)
    try:
        replayed = snapshot(session_factory(engine))
    finally:
        engine.dispose()

    assert replayed == live
