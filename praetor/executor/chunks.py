"""Stdout chunks: the run's console text, cut into objects in the object store.

Each event's stdout, followed by a newline when it is not empty, is appended to the open chunk.
A chunk is sealed once it contains `max_bytes` or more, or `max_age_seconds` after its first text.
An event's stdout is never split across chunks, so a chunk is larger than `max_bytes` when one
event's stdout crosses the limit. Chunks are written to the store first and announced to the event
sink (the API, or Kafka) after, so an announced chunk can always be read.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from praetor.executor.api import ApiUnavailableError, RunApiError
from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.retry import Backoff
from praetor.executor.sink import EventSink, RetryAborted, SinkRejectedError
from praetor.infra.object_store import ObjectStore

logger = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 64 * 1024
MAX_CHUNK_AGE_SECONDS = 1.0

# NOTE: when this many sealed chunks wait for the store or the sink, the event handler blocks,
# which pauses ansible's output until the outage ends.
MAX_PENDING_CHUNKS = 64


def chunk_object_key(run_id: str, index: int) -> str:
    return f"runs/{run_id}/stdout/{index:08d}.log"


@dataclass(frozen=True)
class StdoutChunk:
    index: int
    first_seq: int
    last_seq: int
    byte_offset: int
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def announcement(self, run_id: str) -> dict[str, Any]:
        return {
            "index": self.index,
            "object_key": chunk_object_key(run_id, self.index),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "byte_offset": self.byte_offset,
            "size": self.size,
        }


class StdoutChunker:
    """Cuts event stdout into chunks. Thread-safe, and does no I/O."""

    def __init__(
        self,
        *,
        max_bytes: int = MAX_CHUNK_BYTES,
        max_age_seconds: float = MAX_CHUNK_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_bytes = max_bytes
        self._max_age_seconds = max_age_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._parts: list[bytes] = []
        self._size = 0
        self._started_at = 0.0
        self._first_seq = 0
        self._last_seq = 0
        self._next_index = 0
        self._byte_offset = 0

    @property
    def chunk_count(self) -> int:
        """Number of chunks sealed so far."""
        with self._lock:
            return self._next_index

    @property
    def total_bytes(self) -> int:
        """Bytes in all sealed chunks."""
        with self._lock:
            return self._byte_offset

    def add(self, seq: int, stdout: str) -> StdoutChunk | None:
        """Append one event's stdout, and return the chunk it sealed if the chunk reached `max_bytes`."""
        if not stdout:
            return None
        # pexpect decodes ansible's output with errors="replace", so the text has no lone
        # surrogates. Here "replace" only guards against a malformed event.
        data = (stdout + "\n").encode("utf-8", errors="replace")

        with self._lock:
            if not self._parts:
                self._started_at = self._clock()
                self._first_seq = seq
            self._parts.append(data)
            self._size += len(data)
            self._last_seq = seq
            if self._size >= self._max_bytes:
                return self._seal_locked()
            return None

    def seal_if_due(self) -> StdoutChunk | None:
        """Seal the open chunk if it is `max_age_seconds` old."""
        with self._lock:
            if self._parts and self._clock() - self._started_at >= self._max_age_seconds:
                return self._seal_locked()
            return None

    def seal(self) -> StdoutChunk | None:
        """Seal the open chunk, if it has any text."""
        with self._lock:
            if not self._parts:
                return None
            return self._seal_locked()

    def _seal_locked(self) -> StdoutChunk:
        chunk = StdoutChunk(
            index=self._next_index,
            first_seq=self._first_seq,
            last_seq=self._last_seq,
            byte_offset=self._byte_offset,
            data=b"".join(self._parts),
        )
        self._next_index += 1
        self._byte_offset += chunk.size
        self._parts = []
        self._size = 0
        return chunk


