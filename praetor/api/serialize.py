"""Read-model rows as JSON: UUIDs as strings, times as ISO 8601 in UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect

from praetor.projections.tables import ReadModel

HIDDEN_COLUMNS = frozenset({"password_hash"})


def to_json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def row_to_json(row: ReadModel) -> dict[str, Any]:
    columns = inspect(type(row)).columns
    return {column.key: to_json_value(getattr(row, column.key)) for column in columns if column.key not in HIDDEN_COLUMNS}
