"""The job-event log: an append-only, offset-numbered log per topic.

`EventLog` is the port: Kafka in distributed mode, and `SqliteEventLog` here for the
embedded mode, a table in its own SQLite file whose row ids are the offsets. Appends are
serialised by SQLite's write lock, so offsets grow in commit order and a reader that has
seen offset N has seen everything before it.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

JOB_EVENTS_TOPIC = "praetor.job-events"
LOG_CHUNKS_TOPIC = "praetor.log-chunks"


class EventLog(ABC):
    @abstractmethod
    def append(self, topic: str, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Append `(key, value)` messages to `topic` durably, in order."""

    @abstractmethod
    def read(self, topic: str, after_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Return up to `limit` `(offset, value)` pairs of `topic` after `after_offset`, in order."""

    def close(self) -> None:
        """Release connections; appends after this fail."""


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class EncodedMessage:
    """A message as JSON bytes, with `exact` set when readers must decode it with the json module.

    orjson reads integers beyond 64 bits as floats, so messages that hold one are marked and
    read with the json module, which keeps them exact.
    """

    data: bytes
    exact: bool = False


def encode_message(value: dict[str, Any]) -> EncodedMessage:
    """Encode a message as UTF-8 JSON; lone surrogates, which UTF-8 cannot carry, become U+FFFD."""
    try:
        return EncodedMessage(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return EncodedMessage(json.dumps(_replace_surrogates(value), ensure_ascii=False).encode(), exact=True)


def decode_message(data: bytes, exact: bool) -> dict[str, Any]:
    return json.loads(data) if exact else orjson.loads(data)


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(key): _replace_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    return value


class SqliteEventLog(EventLog):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS log_records ("
                " offset INTEGER PRIMARY KEY AUTOINCREMENT,"
                " topic TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
                " exact INTEGER NOT NULL DEFAULT 0)"
            )
            connection.execute("CREATE INDEX IF NOT EXISTS ix_log_records_topic ON log_records (topic, offset)")
            columns = {row[1] for row in connection.execute("PRAGMA table_info(log_records)")}
            if "exact" not in columns:
                # Logs written before the column existed hold only messages orjson reads exactly.
                connection.execute("ALTER TABLE log_records ADD COLUMN exact INTEGER NOT NULL DEFAULT 0")

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    def append(self, topic: str, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if not messages:
            return
        rows = []
        for key, value in messages:
            encoded = encode_message(value)
            rows.append((topic, key, encoded.data, int(encoded.exact)))
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany("INSERT INTO log_records (topic, key, value, exact) VALUES (?, ?, ?, ?)", rows)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def read(self, topic: str, after_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        cursor = self._connection().execute(
            "SELECT offset, value, exact FROM log_records WHERE topic = ? AND offset > ? ORDER BY offset LIMIT ?",
            (topic, after_offset, limit),
        )
        return [(offset, decode_message(value, bool(exact))) for offset, value, exact in cursor]

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
