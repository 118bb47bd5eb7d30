"""Messages on the job-event log survive text that UTF-8 cannot carry."""

import orjson

from praetor.infra.event_log import encode_message


def test_lone_surrogate_replaced() -> None:
    encoded = encode_message({"stdout": "bad \udc80 byte", "event_data": {"res": ["\ud800"]}})
    decoded = orjson.loads(encoded)
    assert decoded["stdout"] == "bad \ufffd byte"
    assert decoded["event_data"]["res"] == ["\ufffd"]


def test_plain_text_unchanged() -> None:
    message = {"stdout": "Grüße — 你好 — 🚀", "seq": 3}
    assert orjson.loads(encode_message(message)) == message


def test_big_integer_encoded() -> None:
    decoded = orjson.loads(encode_message({"value": 2**70}))
    assert decoded["value"] == float(2**70)
