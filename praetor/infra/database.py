"""Engines and sessions for the read-model database, and its migrations.

SQLite (embedded) and PostgreSQL (distributed) share the same tables and the same Alembic
migrations; only the engine options differ.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from praetor.projections.json_text import dump_json

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# PostgreSQL advisory lock ids must differ from every other lock taken on the same database.
MIGRATION_LOCK_ID = 0x6D696772617465  # "migrate" in ASCII


def sqlalchemy_url(database_url: str) -> str:
    """Return the URL with the psycopg 3 driver named, as SQLAlchemy needs it."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def create_read_model_engine(url: str, *, schema: str | None = None) -> Engine:
    """Create the engine of the read models; on PostgreSQL every table lives in `schema`."""
    # orjson encodes JSON columns several times faster than the json module, and job-event
    # ingestion spends much of its time there. Reads use the json module, which keeps
    # integers beyond 64 bits exact (orjson turns them into floats).
    json_options = {"json_serializer": dump_json, "json_deserializer": json.loads}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **json_options)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    connect_args = {"options": f"-c search_path={schema}"} if schema else {}
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args, **json_options)
    if schema:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return engine





def _configure_sqlite(connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets API reads go on while a projection writes; NORMAL sync is durable in WAL
    # mode except for the last transactions before a power loss, which the event store and
    # the job-event log can replay.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # `contains` and `startswith` filters compile to LIKE, which must match case as on PostgreSQL.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the read-model schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # API servers, relays and workers may start together on an empty database. The
            # lock lasts until this transaction ends, so one migrates while the others wait.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    logger.info("Read-model schema is at the newest revision on %s", engine.url.render_as_string(hide_password=True))
