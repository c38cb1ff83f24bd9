"""The one declarative base; the naming convention keeps Alembic's constraint names stable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise drop the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's `insert`, which has ON CONFLICT. PostgreSQL's is imported on first use:
    its dialect package cost every SQLite bot's start about 15 ms."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


async def insert_if_missing(session: Any, model: type[Base], **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either backend (safe under concurrent callers)."""
    insert = dialect_insert(session.bind.dialect.name)
    await session.execute(insert(model).values(**values).on_conflict_do_nothing())


T = TypeVar("T")
IN_CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter limits


def chunked(ids: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """Ids (or rows) in lists of at most `size`, for queries over thousands of groups."""
    batch: list[T] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
