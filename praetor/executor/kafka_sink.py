"""The Kafka event sink of the distributed mode: publishes a run's records and chunk announcements.

Each spool record becomes one message on `praetor.job-events` and each chunk announcement one
message on `praetor.log-chunks`, in the formats of docs/events.md. Messages are keyed by the run
id, so all messages of a run go to one partition in the order they were sent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import (
    InvalidRecordError,
    InvalidTopicError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from kafka.producer.future import FutureRecordMetadata

from praetor.executor.environment import KafkaSettings
from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.retry import Backoff
from praetor.executor.sink import RetryAborted, SinkRejectedError
from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC, encode_message

logger = logging.getLogger(__name__)

# Bounds on the producer's blocking calls, so that a retry loop notices its abort event within
# seconds: the constructor's bootstrap, and send() while it waits for a topic's metadata.
BOOTSTRAP_TIMEOUT_MS = 5_000
MAX_BLOCK_MS = 5_000
REQUEST_TIMEOUT_MS = 10_000
# The producer fails a record that is not acknowledged this long after send(), and the sink then
# resends the record's batch.
DELIVERY_TIMEOUT_MS = 30_000
RECONNECT_BACKOFF_MAX_MS = 5_000

# An attempt waits this long beyond the delivery timeout before it replaces the producer.
ATTEMPT_GRACE_SECONDS = 5.0
FUTURE_POLL_SECONDS = 0.2
CLOSE_TIMEOUT_SECONDS = 5.0

# Errors that resending the batch cannot fix, because a record or the topic name is invalid.
# NOTE: this includes a record larger than the producer's max_request_size (1 MiB) or the broker's
# message.max.bytes, which an event with about 1 MB of stdout reaches. The run then ends as an error.
REJECTED_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, InvalidRecordError, InvalidTopicError)

ProducerFactory = Callable[..., KafkaProducer]


def build_job_event_message(run_id: str, job_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """Build the `praetor.job-events` message of one spool record."""
    return {
        "run_id": run_id,
        "job_id": job_id,
        "seq": record["seq"],
        "event_type": record["event_type"],
        "timestamp": record.get("created"),
        "payload": dict(record),
    }


def build_log_chunk_message(run_id: str, job_id: str, announcement: Mapping[str, Any]) -> dict[str, Any]:
    """Build the `praetor.log-chunks` message of one `StdoutChunk.announcement()`."""
    return {
        "run_id": run_id,
        "job_id": job_id,
        "index": announcement["index"],
        "object_key": announcement["object_key"],
        "first_seq": announcement["first_seq"],
        "last_seq": announcement["last_seq"],
        "byte_offset": announcement["byte_offset"],
        "size": announcement["size"],
    }


def producer_config(settings: KafkaSettings, run_id: str) -> tuple[dict[str, Any], list[str]]:
    """Return the KafkaProducer options, and the names of options left out because kafka-python lacks them.

    kafka-python 3.0.12 accepts every option here. Older releases that pyproject.toml allows lack
    some, such as `bootstrap_timeout_ms`, and reject unknown options.
    """
    requested = {
        "bootstrap_servers": list(settings.bootstrap_servers),
        "client_id": f"praetor-executor-{run_id}",
        "acks": "all",
        # No transactional_id: the producer is idempotent, but not transactional.
        "enable_idempotence": True,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "max_block_ms": MAX_BLOCK_MS,
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "delivery_timeout_ms": DELIVERY_TIMEOUT_MS,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
    }
    known = KafkaProducer.DEFAULT_CONFIG
    config = {name: value for name, value in requested.items() if name in known}
    return config, [name for name in requested if name not in known]


class KafkaRunSink:
    """Event sink that publishes to Kafka with an idempotent producer and `acks="all"`.

    A batch counts as acknowledged once the broker acknowledged every record of it. A failed batch
    is resent whole, with backoff and without limit, until it is acknowledged or the abort event is
    set, so a consumer can see a record more than once. The producer is built on the first send,
    shared by the threads that call the sink, and rebuilt after an error that leaves it unusable.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        run_id: str,
        job_id: str,
        log_context: RunLogContext,
        *,
        backoff: Backoff | None = None,
        producer_factory: ProducerFactory = KafkaProducer,
        attempt_timeout: float = DELIVERY_TIMEOUT_MS / 1000 + ATTEMPT_GRACE_SECONDS,
    ) -> None:
        self.run_id = run_id
        self.job_id = job_id
        self.job_events_topic = settings.topic(JOB_EVENTS_TOPIC)
        self.log_chunks_topic = settings.topic(LOG_CHUNKS_TOPIC)
        self._settings = settings
        self._key = run_id.encode("utf-8")
        self._backoff = backoff or Backoff()
        self._log = RunLogAdapter(logger, log_context)
        self._producer_factory = producer_factory
        self._attempt_timeout = attempt_timeout
        self._lock = threading.Lock()
        self._producer: KafkaProducer | None = None
        self._closed = False

    def send_events(self, encoded_records: Sequence[bytes], *, abort: threading.Event | None = None) -> None:
        values = [_encode(build_job_event_message(self.run_id, self.job_id, json.loads(line))) for line in encoded_records]
        self._publish(self.job_events_topic, values, "events batch", abort)

    def send_log_chunks(self, chunks: list[Mapping[str, Any]], *, abort: threading.Event | None = None) -> None:
        values = [_encode(build_log_chunk_message(self.run_id, self.job_id, chunk)) for chunk in chunks]
        self._publish(self.log_chunks_topic, values, "log chunk announcement", abort)

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Close the producer, waiting up to `timeout` seconds for records that it still sends. Later sends raise RetryAborted."""
        with self._lock:
            producer, self._producer = self._producer, None
            self._closed = True
        if producer is None:
            return
        try:
            _close_producer(producer, timeout)
        except KafkaError as error:
            self._log.warning("closing the Kafka producer failed: %s", error)

    def _publish(self, topic: str, values: list[bytes], batch_name: str, abort: threading.Event | None) -> None:
        delays = self._backoff.delays()
        attempt = 0
        while True:
            if abort is not None and abort.is_set():
                raise RetryAborted(f"{batch_name} to Kafka topic {topic} aborted after {attempt} attempts")
            attempt += 1
            try:
                self._send_and_wait(topic, values, abort)
            except REJECTED_ERRORS as error:
                # str() of a kafka-python error starts with its class name.
                problem = str(error)
                self._log.error("%s to Kafka topic %s was rejected: %s", batch_name, topic, problem)
                raise SinkRejectedError(f"{batch_name} to Kafka topic {topic} was rejected: {problem}") from error
            except KafkaError as error:
                problem = str(error)
            else:
                if attempt > 1:
                    self._log.info("%s to Kafka topic %s acknowledged after %d attempts", batch_name, topic, attempt)
                return

            delay = next(delays)
            self._log.warning("%s to Kafka topic %s failed (attempt %d): %s; retrying in %.1f s", batch_name, topic, attempt, problem, delay)
            if abort is None:
                time.sleep(delay)
            elif abort.wait(delay):
                raise RetryAborted(f"{batch_name} to Kafka topic {topic} aborted after {attempt} attempts")

    def _send_and_wait(self, topic: str, values: list[bytes], abort: threading.Event | None) -> None:
        """Send the records and wait until all are acknowledged, raising the first record's error."""
        producer = self._get_producer()
        try:
            futures = [producer.send(topic, key=self._key, value=value) for value in values]
            deadline = time.monotonic() + self._attempt_timeout
            for future in futures:
                if not _wait_for(future, deadline, abort):
                    # The producer did not fail the records at its delivery timeout either, so
                    # it is replaced, and closing it drops its copy of the batch.
                    self._discard_producer(producer)
                    raise KafkaTimeoutError(f"{len(values)} records were not acknowledged within {self._attempt_timeout:.0f} s")
        except KafkaError as error:
            if not error.retriable and not isinstance(error, REJECTED_ERRORS):
                self._discard_producer(producer)
            raise

    def _get_producer(self) -> KafkaProducer:
        with self._lock:
            if self._closed:
                raise RetryAborted("the Kafka sink is closed")
            if self._producer is None:
                config, unknown = producer_config(self._settings, self.run_id)
                if unknown:
                    self._log.warning("the installed kafka-python lacks the producer options %s, so their defaults apply", ", ".join(unknown))
                # The constructor connects to a bootstrap server and raises KafkaTimeoutError
                # after bootstrap_timeout_ms when none is reachable.
                self._producer = self._producer_factory(**config)
                self._log.info("connected to Kafka at %s", ",".join(self._settings.bootstrap_servers))
            return self._producer

    def _discard_producer(self, producer: KafkaProducer) -> None:
        """Close `producer` so that the next attempt builds a new one, unless another thread replaced it already."""
        with self._lock:
            if self._producer is not producer:
                return
            self._producer = None
        self._log.warning("closing the Kafka producer, and building a new one on the next attempt")
        _close_producer(producer, 0.0)


