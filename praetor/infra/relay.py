"""The relay: publishes the event store's notification log to Kafka, in order, at least once.

Every notification becomes a `praetor.domain-events` message keyed by its aggregate id, and
run events also a `praetor.run-state` message keyed by the run id. The relay stores the last
notification id that Kafka acknowledged in the event store's database after each batch, so
a restart resumes there: it may publish the end of a batch again, never skip one.

One relay publishes at a time. Each holds a PostgreSQL advisory lock while it runs, and a
second relay waits for the lock, so a standby takes over when the active one stops.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from kafka.errors import KafkaError
from sqlalchemy.engine import make_url

from praetor.infra.event_store import PraetorApplication
from praetor.infra.kafka_log import create_producer, flush_or_raise, send_json
from praetor.infra.stream.messages import domain_event_message, run_state_message
from praetor.infra.stream.topics import DOMAIN_EVENTS_TOPIC, RUN_STATE_TOPIC, ensure_topics

logger = logging.getLogger(__name__)

# Any constant works, provided that nothing else on the database takes the same lock id.
RELAY_LOCK_ID = 0x72656C6179  # "relay" in ASCII
POSITION_NAME = "domain-events"
MAX_BACKOFF_SECONDS = 10.0


def postgres_dsn(database_url: str) -> str:
    """Return a libpq connection string for a SQLAlchemy or libpq URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Relay:
    def __init__(
        self,
        app: PraetorApplication,
        database_url: str,
        kafka_bootstrap_servers: str,
        *,
        topic_prefix: str = "",
        topic_partitions: int = 8,
        batch_size: int = 1000,
        poll_seconds: float = 0.05,
    ) -> None:
        self._app = app
        self._dsn = postgres_dsn(database_url)
        self._kafka_bootstrap_servers = kafka_bootstrap_servers
        self._domain_topic = topic_prefix + DOMAIN_EVENTS_TOPIC
        self._run_state_topic = topic_prefix + RUN_STATE_TOPIC
        self._topic_partitions = topic_partitions
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self.position = 0

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Publish until `stop` is called; wait first for the relay lock."""
        with psycopg.connect(self._dsn, autocommit=True) as connection:
            self._create_position_table(connection)
            if not self._acquire_lock(connection):
                return
            self.position = self._read_position(connection)
            # Created here, not by the broker on first use, so they get the configured partitions.
            ensure_topics(
                self._kafka_bootstrap_servers,
                [self._domain_topic, self._run_state_topic],
                partitions=self._topic_partitions,
                replication_factor=1,
            )
            logger.info("Relay started at notification %s, publishing to %s", self.position, self._domain_topic)
            producer = create_producer(self._kafka_bootstrap_servers, "praetor-relay")
            try:
                self._publish_until_stopped(connection, producer)
            finally:
                producer.close(timeout=10)
                logger.info("Relay stopped at notification %s", self.position)

    def publish_pending(self, connection: psycopg.Connection, producer) -> int:  # type: ignore[no-untyped-def]
        """Publish one batch of notifications after the stored position; return how many."""
        notifications = self._app.recorder.select_notifications(
            start=self.position, limit=self._batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0

        futures = []
        for notification in notifications:
            key, value = domain_event_message(notification)
            futures.append(send_json(producer, self._domain_topic, key, value))
            # Only run events of jobs have a run-state message; others need no decoding.
            if ":Job.Run" in notification.topic:
                run_state = run_state_message(notification, self._app.mapper.to_domain_event(notification))
                if run_state is not None:
                    futures.append(send_json(producer, self._run_state_topic, *run_state))
        flush_or_raise(producer, futures)

        self.position = notifications[-1].id
        connection.execute(
            "INSERT INTO praetor_relay_positions (name, notification_id, updated_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (name) DO UPDATE SET notification_id = EXCLUDED.notification_id, updated_at = now()",
            (POSITION_NAME, self.position),
        )
        return len(notifications)

    def _publish_until_stopped(self, connection: psycopg.Connection, producer) -> None:  # type: ignore[no-untyped-def]
        backoff = self._poll_seconds
        while not self._stopping.is_set():
            try:
                published = self.publish_pending(connection, producer)
            except KafkaError as error:
                backoff = min(max(backoff * 2, 0.2), MAX_BACKOFF_SECONDS)
                logger.warning("Relay could not publish after notification %s (%s); retrying in %.1f s", self.position, error, backoff)
                self._stopping.wait(backoff)
                continue
            backoff = self._poll_seconds
            if published == 0:
                self._stopping.wait(self._poll_seconds)

    def _acquire_lock(self, connection: psycopg.Connection) -> bool:
        waiting_logged = False
        while not self._stopping.is_set():
            if connection.execute("SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK_ID,)).fetchone()[0]:
                logger.info("Relay acquired the relay lock")
                return True
            if not waiting_logged:
                logger.info("Another relay has the relay lock; waiting to acquire it")
                waiting_logged = True
            self._stopping.wait(1.0)
        return False

    @staticmethod
    def _create_position_table(connection: psycopg.Connection) -> None:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS praetor_relay_positions ("
            " name text PRIMARY KEY, notification_id bigint NOT NULL, updated_at timestamptz NOT NULL)"
        )

    @staticmethod
    def _read_position(connection: psycopg.Connection) -> int:
        row = connection.execute(
            "SELECT notification_id FROM praetor_relay_positions WHERE name = %s", (POSITION_NAME,)
        ).fetchone()
        return row[0] if row else 0


def run_relay(
    app: PraetorApplication, database_url: str, kafka_bootstrap_servers: str, *, topic_prefix: str = "", topic_partitions: int = 8
) -> Relay:
    """Start a relay in a daemon thread and return it; `stop()` ends it."""
    relay = Relay(app, database_url, kafka_bootstrap_servers, topic_prefix=topic_prefix, topic_partitions=topic_partitions)
    thread = threading.Thread(target=run_until_stopped, args=(relay,), name="relay", daemon=True)
    thread.start()
    return relay


def run_until_stopped(relay: Relay) -> None:
    """Run the relay, reconnecting after database errors, until `stop` is called."""
    while not relay.stopping:
        try:
            relay.run()
        except (psycopg.Error, OSError) as error:
            logger.error("Relay lost its database connection (%s); reconnecting in 2 s", error)
            time.sleep(2)
