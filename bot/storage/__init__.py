"""Storage: one declarative base for core and plugin models, and the async database."""

from bot.storage.base import (
    Base,
    UTCDateTime,
    chunked,
    dialect_insert,
    insert_if_missing,
)
from bot.storage.database import Database, Shared
from bot.storage.prepared import Prepared

__all__ = ["Base", "Database", "Prepared", "Shared", "UTCDateTime", "chunked", "dialect_insert",
           "insert_if_missing"]
