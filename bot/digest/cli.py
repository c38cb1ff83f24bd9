"""`bot digest`: the digest operators get, printed, with its chart written."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path

import typer

from bot.config import LoadedConfig
from bot.digest.report import build
from bot.groups import GroupSetup
from bot.storage import Database


def print_digest(
    config: LoadedConfig, day_text: str | None, names: list[str], out: Path,
    database_url: str | None,
) -> None:
    from bot.app import BUILTINS, PLUGINS

    when = _when(day_text)
    groups = _groups(config, names)

    async def run() -> None:
        db = Database(database_url or config.config.database.url, config.base_dir)
        try:
            await db.migrate()
            [report] = await build(db.transaction, config, (*BUILTINS, *PLUGINS), when, out,
                                   {None: groups})
        finally:
            await db.close()
        typer.echo(report.text)
        typer.echo(f"chart: {report.chart}")

    asyncio.run(run())


def _when(text: str | None) -> date | datetime:
    """The date asked for, or now (each group then covers its own last finished day)."""
    if text is None:
        return datetime.now().astimezone()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid --date {text!r}: use YYYY-MM-DD") from None
    if not date(2000, 1, 1) <= day <= date.today() + timedelta(days=1):
        raise ValueError(f"--date {text} is out of range: from 2000-01-01 to tomorrow")
    return day


def _groups(config: LoadedConfig, names: list[str]) -> list[GroupSetup]:
    if not names:
        if not config.groups:
            raise ValueError(f"no groups in {config.path}")
        return list(config.groups.values())
    found = []
    for name in names:
        group = config.find_group(name)
        if group is None:
            known = ", ".join(f"{g.id} ({g.name})" for g in config.groups.values())
            raise ValueError(f"no group {name!r} in {config.path}; groups: {known}")
        found.append(group)
    return found
