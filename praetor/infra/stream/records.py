"""A consumed Kafka message, independent of the client library that fetched it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StreamRecord:
    """One message of a topic partition, its value decoded from JSON."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: dict[str, Any]


def position_name(topic: str, partition: int) -> str:
    """Return the `projection_positions` name under which a partition's offset is stored."""
    return f"kafka:{topic}:{partition}"
