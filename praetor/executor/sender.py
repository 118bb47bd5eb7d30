"""The event sender: a thread that reads the spool and sends its records to the event sink in batches.

The sink is the run API, or Kafka in the distributed mode. The sender reads records back from the
spool file instead of holding them in memory, so a slow or unreachable sink makes the spool grow
on disk instead of blocking ansible's event handler.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from praetor.executor.api import ApiUnavailableError, RunApiError
from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.sink import EventSink, RetryAborted, SinkRejectedError
from praetor.executor.spool import SpoolTail, SpoolWriter

logger = logging.getLogger(__name__)

MAX_BATCH_RECORDS = 500
MAX_BATCH_DELAY_SECONDS = 0.1


class EventSender:
    """Sends spooled records in seq order, up to `max_batch_records` per batch.

    A batch goes out when it is full or `max_batch_delay` seconds after its first record was
    spooled. The sink resends a failed batch until it is acknowledged. Only a rejection that
    resending cannot fix (from the API, a 4xx other than 409 and 429) stops the sender, and then
    it calls `on_fatal` with the error reason.
    """

    def __init__(
        self,
        sink: EventSink,
        spool: SpoolWriter,
        log_context: RunLogContext,
        *,
        on_fatal: Callable[[str], None],
        max_batch_records: int = MAX_BATCH_RECORDS,
        max_batch_delay: float = MAX_BATCH_DELAY_SECONDS,
    ) -> None:
        self._sink = sink
        self._spool = spool
        self._tail = SpoolTail(spool.path)
        self._log = RunLogAdapter(logger, log_context)
        self._on_fatal = on_fatal
        self._max_batch_records = max_batch_records
        self._max_batch_delay = max_batch_delay
        self._abort = threading.Event()
        self._acked_lock = threading.Lock()
        self._acked_seq = 0
        self._batches_sent = 0
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name="praetor-event-sender", daemon=True)

    @property
    def acked_seq(self) -> int:
        """Highest seq that the sink has acknowledged. Every lower seq was acknowledged before it."""
        with self._acked_lock:
            return self._acked_seq

    @property
    def batches_sent(self) -> int:
        with self._acked_lock:
            return self._batches_sent

    def start(self) -> None:
        self._thread.start()

    def drain(self, timeout: float) -> bool:
        """Wait until every record of the closed spool is acknowledged. Return False on timeout or failure.

        The spool must be closed first, because the sender stops when the closed spool is empty.
        On timeout the sender's retries are aborted, and the records it did not send stay in the spool.
        """
        self._thread.join(timeout)
        if self._thread.is_alive():
            unsent = self._spool.last_seq - self.acked_seq
            self._log.error("event sender did not drain within %.0f s; %d records stay unsent in the spool", timeout, unsent)
            self._abort.set()
            self._thread.join(5.0)
            return False
        return self.failure is None and self.acked_seq == self._spool.last_seq

    def abort(self) -> None:
        self._abort.set()

    def _run(self) -> None:
        self._log.info("event sender started")
        try:
            self._send_until_closed()
        except RetryAborted:
            self._log.warning("event sender aborted at seq %d", self.acked_seq)
        except RunApiError as error:
            self.failure = f"the API rejected events: HTTP {error.status_code}: {error.body}"
            self._on_fatal(self.failure)
        except SinkRejectedError as error:
            self.failure = f"the event sink rejected events: {error}"
            self._on_fatal(self.failure)
        except (ApiUnavailableError, OSError, ValueError) as error:
            self.failure = f"event sender failed: {error}"
            self._log.exception("event sender failed at seq %d", self.acked_seq)
            self._on_fatal(self.failure)
        finally:
            self._tail.close()
        self._log.info("event sender stopped at seq %d after %d batches", self.acked_seq, self.batches_sent)

    def _send_until_closed(self) -> None:
        while not self._abort.is_set():
            sent_seq = self.acked_seq
            last_seq = self._spool.wait_for_records(sent_seq, 1, timeout=0.5)
            if last_seq == sent_seq:
                if self._spool.closed:
                    return
                continue

            # Give the batch time to fill, unless it is full already or the spool is closed.
            self._spool.wait_for_records(sent_seq, self._max_batch_records, timeout=self._max_batch_delay)
            lines = self._tail.read_lines(self._max_batch_records)
            if not lines:
                # The writer flushes a line before counting it, so this is a short read. Try again.
                time.sleep(0.01)
                continue

            batch_last_seq = json.loads(lines[-1])["seq"]
            if batch_last_seq != sent_seq + len(lines):
                raise ValueError(f"spool lines end at seq {batch_last_seq}, expected {sent_seq + len(lines)}")

            self._spool.sync()
            self._sink.send_events(lines, abort=self._abort)
            with self._acked_lock:
                self._acked_seq = batch_last_seq
                self._batches_sent += 1
