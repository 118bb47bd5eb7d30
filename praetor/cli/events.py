"""`praetor events tail`: an example consumer of Praetor's Kafka topics.

It reads with no consumer group, so it never moves the offsets of Praetor's own workers,
and prints one JSON object per message.
"""

from __future__ import annotations

import json
import sys

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from praetor.infra.settings import ConfigurationError

def tail_events(bootstrap_servers: str, topics: list[str], *, from_beginning: bool, max_messages: int) -> None:
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=[server.strip() for server in bootstrap_servers.split(",")],
            group_id=None,
            auto_offset_reset="earliest" if from_beginning else "latest",
            enable_auto_commit=False,
            allow_auto_create_topics=False,
        )
    except KafkaError as error:
        raise ConfigurationError(f"cannot reach Kafka at {bootstrap_servers}: {error}; check PRAETOR_KAFKA_BOOTSTRAP_SERVERS") from error
    existing = consumer.topics()
    unknown = sorted(set(topics) - existing)
    if unknown:
        consumer.close()
        known = ", ".join(sorted(name for name in existing if "praetor." in name)[:10]) or "none yet"
        raise ConfigurationError(f"no topic {', '.join(unknown)} on the brokers; Praetor's topics there: {known}")
    consumer.subscribe(topics)
    printed = 0
    try:
        for message in consumer:
            # The json module reads every message exactly, integers beyond 64 bits included.
            value = json.loads(message.value) if message.value else None
            line = {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "key": message.key.decode() if message.key else None,
                "value": value,
            }
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            printed += 1
            if max_messages and printed >= max_messages:
                return
    except KeyboardInterrupt:
        return
    finally:
        consumer.close()
