"""The Kafka topics of the distributed mode, and their creation.

docs/events.md describes the message on each topic. An optional prefix, prepended to every
name, lets several Praetor installations (or test runs) share one Kafka cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC

logger = logging.getLogger(__name__)

DOMAIN_EVENTS_TOPIC = "praetor.domain-events"
RUN_STATE_TOPIC = "praetor.run-state"

# The run-state topic is for integrations: the read models get run states from the
# job aggregate's events on the domain-event topic.
WORKER_TOPICS = (DOMAIN_EVENTS_TOPIC, JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC)
ALL_TOPICS = (DOMAIN_EVENTS_TOPIC, RUN_STATE_TOPIC, JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC)

ADMIN_TIMEOUT_MS = 30_000


def ensure_topics(
    bootstrap_servers: str, names: Iterable[str], *, partitions: int, replication_factor: int
) -> list[str]:
    """Create the topics of `names` that do not exist yet, and return the names created.

    Existing topics keep their partition count and replication factor. A topic that another
    process creates at the same moment counts as existing.
    """
    requested = list(dict.fromkeys(names))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=ADMIN_TIMEOUT_MS)
    try:
        existing = set(admin.list_topics())
        created = []
        for name in requested:
            if name in existing:
                continue
            topic = NewTopic(name=name, num_partitions=partitions, replication_factor=replication_factor)
            try:
                admin.create_topics([topic], timeout_ms=ADMIN_TIMEOUT_MS)
            except TopicAlreadyExistsError:
                logger.info("Topic %s was created by another process meanwhile", name)
                continue
            logger.info(
                "Created topic %s with %s partitions and replication factor %s", name, partitions, replication_factor
            )
            created.append(name)
        return created
    finally:
        admin.close()
