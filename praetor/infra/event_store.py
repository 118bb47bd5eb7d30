"""The event-sourced application that stores every aggregate's events.

Embedded mode keeps the events in a SQLite file under the data directory. Distributed mode
keeps them in PostgreSQL through the eventsourcing library's psycopg 3 recorder.
"""

from __future__ import annotations

from pathlib import Path

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
