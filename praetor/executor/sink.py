"""The event sink: where the executor sends its spooled records and stdout chunk announcements.

The HTTP sink is `RunApiClient`, which posts to the run API. In the distributed mode the sink is
`KafkaRunSink`, which publishes to Kafka. Both resend a batch until it is acknowledged, so a
receiver can see a batch more than once, and both raise the exceptions below.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class RetryAborted(Exception):
    """Retrying was stopped from another thread through the abort event."""


class SinkRejectedError(Exception):
    """A batch that the sink rejected in a way that resending cannot fix."""


class EventSink(Protocol):
    def send_events(self, encoded_records: Sequence[bytes], *, abort: threading.Event | None = None) -> None:
        """Send spool lines (JSON-encoded records) until they are acknowledged.

        Raises RetryAborted when `abort` is set before then, and SinkRejectedError when the
        batch cannot be delivered at all.
        """

    def send_log_chunks(self, chunks: list[Mapping[str, Any]], *, abort: threading.Event | None = None) -> None:
        """Announce stdout chunks (`StdoutChunk.announcement` dicts), with the same contract as `send_events`."""
