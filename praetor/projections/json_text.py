"""JSON text for read-model columns: orjson where it can encode the value, the json module otherwise."""

from __future__ import annotations

import json
from typing import Any

import orjson


NUL = "\x00"
REPLACEMENT = "\ufffd"


def replace_nul(value: Any) -> Any:
    """Return `value` with every NUL character in its strings replaced by U+FFFD.

    PostgreSQL stores no NUL character in text or JSONB, so text from Ansible that contains
    one is stored with the replacement character instead.
    """
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {replace_nul(key): replace_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_nul(item) for item in value]
    return value


def dump_jsonb(value: Any) -> str:
    """Encode `value` as JSON text that PostgreSQL's JSONB accepts (no escaped NUL)."""
    text = dump_json(value)
    if "\\u0000" in text:
        text = dump_json(replace_nul(value))
    return text


def dump_json(value: Any) -> str:
    """Encode `value` as JSON text; integers beyond 64 bits and lone surrogates use the json module."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)
