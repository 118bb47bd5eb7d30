"""The services a distributed-mode server needs, made fresh for one test session.

Each session gets its own PostgreSQL database, its own Kafka topic prefix and its own S3
bucket on the services that `scripts/test.sh` starts, so sessions never see each other's data.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

REQUIRED = {
    "PRAETOR_TEST_PG_DSN": "postgres",
    "PRAETOR_TEST_KAFKA_BOOTSTRAP": "kafka",
    "PRAETOR_TEST_S3_ENDPOINT_URL": "moto",
}


def require_services() -> dict[str, str]:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        scripts = " ".join(f'eval "$(scripts/services/{REQUIRED[name]}.sh start)";' for name in missing)
        raise RuntimeError(f"{', '.join(missing)} not set: run the tests through scripts/test.sh, or run {scripts}")
    return {name: os.environ[name] for name in REQUIRED}


@contextmanager
def distributed_environment() -> Iterator[dict[str, str]]:
    """Yield the PRAETOR_* settings of a fresh distributed deployment; drop its database at the end."""
    services = require_services()
    suffix = secrets.token_hex(4)
    database = f"praetor_e2e_{suffix}"
    admin_dsn = services["PRAETOR_TEST_PG_DSN"]
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    server_dsn = admin_dsn.rsplit("/", 1)[0] + f"/{database}"
    try:
        yield {
            "PRAETOR_MODE": "distributed",
            "PRAETOR_DATABASE_URL": server_dsn,
            "PRAETOR_KAFKA_BOOTSTRAP_SERVERS": services["PRAETOR_TEST_KAFKA_BOOTSTRAP"],
            "PRAETOR_KAFKA_TOPIC_PREFIX": f"e2e-{suffix}.",
            "PRAETOR_WORKER_GROUP_ID": f"praetor-worker-e2e-{suffix}",
            "PRAETOR_OBJECT_STORE_URL": f"s3://praetor-e2e-{suffix}/logs",
            "PRAETOR_S3_ENDPOINT_URL": services["PRAETOR_TEST_S3_ENDPOINT_URL"],
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        }
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
