"""Collection queries: pagination, `order_by`, `search` and `field__lookup` filters.

Every query parameter must be understood: an unknown field, lookup or `order_by` field is a
400 that names it and lists the valid ones, never a filter silently ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateutil.parser import isoparse
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.sqltypes import JSON

from praetor.api.errors import ApiError
from praetor.api.serialize import HIDDEN_COLUMNS, row_to_json
from praetor.domain.statuses import JobStatus, RunState
from praetor.projections.tables import ReadModel

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
PAGING_PARAMETERS = frozenset({"limit", "offset", "order_by", "search"})
VALUE_FORMS = {
    bool: "true or false",
    int: "a whole number",
    uuid.UUID: "a UUID such as 5d1c3c1e-0a7e-4a53-9d2b-6f0f2f2c6b1a",
    datetime: "an ISO 8601 time such as 2026-12-04T12:00:00Z",
}
# Columns that hold one of a fixed set of values; a filter on another value is a typo.
CHOICES: dict[str, frozenset[str]] = {
    "jobs.status": frozenset(status.value for status in JobStatus),
    "runs.state": frozenset(state.value for state in RunState),
}
LOOKUPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "exact": lambda column, value: column == value,
    "iexact": lambda column, value: func.lower(column) == str(value).lower(),
    "contains": lambda column, value: column.contains(value, autoescape=True),
    "icontains": lambda column, value: func.lower(column).contains(str(value).lower(), autoescape=True),
    "startswith": lambda column, value: column.startswith(value, autoescape=True),
    "in": lambda column, value: column.in_(value),
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
    "isnull": lambda column, value: column.is_(None) if value else column.is_not(None),
}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "limit": self.limit, "offset": self.offset}


def list_rows(
    session: Session,
    table: type[ReadModel],
    params: Mapping[str, str],
    *,
    search_fields: Iterable[str] = ("name",),
    default_order: str = "-created_at",
    scope: Iterable[ColumnElement[bool]] = (),
    extra_parameters: Iterable[str] = (),
) -> Page:
    """Run a filtered, ordered, paged query of `table` from the request's query parameters.

    `scope` narrows the rows (for a sub-collection such as a job's events), and
    `extra_parameters` names parameters the endpoint itself handles, which are not filters.
    """
    columns = _filterable_columns(table)
    statement = select(table).where(*scope)

    for name, raw in params.items():
        if name in PAGING_PARAMETERS or name in extra_parameters:
            continue
        statement = statement.where(_filter(columns, name, raw))

    search = params.get("search")
    if search:
        fields = [columns[field] for field in search_fields]
        statement = statement.where(or_(*(func.lower(field).contains(search.lower(), autoescape=True) for field in fields)))

    total = session.scalar(select(func.count()).select_from(statement.subquery()))
    limit = _integer(params, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = _integer(params, "offset", 0, minimum=0, maximum=None)
    statement = _order(statement, columns, params.get("order_by") or default_order).limit(limit).offset(offset)
    items = [row_to_json(row) for row in session.scalars(statement)]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


def _filterable_columns(table: type[ReadModel]) -> dict[str, InstrumentedAttribute]:
    return {
        column.key: getattr(table, column.key)
        for column in table.__table__.columns
        if column.key not in HIDDEN_COLUMNS
    }


def _filter(columns: Mapping[str, InstrumentedAttribute], name: str, raw: str) -> ColumnElement[bool]:
    field, _, lookup = name.partition("__")
    lookup = lookup or "exact"
    if field not in columns:
        raise ApiError(400, f"{name}: unknown filter field {field!r}; filter on one of {', '.join(sorted(columns))}")
    if lookup not in LOOKUPS:
        raise ApiError(400, f"{name}: unknown lookup {lookup!r}; use one of {', '.join(LOOKUPS)}")
    column = columns[field]
    if isinstance(column.type, JSON):
        raise ApiError(400, f"{name}: {field} is a JSON document and cannot be filtered; filter on another field")

    if lookup == "isnull":
        value: Any = _coerce(bool, name, raw)
    elif lookup == "in":
        value = [_coerce(_python_type(column), name, part) for part in raw.split(",") if part]
    else:
        value = _coerce(_python_type(column), name, raw)
    _check_choice(column, name, lookup, value)
    return LOOKUPS[lookup](column, value)


def _check_choice(column: InstrumentedAttribute, name: str, lookup: str, value: Any) -> None:
    choices = CHOICES.get(f"{column.class_.__tablename__}.{column.key}")
    if choices is None or lookup not in ("exact", "in"):
        return
    for item in value if isinstance(value, list) else [value]:
        if item not in choices:
            raise ApiError(400, f"{name}: {item!r} is not a {column.key}; use one of {', '.join(sorted(choices))}")


def _order(statement: Select, columns: Mapping[str, InstrumentedAttribute], order_by: str) -> Select:
    clauses = []
    for term in order_by.split(","):
        term = term.strip()
        descending = term.startswith("-")
        field = term.lstrip("-")
        if field not in columns:
            raise ApiError(400, f"order_by: unknown field {field!r}; order by one of {', '.join(sorted(columns))}")
        if isinstance(columns[field].type, JSON):
            raise ApiError(400, f"order_by: {field} is a JSON document and cannot order rows; order by another field")
        clauses.append(columns[field].desc() if descending else columns[field].asc())
    # A unique tie-breaker keeps pages stable when the ordered values repeat.
    primary_key = next(iter(column for column in columns.values() if column.primary_key), None)
    if primary_key is not None:
        clauses.append(primary_key.asc())
    return statement.order_by(*clauses)


def _python_type(column: InstrumentedAttribute) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def _coerce(kind: type, name: str, raw: str) -> Any:
    try:
        if kind is bool:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return lowered in ("true", "1")
        if kind is int:
            return int(raw)
        if kind is uuid.UUID:
            return uuid.UUID(raw)
        if kind is datetime:
            # Stored times are UTC; SQLite compares them as text, so the value must be UTC too.
            parsed = isoparse(raw)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise ApiError(400, f"{name}: {raw!r} is not a valid {kind.__name__}; send {VALUE_FORMS.get(kind, 'a value of that type')}") from None
    return raw


def _integer(params: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: {raw!r} is not an integer; send a whole number") from None
    if value < minimum:
        raise ApiError(400, f"{name}: {value} is too small; send a number of at least {minimum}")
    if maximum is not None and value > maximum:
        raise ApiError(400, f"{name}: {value} is too large; send a number of at most {maximum}")
    return value