class ChunkPublisher:
    """Thread that writes sealed chunks to the object store and announces them to the event sink.

    Store writes and announcements are retried until they succeed. Only an announcement that the
    sink rejects in a way that resending cannot fix (from the API, a 4xx other than 409 and 429)
    stops the publisher, and then `on_fatal` is called with the error reason.
    """

    def __init__(
        self,
        sink: EventSink,
        store: ObjectStore,
        run_id: str,
        log_context: RunLogContext,
        *,
        on_fatal: Callable[[str], None],
        chunker: StdoutChunker | None = None,
        backoff: Backoff | None = None,
        max_pending_chunks: int = MAX_PENDING_CHUNKS,
    ) -> None:
        self._sink = sink
        self._store = store
        self._run_id = run_id
        self._log = RunLogAdapter(logger, log_context)
        self._on_fatal = on_fatal
        self._chunker = chunker or StdoutChunker()
        self._backoff = backoff or Backoff()
        self._sealed: queue.Queue[StdoutChunk] = queue.Queue(maxsize=max_pending_chunks)
        self._closing = threading.Event()
        self._abort = threading.Event()
        self._count_lock = threading.Lock()
        self._announced_count = 0
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name="praetor-chunk-publisher", daemon=True)

    @property
    def announced_count(self) -> int:
        """Number of chunks that the sink acknowledged, which are indexes 0 to announced_count - 1."""
        with self._count_lock:
            return self._announced_count

    def start(self) -> None:
        self._thread.start()

    def add(self, seq: int, stdout: str) -> None:
        """Append one event's stdout. Called on the event thread."""
        if self.failure is not None:
            return
        chunk = self._chunker.add(seq, stdout)
        if chunk is None:
            return
        while self.failure is None and not self._abort.is_set():
            try:
                self._sealed.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue

    def drain(self, timeout: float) -> bool:
        """Seal the last chunk and wait until every chunk is announced. Return False on timeout or failure."""
        self._closing.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._log.error("chunk publisher did not drain within %.0f s", timeout)
            self._abort.set()
            self._thread.join(5.0)
            return False
        return self.failure is None

    def _run(self) -> None:
        self._log.info("chunk publisher started")
        try:
            self._publish_until_closed()
        except RetryAborted:
            self._log.warning("chunk publisher aborted after %d chunks", self.announced_count)
        except RunApiError as error:
            self.failure = f"the API rejected log chunks: HTTP {error.status_code}: {error.body}"
            self._on_fatal(self.failure)
        except SinkRejectedError as error:
            self.failure = f"the event sink rejected log chunks: {error}"
            self._on_fatal(self.failure)
        except ApiUnavailableError as error:
            self.failure = f"chunk publisher failed: {error}"
            self._log.exception("chunk publisher failed")
            self._on_fatal(self.failure)
        self._log.info("chunk publisher stopped after %d chunks", self.announced_count)

    def _publish_until_closed(self) -> None:
        while True:
            closing = self._closing.is_set()
            ready = self._take_sealed(wait=not closing)
            timed_out = self._chunker.seal() if closing else self._chunker.seal_if_due()
            if timed_out is not None:
                ready.append(timed_out)

            if ready:
                # Both threads seal chunks, so restore index order before announcing.
                ready.sort(key=lambda chunk: chunk.index)
                self._publish(ready)
            elif closing and self._sealed.empty():
                return

    def _take_sealed(self, *, wait: bool) -> list[StdoutChunk]:
        ready: list[StdoutChunk] = []
        if wait:
            try:
                ready.append(self._sealed.get(timeout=0.1))
            except queue.Empty:
                return ready
        while True:
            try:
                ready.append(self._sealed.get_nowait())
            except queue.Empty:
                return ready

    def _publish(self, chunks: list[StdoutChunk]) -> None:
        for chunk in chunks:
            self._put_object(chunk)
        self._sink.send_log_chunks([chunk.announcement(self._run_id) for chunk in chunks], abort=self._abort)
        with self._count_lock:
            self._announced_count += len(chunks)

    def _put_object(self, chunk: StdoutChunk) -> None:
        key = chunk_object_key(self._run_id, chunk.index)
        delays = self._backoff.delays()
        attempt = 0
        while True:
            attempt += 1
            try:
                self._store.put(key, chunk.data)
                return
            except Exception as error:  # noqa: BLE001 - fsspec backends raise many types, and all are retried
                delay = next(delays)
                self._log.warning("writing chunk %s failed (attempt %d): %s; retrying in %.1f s", key, attempt, error, delay)
                if self._abort.wait(delay):
                    raise RetryAborted(f"writing chunk {key} aborted after {attempt} attempts") from error
