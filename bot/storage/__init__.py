"""Storage: one declarative base for core and plugin models, and the async database."""

from bot.storage.base import Base, UTCDateTime, chunked, dialect_insert, insert_if_missing
from bot.storage.database import Database

__all__ = ["Base", "Database", "UTCDateTime", "chunked", "dialect_insert", "insert_if_missing"]
