"""Conversions between event-store notifications and the Kafka messages of docs/events.md.

The relay turns each notification into a `praetor.domain-events` message, and each run event
of a job also into a `praetor.run-state` message. The stream worker turns a domain-event
message back into the stored event it came from. Values are encoded with
`praetor.infra.event_log.encode_message` and decoded with `decode_value` below.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification, StoredEvent

from praetor.domain.job import Job

# orjson (3.13 checked) reads integers beyond 64 bits as floats. Any integer of 19 or
# more digits may be one, so a value that contains such a digit run is read with the json
# module, which keeps integers exact.
LONG_DIGIT_RUN = re.compile(rb"\d{19,}")


def decode_value(data: bytes | None) -> dict[str, Any]:
    """Decode a message value, which must be a UTF-8 JSON object, or raise ValueError."""
    if data is None:
        raise ValueError("message has no value")
    value = json.loads(data) if LONG_DIGIT_RUN.search(data) else orjson.loads(data)
    if not isinstance(value, dict):
        raise ValueError(f"message value is a JSON {type(value).__name__}, not an object")
    return value


def domain_event_message(notification: Notification) -> tuple[str, dict[str, Any]]:
    """Return the `praetor.domain-events` key and value of a stored notification.

    The state must be the eventsourcing library's plain JSON, so the relay's event store
    must not compress or encrypt events.
    """
    try:
        state = json.loads(notification.state)
    except ValueError as error:
        raise ValueError(
            f"state of notification {notification.id} ({notification.topic}) is not JSON; "
            "the relay needs an event store without compression or encryption"
        ) from error

    value = {
        "notification_id": notification.id,
        "aggregate_id": str(notification.originator_id),
        "aggregate_version": notification.originator_version,
        "topic": notification.topic,
        "timestamp": _state_timestamp(state),
        "state": state,
    }
    return str(notification.originator_id), value


def stored_event(value: dict[str, Any]) -> StoredEvent:
    """Rebuild the stored event that a `praetor.domain-events` message value was made from."""
    return StoredEvent(
        originator_id=UUID(value["aggregate_id"]),
        originator_version=value["aggregate_version"],
        topic=value["topic"],
        state=json.dumps(value["state"]).encode(),
    )


def run_state_message(notification: Notification, event: Any) -> tuple[str, dict[str, Any]] | None:
    """Return the `praetor.run-state` key and value for a run event of a job, else None.

    `event` is the domain event of `notification`. Job.Canceled returns None: the job
    aggregate cancels at once only a job that has no run yet, and a job with a run is
    canceled through that run's RunFinished with the state `canceled`. RunStarted and
    RunFinished do not carry the attempt number, so their messages have `attempt_number`
    null.
    """
    if isinstance(event, Job.RunScheduled):
        state, attempt_number, exit_code, error_reason = "pending", event.attempt_number, None, None
    elif isinstance(event, Job.RunStarted):
        state, attempt_number, exit_code, error_reason = "running", None, None, None
    elif isinstance(event, Job.RunFinished):
        state, attempt_number, exit_code, error_reason = str(event.state), None, event.exit_code, event.error_reason
    else:
        return None

    value = {
        "run_id": str(event.run_id),
        "job_id": str(event.originator_id),
        "state": state,
        "attempt_number": attempt_number,
        "exit_code": exit_code,
        "error_reason": error_reason,
        "timestamp": _utc_text(event.timestamp),
        "notification_id": notification.id,
    }
    return str(event.run_id), value


def _state_timestamp(state: dict[str, Any]) -> str | None:
    # The library stores the event time as {"_type_": "datetime_iso", "_data_": "<ISO 8601>"}.
    timestamp = state.get("timestamp")
    if not isinstance(timestamp, dict) or timestamp.get("_type_") != "datetime_iso":
        return None
    return _utc_text(datetime.fromisoformat(timestamp["_data_"]))


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
