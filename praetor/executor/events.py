"""The ansible-runner event handler: numbers each event, spools it and feeds its stdout to the chunker."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.spool import SpoolWriter

logger = logging.getLogger(__name__)


def build_record(seq: int, event: Mapping[str, Any]) -> dict[str, Any]:
    """Build the record that the spool stores and the API receives for one ansible-runner event."""
    return {
        "seq": seq,
        "event_type": event.get("event"),
        "uuid": event.get("uuid"),
        "parent_uuid": event.get("parent_uuid"),
        "counter": event.get("counter"),
        "created": event.get("created"),
        "stdout": event.get("stdout") or "",
        "start_line": event.get("start_line"),
        "end_line": event.get("end_line"),
        "event_data": event.get("event_data") or {},
    }


class EventRecorder:
    """The `event_handler` for ansible-runner, called once per event in the order ansible emits them.

    Each event gets the next `seq`, starting at 1, and is appended to the spool before its stdout
    goes to `on_stdout`. Nothing of the event is kept afterwards. When the spool cannot be written,
    the recorder calls `on_fatal` once and drops the later events, so that seqs stay gap-free.
    """

    def __init__(
        self,
        spool: SpoolWriter,
        log_context: RunLogContext,
        *,
        on_stdout: Callable[[int, str], None],
        on_fatal: Callable[[str], None],
    ) -> None:
        self._spool = spool
        self._log = RunLogAdapter(logger, log_context)
        self._on_stdout = on_stdout
        self._on_fatal = on_fatal
        self.last_seq = 0
        self.failure: str | None = None

    def __call__(self, event: dict[str, Any]) -> bool:
        if self.failure is not None:
            return False

        seq = self.last_seq + 1
        record = build_record(seq, event)
        try:
            self._spool.append(record)
        except (OSError, ValueError) as error:
            self.failure = f"writing event seq {seq} to the spool failed: {error}"
            self._log.error("%s", self.failure)
            self._on_fatal(self.failure)
            return False
        self.last_seq = seq

        self._on_stdout(seq, record["stdout"])

        # Returning False stops ansible-runner from writing its own copy of the event under artifacts/.
        return False
