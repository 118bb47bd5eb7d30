"""A fresh PostgreSQL database and Kafka topic prefix per test, on the services of scripts/test.sh."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest


@dataclass(frozen=True)
class Services:
    database_url: str
    kafka_bootstrap: str
    topic_prefix: str


def _required(name: str, script: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; run the tests through scripts/test.sh or run: eval \"$(scripts/services/{script}.sh start)\"")
    return value


@pytest.fixture
def services() -> Iterator[Services]:
    admin_dsn = _required("PRAETOR_TEST_PG_DSN", "postgres")
    kafka_bootstrap = _required("PRAETOR_TEST_KAFKA_BOOTSTRAP", "kafka")
    suffix = secrets.token_hex(4)
    database = f"praetor_it_{suffix}"
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield Services(
            database_url=admin_dsn.rsplit("/", 1)[0] + f"/{database}",
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=f"it-{suffix}.",
        )
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
