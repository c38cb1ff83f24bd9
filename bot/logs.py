"""Logging set up once for the CLI: plain text for people, one JSON object a line for
machines, and third-party libraries (APScheduler, Alembic, httpx…) quiet unless asked.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]

# Chatty at INFO (≈50 lines at start between them); their warnings still show.
QUIET_LIBRARIES = ("apscheduler", "alembic", "httpx", "httpcore", "jieba", "asyncio",
                   "grpclib", "wechaty", "wechaty_puppet", "wechaty_puppet_service",
                   "matplotlib", "PIL", "aiosqlite", "sqlalchemy")


class JsonFormatter(logging.Formatter):
    """time, level, logger, group, plugin, message (and exception): one object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "group": getattr(record, "group", None),
            "plugin": _plugin_of(record.name),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _plugin_of(logger: str) -> str | None:
    """Plugins log as plugins.<name>; everything else is the core's."""
    parts = logger.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "plugins" else None


def configure(level: int, fmt: LogFormat = "text", *, quiet_libraries: bool = True) -> None:
    """Like logging.basicConfig: a program that set up logging itself (or pytest) keeps it."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "qunbot", False)]:
        root.removeHandler(handler)  # ours from an earlier call: replaced
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.qunbot = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING if quiet_libraries else logging.NOTSET)
