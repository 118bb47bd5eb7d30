"""The relay publishes the notification log to Kafka in order, once active, and resumes."""

from __future__ import annotations

import json
import threading
import time
from uuid import uuid4

from kafka import KafkaConsumer

from praetor.domain.job import Job
from praetor.domain.organization import Organization
from praetor.infra.event_store import open_postgres_event_store
from praetor.infra.relay import Relay
from praetor.infra.stream.topics import DOMAIN_EVENTS_TOPIC, RUN_STATE_TOPIC


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=2000)
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            for message in consumer:
                messages.append(message)
    finally:
        consumer.close()
    return messages


def run_in_thread(relay: Relay) -> threading.Thread:
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    return thread


def wait_for_position(relay: Relay, position: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while relay.position < position:
        if time.monotonic() > deadline:
            raise TimeoutError(f"relay reached {relay.position}, not {position}")
        time.sleep(0.05)


def new_job() -> Job:
    return Job(
        name="deploy", job_template_id=uuid4(), organization_id=uuid4(), project_id=uuid4(), inventory_id=uuid4(),
        playbook="site.yml", extra_vars={}, limit="", forks=5, verbosity=0, timeout_seconds=0, launched_by="admin", relaunch_of=None,
    )


def test_relay_publishes_in_order(services) -> None:
    app = open_postgres_event_store(services.database_url)
    organizations = [Organization(name=f"org-{index}", description="") for index in range(5)]
    for organization in organizations:
        app.save(organization)
    organizations[0].update({"name": "renamed"})
    app.save(organizations[0])
    job = new_job()
    job.schedule_run(uuid4(), "default")
    app.save(job)

    relay = Relay(app, services.database_url, services.kafka_bootstrap, topic_prefix=services.topic_prefix)
    thread = run_in_thread(relay)
    try:
        wait_for_position(relay, app.recorder.max_notification_id())
    finally:
        relay.stop()
        thread.join(timeout=30)

    messages = read_topic(services.kafka_bootstrap, services.topic_prefix + DOMAIN_EVENTS_TOPIC, 8)
    values = [json.loads(message.value) for message in messages]
    assert len(values) == 8
    first_org = [value for value in values if value["aggregate_id"] == str(organizations[0].id)]
    assert [value["aggregate_version"] for value in first_org] == [1, 2]
    assert {message.key.decode() for message in messages} == {value["aggregate_id"] for value in values}
    run_states = read_topic(services.kafka_bootstrap, services.topic_prefix + RUN_STATE_TOPIC, 1)
    assert [json.loads(message.value)["state"] for message in run_states] == ["pending"]


def test_restarted_relay_skips_nothing(services) -> None:
    app = open_postgres_event_store(services.database_url)
    for index in range(3):
        app.save(Organization(name=f"before-{index}", description=""))
    relay = Relay(app, services.database_url, services.kafka_bootstrap, topic_prefix=services.topic_prefix)
    thread = run_in_thread(relay)
    wait_for_position(relay, app.recorder.max_notification_id())
    relay.stop()
    thread.join(timeout=30)

    for index in range(4):
        app.save(Organization(name=f"after-{index}", description=""))
    restarted = Relay(app, services.database_url, services.kafka_bootstrap, topic_prefix=services.topic_prefix)
    thread = run_in_thread(restarted)
    try:
        wait_for_position(restarted, app.recorder.max_notification_id())
    finally:
        restarted.stop()
        thread.join(timeout=30)

    messages = read_topic(services.kafka_bootstrap, services.topic_prefix + DOMAIN_EVENTS_TOPIC, 7)
    notification_ids = sorted(json.loads(message.value)["notification_id"] for message in messages)
    assert len(set(notification_ids)) == 7
    assert len(notification_ids) == 7


def test_second_relay_waits_for_lock(services) -> None:
    app = open_postgres_event_store(services.database_url)
    active = Relay(app, services.database_url, services.kafka_bootstrap, topic_prefix=services.topic_prefix)
    standby = Relay(app, services.database_url, services.kafka_bootstrap, topic_prefix=services.topic_prefix)
    active_thread = run_in_thread(active)
    time.sleep(1.0)
    standby_thread = run_in_thread(standby)
    try:
        app.save(Organization(name="first", description=""))
        wait_for_position(active, app.recorder.max_notification_id())
        time.sleep(1.0)
        assert standby.position == 0

        active.stop()
        active_thread.join(timeout=30)
        app.save(Organization(name="second", description=""))
        wait_for_position(standby, app.recorder.max_notification_id())
    finally:
        active.stop()
        standby.stop()
        standby_thread.join(timeout=30)
    assert standby.position == app.recorder.max_notification_id()
