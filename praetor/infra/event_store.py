"""The event-sourced application that stores every aggregate's events.

Embedded mode keeps the events in a SQLite file under the data directory. Distributed mode
keeps them in PostgreSQL through the eventsourcing library's psycopg 3 recorder.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from praetor.infra.settings import ConfigurationError

from eventsourcing.application import Application

import praetor.domain.inventory  # noqa: F401  (the aggregate modules must be importable by topic)
import praetor.domain.job  # noqa: F401


class PraetorApplication(Application):
    name = "praetor"


def open_sqlite_event_store(path: Path) -> PraetorApplication:
    path.parent.mkdir(parents=True, exist_ok=True)
    return PraetorApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "AGGREGATE_CACHE_MAXSIZE": "1000",
        }
    )


def open_postgres_event_store(database_url: str) -> PraetorApplication:
    """Open the event store in PostgreSQL; its table (`praetor_events`) is created when missing.

    Raises ConfigurationError at once when the database cannot be reached, naming the reason,
    where the connection pool would otherwise wait half a minute.
    """
    url = make_url(database_url)
    check_postgres(database_url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "praetor",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "praetor",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "CREATE_TABLE": "true",
    }
    return PraetorApplication(env=env)


def check_postgres(database_url: str) -> None:
    """Connect once to the database; raise ConfigurationError with PostgreSQL's reason if it fails."""
    url = make_url(database_url)
    try:
        psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=5).close()
    except psycopg.OperationalError as error:
        safe_url = url.render_as_string(hide_password=True)
        reason = " ".join(str(error).split())
        raise ConfigurationError(
            f"cannot connect to PostgreSQL at {safe_url}: {reason}; check PRAETOR_DATABASE_URL and that the database exists"
        ) from error
