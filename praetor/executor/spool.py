"""The run's event spool: an append-only JSON Lines file with one event record per line.

The executor appends each record before sending it, so after an outage a reconciler can replay
the file. Records are gap-free by `seq`, starting at 1.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SPOOL_FILE_NAME = "events.jsonl"


class SpoolCorruptError(Exception):
    """A spool line, other than a torn last line, is not a JSON object."""


def encode_record(record: dict[str, Any]) -> bytes:
    """Encode a record as one UTF-8 JSON line ending in a newline."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    # Lone surrogates cannot be encoded as UTF-8. "backslashreplace" writes them as \udXXX
    # escapes, which is the JSON escape for the same code point, so the line stays valid JSON.
    return text.encode("utf-8", errors="backslashreplace") + b"\n"


class SpoolWriter:
    """Appends records to the spool file and wakes readers that wait for new records.

    `append` runs on the ansible-runner event thread, `sync` and `wait_for_records` on the sender
    thread. A condition variable guards the file and `last_seq`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # "x" so that a second executor for the same run fails instead of appending duplicate seqs.
        self._file = open(path, "xb")  # noqa: SIM115 - closed by close()
        self._condition = threading.Condition()
        self._last_seq = 0
        self._closed = False

    @property
    def last_seq(self) -> int:
        with self._condition:
            return self._last_seq

    @property
    def closed(self) -> bool:
        with self._condition:
            return self._closed

    def append(self, record: dict[str, Any]) -> None:
        """Write one record (its `seq` must be `last_seq + 1`) and flush it to the OS."""
        line = encode_record(record)
        with self._condition:
            if self._closed:
                raise ValueError(f"spool {self.path} is closed")
            if record.get("seq") != self._last_seq + 1:
                raise ValueError(f"spool record seq {record.get('seq')!r} does not follow {self._last_seq}")
            self._file.write(line)
            self._file.flush()
            self._last_seq += 1
            self._condition.notify_all()

    def sync(self) -> None:
        """Flush and fsync the file, so that every record appended so far survives a crash."""
        with self._condition:
            if self._closed:
                return
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._condition:
            if self._closed:
                return
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._closed = True
            self._condition.notify_all()

    def wait_for_records(self, after_seq: int, count: int, timeout: float | None) -> int:
        """Block until `count` records follow `after_seq`, the spool closes, or `timeout` passes, and return `last_seq`."""
        with self._condition:
            self._condition.wait_for(lambda: self._last_seq - after_seq >= count or self._closed, timeout=timeout)
            return self._last_seq


class SpoolTail:
    """Reads complete lines of a spool file that another thread appends to, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()

    def read_lines(self, max_lines: int) -> list[bytes]:
        """Return up to `max_lines` complete lines (each ending in a newline) not read before."""
        lines: list[bytes] = []
        while len(lines) < max_lines:
            position = self._file.tell()
            line = self._file.readline()
            if not line:
                break
            if not line.endswith(b"\n"):
                # The writer has not finished this line, so read it whole next time.
                self._file.seek(position)
                break
            lines.append(line)
        return lines

    def close(self) -> None:
        self._file.close()


def read_spool(path: Path | str) -> Iterator[dict[str, Any]]:
    """Yield the records of a spool file in order.

    A last line without a newline is what a crash during a write leaves behind, so it is skipped
    with a warning. Any other line that is not a JSON object raises SpoolCorruptError.
    """
    with open(path, "rb") as spool:
        for line_number, line in enumerate(spool, start=1):
            if not line.endswith(b"\n"):
                logger.warning("skipping incomplete last line %d of spool %s", line_number, path)
                return
            try:
                record = json.loads(line)
            except ValueError as error:
                raise SpoolCorruptError(f"line {line_number} of spool {path} is not valid JSON: {error}") from error
            if not isinstance(record, dict):
                raise SpoolCorruptError(f"line {line_number} of spool {path} is not a JSON object")
            yield record
