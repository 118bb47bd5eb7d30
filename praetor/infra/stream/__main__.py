"""Run one stream worker: `python -m praetor.infra.stream --kafka-bootstrap ... --database-url ...`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from praetor.infra.stream.faust_worker import (
    DEFAULT_BATCH_SECONDS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_SESSION_TIMEOUT_SECONDS,
    run_worker,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m praetor.infra.stream", description="Build the read models from the Kafka topics until interrupted."
    )
    parser.add_argument("--kafka-bootstrap", required=True, help="Kafka bootstrap servers, host:port[,host:port...].")
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of the read-model database.")
    parser.add_argument(
        "--read-model-schema", default=None, help="PostgreSQL schema of the read-model tables; default the search_path."
    )
    parser.add_argument("--group-id", default="praetor-worker", help="Kafka consumer group shared by all workers.")
    parser.add_argument("--data-dir", type=Path, required=True, help="Directory for faust's local state, one per worker.")
    parser.add_argument("--topic-prefix", default="", help="Prefix of every topic name; default none.")
    parser.add_argument("--topic-partitions", type=int, default=8, help="Partitions of topics the worker creates.")
    parser.add_argument("--topic-replication-factor", type=int, default=1, help="Replicas of topics the worker creates.")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Maximum messages per batch.")
    parser.add_argument(
        "--batch-seconds", type=float, default=DEFAULT_BATCH_SECONDS, help="Maximum wait in seconds to fill a batch."
    )
    parser.add_argument(
        "--session-timeout",
        type=float,
        default=DEFAULT_SESSION_TIMEOUT_SECONDS,
        help="Seconds without heartbeats after which the group moves a worker's partitions to the others.",
    )
    parser.add_argument("--log-level", default="info", help="Logging level: debug, info, warning or error.")
    arguments = parser.parse_args(argv)

    logging.basicConfig(
        level=arguments.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        run_worker(
            kafka_bootstrap=arguments.kafka_bootstrap,
            database_url=arguments.database_url,
            read_model_schema=arguments.read_model_schema,
            group_id=arguments.group_id,
            data_dir=arguments.data_dir,
            topic_prefix=arguments.topic_prefix,
            topic_partitions=arguments.topic_partitions,
            topic_replication_factor=arguments.topic_replication_factor,
            batch_size=arguments.batch_size,
            batch_seconds=arguments.batch_seconds,
            session_timeout_seconds=arguments.session_timeout,
        )
    except RuntimeError:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
