"""`praetor events tail` prints topic messages as JSON lines, as an integration reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kafka import KafkaProducer


def test_tail_prints_messages(services) -> None:
    topic = services.topic_prefix + "praetor.job-events"
    producer = KafkaProducer(bootstrap_servers=services.kafka_bootstrap, acks="all")
    for seq in (1, 2):
        value = {"run_id": "r-1", "job_id": "j-1", "seq": seq, "event_type": "runner_on_ok", "timestamp": None, "payload": {}}
        producer.send(topic, key=b"r-1", value=json.dumps(value).encode())
    producer.flush()
    producer.close()

    env = {**os.environ, "PRAETOR_KAFKA_BOOTSTRAP_SERVERS": services.kafka_bootstrap, "PRAETOR_KAFKA_TOPIC_PREFIX": services.topic_prefix}
    result = subprocess.run(
        [sys.executable, "-m", "praetor.cli.main", "events", "tail", "--from-beginning", "--max-messages", "2"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]

    assert [line["value"]["seq"] for line in lines] == [1, 2]
    assert {line["key"] for line in lines} == {"r-1"}
    assert {line["topic"] for line in lines} == {topic}
