"""Messages on the job-event log survive text that UTF-8 cannot carry."""

from praetor.infra.event_log import decode_message, encode_message


def round_trip(message: dict) -> dict:
    encoded = encode_message(message)
    return decode_message(encoded.data, encoded.exact)


def test_lone_surrogate_replaced() -> None:
    decoded = round_trip({"stdout": "bad \udc80 byte", "event_data": {"res": ["\ud800"]}})
    assert decoded["stdout"] == "bad \ufffd byte"
    assert decoded["event_data"]["res"] == ["\ufffd"]


def test_plain_text_unchanged() -> None:
    message = {"stdout": "Grüße — 你好 — 🚀", "seq": 3}
    assert round_trip(message) == message


def test_big_integer_exact() -> None:
    assert round_trip({"value": 2**70 + 1}) == {"value": 2**70 + 1}
