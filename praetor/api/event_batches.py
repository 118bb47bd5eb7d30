"""Parsing the executor's event batches without a model class per event.

Ingestion is the hottest path of the API. A pydantic model per event costs more than the
rest of the append together, so a batch is decoded with orjson and only the fields that the
log and the read models rely on are checked. Every other field of a record is kept as sent.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import orjson

from praetor.api.errors import ApiError

MAX_BATCH_EVENTS = 10_000
LONG_DIGIT_RUN = re.compile(rb"\d{19}")


def parse_event_batch(raw: bytes) -> list[dict[str, Any]]:
    """Return the records of a `{"events": [...]}` body, or raise a 422 naming the bad field."""
    # orjson reads integers beyond 64 bits as floats. A body that may contain one (19 or more
    # digits in a row, possibly inside a string) is read with the json module instead.
    decode = json.loads if LONG_DIGIT_RUN.search(raw) else orjson.loads
    try:
        body = decode(raw)
    except ValueError as error:
        raise ApiError(422, f"body: invalid JSON ({error}); send {{\"events\": [...]}}") from error
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise ApiError(422, "events: field required; send {\"events\": [records]}")
    records = body["events"]
    if len(records) > MAX_BATCH_EVENTS:
        raise ApiError(422, f"events: {len(records)} records in one batch; send at most {MAX_BATCH_EVENTS}")

    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ApiError(422, f"events[{index}]: must be an object")
        seq = record.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ApiError(422, f"events[{index}].seq: {seq!r} is not an integer of at least 1")
        event_type = record.get("event_type")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
            raise ApiError(422, f"events[{index}].event_type: {event_type!r} is not a name of 1 to 100 characters")
        if not isinstance(record.get("stdout", ""), str):
            raise ApiError(422, f"events[{index}].stdout: must be a string")
        if not isinstance(record.get("event_data", {}), dict):
            raise ApiError(422, f"events[{index}].event_data: must be an object")
        created = record.get("created")
        if created is not None and not _is_iso_time(created):
            raise ApiError(422, f"events[{index}].created: {created!r} is not an ISO 8601 time; send one or null")
    return records


def _is_iso_time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
