"""Notifications become the messages of docs/events.md, and domain-event messages become events again."""

from __future__ import annotations

import json
import zlib
from uuid import UUID

import pytest
from eventsourcing.persistence import Notification
from stream_support import build_domain_history

from praetor.domain.job import Job
from praetor.infra.event_log import encode_message
from praetor.infra.stream.messages import decode_value, domain_event_message, run_state_message, stored_event
from praetor.infra.stream.processor import MAPPER_ENV
from praetor.infra.event_store import PraetorApplication


def test_domain_event_message_fields() -> None:
    history = build_domain_history()
    notification = history.app.recorder.select_notifications(start=1, limit=1)[0]

    key, value = domain_event_message(notification)

    assert key == str(history.organization.id)
    assert set(value) == {"notification_id", "aggregate_id", "aggregate_version", "topic", "timestamp", "state"}
    assert value["notification_id"] == notification.id
    assert value["aggregate_id"] == str(history.organization.id)
    assert value["aggregate_version"] == 1
    assert value["topic"] == "praetor.domain.organization:Organization.Created"
    assert value["timestamp"].endswith("Z")
    assert value["state"]["name"] == "ops"
    assert value["state"]["timestamp"]["_type_"] == "datetime_iso"


def test_domain_event_round_trip() -> None:
    history = build_domain_history()
    mapper = PraetorApplication(env=MAPPER_ENV).mapper

    for notification in history.app.recorder.select_notifications(start=1, limit=100):
        _key, value = domain_event_message(notification)
        # The message travels as encoded bytes and is decoded by the worker.
        decoded = decode_value(encode_message(value).data)

        rebuilt = mapper.to_domain_event(stored_event(decoded))
        original = history.app.mapper.to_domain_event(notification)
        assert type(rebuilt) is type(original)
        assert rebuilt.__dict__ == original.__dict__


def test_large_integer_stays_exact() -> None:
    history = build_domain_history()
    launched = next(
        domain_event_message(notification)[1]
        for notification in history.app.recorder.select_notifications(start=1, limit=100)
        if notification.topic.endswith("Job.Launched")
    )

    decoded = decode_value(encode_message(launched).data)

    assert decoded["state"]["extra_vars"]["big"] == 2**70
    assert isinstance(decoded["state"]["extra_vars"]["big"], int)


@pytest.mark.parametrize("number", [2**64, 2**70, -(2**63) - 1, 10**30, 9_223_372_036_854_775_807])
def test_decode_value_keeps_integers(number: int) -> None:
    assert decode_value(json.dumps({"n": number, "list": [number]}).encode()) == {"n": number, "list": [number]}


def test_decode_value_rejects_non_objects() -> None:
    with pytest.raises(ValueError, match="JSON list, not an object"):
        decode_value(b"[1, 2]")
    with pytest.raises(ValueError):
        decode_value(b"{not json")
    with pytest.raises(ValueError, match="no value"):
        decode_value(None)


def test_compressed_state_rejected() -> None:
    notification = Notification(
        id=7, originator_id=UUID(int=1), originator_version=1, topic="praetor.domain.organization:Organization.Created",
        state=zlib.compress(b'{"name": "ops"}'),
    )

    with pytest.raises(ValueError, match="notification 7 .* is not JSON"):
        domain_event_message(notification)


def run_events(history) -> list[tuple[Notification, object]]:
    pairs = []
    for notification in history.app.recorder.select_notifications(start=1, limit=100):
        if notification.originator_id == history.job.id:
            pairs.append((notification, history.app.mapper.to_domain_event(notification)))
    return pairs


def test_run_state_messages_follow_the_run() -> None:
    history = build_domain_history()

    messages = [run_state_message(notification, event) for notification, event in run_events(history)]

    launched, scheduled, started, finished = messages
    assert launched is None
    run_id, job_id = str(history.run_id), str(history.job.id)
    assert scheduled == (
        run_id,
        {
            "run_id": run_id, "job_id": job_id, "state": "pending", "attempt_number": 1, "exit_code": None,
            "error_reason": None, "timestamp": scheduled[1]["timestamp"], "notification_id": scheduled[1]["notification_id"],
        },
    )
    assert started[1]["state"] == "running"
    assert started[1]["attempt_number"] is None
    assert finished[1]["state"] == "successful"
    assert finished[1]["exit_code"] == 0
    assert finished[1]["timestamp"].endswith("Z")
    assert [message[1]["notification_id"] for message in (scheduled, started, finished)] == sorted(
        message[1]["notification_id"] for message in (scheduled, started, finished)
    )


def test_run_state_message_none_for_canceled_job() -> None:
    history = build_domain_history()
    job = Job(**history.job.launch_parameters, launched_by="admin", relaunch_of=None)
    job.cancel()
    history.app.save(job)
    notification = history.app.recorder.select_notifications(start=1, limit=1000)[-1]
    event = history.app.mapper.to_domain_event(notification)

    assert type(event).__name__ == "Canceled"
    assert run_state_message(notification, event) is None
