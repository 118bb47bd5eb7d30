"""Alembic environment: migrations run on the connection `praetor.infra.database.migrate` passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from praetor.projections.tables import ReadModel

config = context.config
target_metadata = ReadModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # `alembic revision --autogenerate` from the command line: use the URL it was given.
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
