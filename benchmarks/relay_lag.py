"""Relay lag under load, and replay speed of the domain read models.

The script launches jobs through the command bus at `--rate` launches per second for
`--seconds` seconds against a fresh PostgreSQL event store, with `praetor relay` running in a
thread. A Kafka consumer on `praetor.domain-events` measures each event's lag: the time it
arrived minus the time the event was recorded. Afterwards it replays every domain event into
a fresh schema and reports events per second.

Needs the services of `scripts/test.sh` (PRAETOR_TEST_PG_DSN, PRAETOR_TEST_KAFKA_BOOTSTRAP).
Run: `.venv/bin/python benchmarks/relay_lag.py --rate 200 --seconds 20`.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import orjson
import psycopg
from kafka import KafkaConsumer

from praetor.commands.inventories import AddHost, CreateInventory
from praetor.commands.job_templates import CreateJobTemplate
from praetor.commands.jobs import LaunchJob
from praetor.commands.organizations import CreateOrganization
from praetor.commands.projects import CreateProject
from praetor.infra.bootstrap import build_container
from praetor.infra.relay import run_relay
from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.replay import replay_domain_events
from praetor.infra.settings import Settings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="Job launches per second.")
    parser.add_argument("--seconds", type=float, default=20.0, help="How long to keep launching.")
    arguments = parser.parse_args()
    admin_dsn = os.environ["PRAETOR_TEST_PG_DSN"]
    brokers = os.environ["PRAETOR_TEST_KAFKA_BOOTSTRAP"]

    suffix = secrets.token_hex(4)
    database = f"praetor_lag_{suffix}"
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory() as home:
            settings = Settings(
                mode="distributed", home=Path(home), database_url=admin_dsn.rsplit("/", 1)[0] + f"/{database}",
                kafka_bootstrap_servers=brokers, kafka_topic_prefix=f"lag-{suffix}.",
            )
            container = build_container(settings)
            template_id = set_up(container, settings)
            relay = run_relay(container.app, settings.database_url, brokers, topic_prefix=settings.kafka_topic_prefix)

            lags: list[float] = []
            stop_consuming = threading.Event()
            consumer_thread = threading.Thread(target=consume, args=(brokers, settings.kafka_topic_prefix + "praetor.domain-events", lags, stop_consuming))
            consumer_thread.start()

            launched, launch_seconds = launch_at_rate(container, template_id, arguments.rate, arguments.seconds)
            deadline = time.monotonic() + 60
            while len(lags) < launched and time.monotonic() < deadline:
                time.sleep(0.2)
            stop_consuming.set()
            consumer_thread.join()
            relay.stop()

            engine = create_read_model_engine(settings.database_url, schema="praetor_read_bench")
            migrate(engine)
            started = time.perf_counter()
            events = replay_domain_events(container.app, session_factory(engine), lambda *_: None)
            replay_seconds = time.perf_counter() - started
            engine.dispose()
            container.stop()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}")
    print(f"Launched {launched} jobs in {launch_seconds:.1f} s ({launched / launch_seconds:.0f} launches/s, asked {arguments.rate:.0f})")
    print(f"Relay lag over {len(lags)} events: p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p95 {percentile(lags, 0.95) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
    print(f"Replay of {events} domain events into fresh tables: {events / replay_seconds:,.0f} events/s ({replay_seconds:.1f} s)")


def set_up(container, settings) -> object:
    bus = container.bus
    organization_id = bus.handle(CreateOrganization(name="bench"), wait=False)
    project_dir = settings.resolved_projects_root / "site"
    project_dir.mkdir(parents=True)
    (project_dir / "site.yml").write_text("- hosts: all\n  tasks: []\n")
    project_id = bus.handle(CreateProject(name="site", organization_id=organization_id, scm_type="local", local_path="site"), wait=False)
    inventory_id = bus.handle(CreateInventory(name="bench", organization_id=organization_id), wait=False)
    bus.handle(AddHost(inventory_id=inventory_id, name="web-1"), wait=False)
    return bus.handle(CreateJobTemplate(name="t", project_id=project_id, inventory_id=inventory_id, playbook="site.yml"), wait=False)


def launch_at_rate(container, template_id, rate: float, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    launched = 0
    while time.monotonic() - started < seconds:
        due = int((time.monotonic() - started) * rate)
        while launched < due:
            container.bus.handle(LaunchJob(job_template_id=template_id, launched_by="bench"), wait=False)
            launched += 1
        time.sleep(0.001)
    return launched, time.monotonic() - started


def consume(brokers: str, topic: str, lags: list[float], stop: threading.Event) -> None:
    consumer = KafkaConsumer(topic, bootstrap_servers=brokers, group_id=None, auto_offset_reset="earliest")
    try:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                arrived = time.time()
                for record in records:
                    value = orjson.loads(record.value)
                    if value["topic"].endswith("Job.Launched"):
                        recorded = datetime.fromisoformat(value["timestamp"].replace("Z", "+00:00")).timestamp()
                        lags.append(arrived - recorded)
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
