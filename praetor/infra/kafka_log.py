"""Kafka producers for the distributed mode, and the `EventLog` adapter on Kafka.

Producers wait for every in-sync replica (`acks="all"`) and are idempotent, so a retried
send does not duplicate a message within one producer session. Consumers are idempotent
anyway, because a producer restarted after a failure may send a batch again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from praetor.infra.event_log import EventLog, encode_message

logger = logging.getLogger(__name__)

# A header on messages whose JSON contains integers beyond 64 bits. Readers decode those with
# the json module, which keeps them exact.
EXACT_JSON_HEADER = "praetor-exact-json"
SEND_TIMEOUT_SECONDS = 30


def create_producer(bootstrap_servers: str, client_id: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=[server.strip() for server in bootstrap_servers.split(",") if server.strip()],
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_block_ms=10_000,
    )


def send_json(producer: KafkaProducer, topic: str, key: str, value: dict[str, Any]) -> Any:
    """Send one JSON message; return the send future."""
    encoded = encode_message(value)
    headers = [(EXACT_JSON_HEADER, b"1")] if encoded.exact else []
    return producer.send(topic, key=key.encode(), value=encoded.data, headers=headers)


def flush_or_raise(producer: KafkaProducer, futures: Sequence[Any]) -> None:
    """Wait until every future is acknowledged; raise the first send error."""
    producer.flush(timeout=SEND_TIMEOUT_SECONDS)
    for future in futures:
        future.get(timeout=SEND_TIMEOUT_SECONDS)


class KafkaEventLog(EventLog):
    """Appends job events and log chunks that reach the API over HTTP to their Kafka topics.

    Executors in the distributed mode publish to Kafka themselves; this adapter serves the
    ones that post to the API instead. Reading is the stream worker's job.
    """

    def __init__(self, bootstrap_servers: str, topic_prefix: str = "") -> None:
        self._producer = create_producer(bootstrap_servers, "praetor-api")
        self._topic_prefix = topic_prefix

    def append(self, topic: str, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        futures = [send_json(self._producer, self._topic_prefix + topic, key, value) for key, value in messages]
        try:
            flush_or_raise(self._producer, futures)
        except KafkaError as error:
            logger.error("Appending %d messages to %s failed: %s", len(messages), topic, error)
            raise

    def read(self, topic: str, after_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        raise NotImplementedError("the stream worker reads Kafka topics; run `praetor worker`")

    def close(self) -> None:
        self._producer.close(timeout=10)
