"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from tracker import clock

# Constraint names Alembic can find again on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Models whose every write is logged by tracker.audit (see :func:`audited`).
AUDITED: set[type] = set()


def audited(cls: type) -> type:
    """Class decorator: log every insert/update/delete of this model (审计日志)."""
    AUDITED.add(cls)
    return cls


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (every stored time is UTC)."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` converts on the
    session zone; storing naive UTC behaves the same on both. Naive input is
    refused, because a naive local time written as UTC is an 8-hour error.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class JSONText(TypeDecorator[Any]):
    """JSON stored portably (``JSON`` on both SQLite and PostgreSQL), keys sorted."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        # Round-trip to drop non-JSON types early, with a clear error.
        return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


class Base(DeclarativeBase):
    """Base of all tracker models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}
