"""Fixtures for the stream worker tests: read-model databases, Kafka topics and worker processes.

The processor tests use SQLite read models and need no services. The worker tests use the
PostgreSQL and Kafka of scripts/services/ and fail, naming the script to start, when their
settings are missing. Each test gets its own database, topic prefix and consumer group.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# The helpers module sits next to this file, and the path entry makes it importable whatever
# pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parent))

from stream_support import WorkerProcess, create_topics, delete_topics  # noqa: E402

from praetor.infra.database import create_read_model_engine, migrate, session_factory  # noqa: E402
from praetor.infra.stream.processor import StreamProcessor  # noqa: E402
from praetor.infra.stream.topics import ALL_TOPICS  # noqa: E402

TOPIC_PARTITIONS = 3


def require_env(name: str, script: str) -> str:
    """Return the environment variable `name`, or fail the test naming the script that sets it."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(f'{name} is not set; start the service with: eval "$(scripts/services/{script} start)"')
    return value


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_read_model_engine(f"sqlite:///{tmp_path / 'readmodels.sqlite'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_sessions(sqlite_engine: Engine) -> sessionmaker[Session]:
    return session_factory(sqlite_engine)


@pytest.fixture
def processor(sqlite_sessions: sessionmaker[Session]) -> StreamProcessor:
    return StreamProcessor(sqlite_sessions)


@pytest.fixture
def kafka_bootstrap() -> str:
    return require_env("PRAETOR_TEST_KAFKA_BOOTSTRAP", "kafka.sh")


@pytest.fixture
def database_url() -> Iterator[str]:
    """Create a throwaway PostgreSQL database, return its SQLAlchemy URL, and drop it afterwards."""
    server_url = make_url(require_env("PRAETOR_TEST_DATABASE_URL", "postgres.sh"))
    name = f"praetor_stream_{uuid.uuid4().hex[:12]}"
    admin_dsn = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def read_models(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database, for reading what the workers wrote."""
    engine = create_read_model_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> Iterator[str]:
    """Create every Praetor topic under a fresh prefix with three partitions, and delete them afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}-"
    names = [prefix + topic for topic in ALL_TOPICS]
    create_topics(kafka_bootstrap, names, TOPIC_PARTITIONS)
    yield prefix
    delete_topics(kafka_bootstrap, names)


@pytest.fixture
def group_id() -> str:
    return f"praetor-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def start_worker(
    tmp_path: Path, kafka_bootstrap: str, database_url: str, topic_prefix: str, group_id: str
) -> Iterator[Callable[..., WorkerProcess]]:
    """Return a function that starts a worker process, and stop every worker still running at the end."""
    workers: list[WorkerProcess] = []

    def start(name: str = "worker", *extra_arguments: str, group: str | None = None) -> WorkerProcess:
        arguments = [
            "--kafka-bootstrap", kafka_bootstrap,
            "--database-url", database_url,
            "--group-id", group or group_id,
            "--data-dir", str(tmp_path / f"{name}-data"),
            "--topic-prefix", topic_prefix,
            "--topic-partitions", str(TOPIC_PARTITIONS),
            *extra_arguments,
        ]
        worker = WorkerProcess(name=name, arguments=arguments, log_path=tmp_path / f"{name}.log")
        workers.append(worker.start())
        return worker

    yield start

    for worker in workers:
        if worker.running:
            worker.stop()