def _encode(message: dict[str, Any]) -> bytes:
    return encode_message(message).data


def _wait_for(future: FutureRecordMetadata, deadline: float, abort: threading.Event | None) -> bool:
    """Wait until the record is acknowledged and return True, or return False at `deadline`.

    Raises the record's error when the producer failed it, and RetryAborted when `abort` is set.
    """
    while True:
        try:
            future.get(timeout=FUTURE_POLL_SECONDS)
            return True
        except KafkaTimeoutError:
            # get() raises KafkaTimeoutError both when its wait ends and when the producer failed
            # the record at its delivery timeout. Only the second leaves the future done.
            if future.is_done:
                raise
        if abort is not None and abort.is_set():
            raise RetryAborted("waiting for Kafka to acknowledge records was aborted")
        if time.monotonic() >= deadline:
            return False


def _close_producer(producer: KafkaProducer, timeout: float) -> None:
    try:
        producer.close(timeout=timeout)
    except KafkaTimeoutError:
        # kafka-python 3.0.12's close() starts with flush(timeout), which raises while records are
        # still queued, before close() stops the network thread. Force-closing the thread fails
        # those records, and then close() succeeds. NOTE: `_sender` is not public API.
        sender = getattr(producer, "_sender", None)
        if sender is None:
            raise
        sender.force_close()
        sender.join(CLOSE_TIMEOUT_SECONDS)
        producer.close(timeout=0)
