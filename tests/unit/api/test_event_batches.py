"""Event batches from executors: accepted as sent, or rejected naming the bad field."""

import json

import orjson
import pytest

from praetor.api.errors import ApiError
from praetor.api.event_batches import parse_event_batch


def test_records_kept_whole() -> None:
    record = {"seq": 1, "event_type": "runner_on_ok", "stdout": "ok", "event_data": {"host": "web-1"}, "uuid": "u-1"}
    assert parse_event_batch(orjson.dumps({"events": [record]})) == [record]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(b"not json", "body", id="invalid-json"),
        pytest.param(b"{}", "events", id="missing-events"),
        pytest.param(b'{"events": [3]}', "events[0]", id="record-not-object"),
        pytest.param(b'{"events": [{"event_type": "x"}]}', "events[0].seq", id="missing-seq"),
        pytest.param(b'{"events": [{"seq": 0, "event_type": "x"}]}', "events[0].seq", id="seq-zero"),
        pytest.param(b'{"events": [{"seq": true, "event_type": "x"}]}', "events[0].seq", id="seq-boolean"),
        pytest.param(b'{"events": [{"seq": 1}]}', "events[0].event_type", id="missing-event-type"),
        pytest.param(b'{"events": [{"seq": 1, "event_type": "x", "stdout": 5}]}', "events[0].stdout", id="stdout-number"),
        pytest.param(b'{"events": [{"seq": 1, "event_type": "x", "event_data": []}]}', "events[0].event_data", id="event-data-list"),
    ],
)
def test_bad_batches_name_field(body: bytes, field: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_event_batch(body)
    assert raised.value.status == 422
    assert raised.value.detail.startswith(field)


def test_big_integers_exact() -> None:
    record = {"seq": 1, "event_type": "runner_on_ok", "event_data": {"res": {"msg": 2**70 + 1}}}
    body = json.dumps({"events": [record]}).encode()
    assert parse_event_batch(body) == [record]


def test_bad_time_rejected() -> None:
    body = b'{"events": [{"seq": 1, "event_type": "x", "created": "yesterday"}]}'
    with pytest.raises(ApiError) as raised:
        parse_event_batch(body)
    assert raised.value.detail.startswith("events[0].created")
