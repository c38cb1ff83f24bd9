"""The `bot` command: run the bot, check the config, migrate the database, list plugins."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.adapters.base import AdapterError
from bot.adapters.console import ScriptError
from bot.config import ConfigError
from bot.instance import InstanceBusy

if TYPE_CHECKING:
    from bot.logs import LogFormat
    from bot.plugin import Plugin

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="qunbot: a bot for WeChat group operators."
)
config_app = typer.Typer(no_args_is_help=True, help="Check the configuration.")
db_app = typer.Typer(no_args_is_help=True, help="Manage the database.")
web_app = typer.Typer(no_args_is_help=True, help="The operators' web console.")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(web_app, name="web")

DEFAULT_CONFIG = os.environ.get("QUNBOT_CONFIG", "bot.yaml")
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="path to bot.yaml")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _load(path: Path):
    from bot.registry import PluginDiscoveryError

    try:
        from bot.app import load

        return load(path)
    except PluginDiscoveryError as exc:
        _fail(f"插件无法加载 / a plugin cannot be loaded: {exc}")
    except ConfigError as exc:
        # Paths as the owner wrote them: content files relative to config/.
        shown = exc.shown(path.absolute().parent)
        _fail(f"配置有误 / invalid configuration ({len(exc.issues)} problem(s)):\n{shown}")


def _logging(verbose: bool, quiet: bool, fmt: LogFormat = "text") -> None:
    from bot.logs import configure

    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    configure(level, fmt, quiet_libraries=not verbose)


@app.command()
def run(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    adapter: Annotated[str | None, typer.Option(help="console or wechaty",
                                                envvar="QUNBOT_ADAPTER")] = None,
    script: Annotated[Path | None, typer.Option(help="play a transcript and exit")] = None,
    jsonl: Annotated[bool, typer.Option(help="one JSON object per sent message")] = False,
    database: Annotated[str | None, typer.Option(help="database URL override",
                                                 envvar="QUNBOT_DATABASE_URL")] = None,
    account: Annotated[str | None, typer.Option(
        help="which of bot.yaml's `accounts:` this process runs (one process per account)",
        envvar="QUNBOT_ACCOUNT")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    log_format: Annotated[str, typer.Option(help="text, or json: one object a line")] = "text",
) -> None:
    """Run the bot (the console adapter unless the config or --adapter says otherwise)."""
    from bot.app import RunOptions
    from bot.app import run as run_bot

    if log_format not in ("text", "json"):
        _fail(f"unknown --log-format {log_format!r}: use text or json")
    _logging(verbose, quiet=script is not None or (adapter or "console") == "console",
             fmt="json" if log_format == "json" else "text")
    loaded = _load(config)
    if script is not None and not script.is_file():
        _fail(f"no such script: {script}")
    options = RunOptions(adapter=adapter, script=script, jsonl=jsonl, database_url=database,
                         account=account)
    try:
        asyncio.run(run_bot(loaded, options))
    except (ScriptError, AdapterError, InstanceBusy) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        pass


@app.command("health")
def health(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Ask the running bot's /healthz (for Docker's HEALTHCHECK and systemd): exit 0 if it
    works, 1 if not. With `health:` off in bot.yaml there is nothing to ask: exit 0."""
    import urllib.error
    import urllib.request

    settings = _load(config).config.health
    if not settings.enabled:
        typer.echo("health endpoint is off (bot.yaml: health.enabled); nothing to check")
        return
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            typer.echo(response.read().decode())
    except urllib.error.HTTPError as exc:
        _fail(exc.read().decode() or str(exc), code=1)
    except OSError as exc:
        _fail(f"no answer from {url}: {exc}", code=1)


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="where to write them")] = Path("."),
    force: Annotated[bool, typer.Option(help="overwrite an existing bot.yaml/config")] = False,
) -> None:
    """Write a starter bot.yaml and config/ to edit (then: bot run -c DIR/bot.yaml)."""
    from bot.skeleton import TargetExists, write_starter

    try:
        written = write_starter(directory, overwrite=force)
    except TargetExists as exc:
        _fail(str(exc))
    typer.echo(f"wrote {len(written)} file(s) under {directory}/: bot.yaml and config/")
    typer.echo(f"next: edit {directory / 'bot.yaml'}, then: bot run -c {directory / 'bot.yaml'}")


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="the plugin's name, e.g. thanks")],
    directory: Annotated[Path, typer.Option("--dir", help="where to create it")] = Path("."),
) -> None:
    """Write a working plugin package to start from (see docs/plugins.md)."""
    from bot.newplugin import NewPluginError, write_plugin

    try:
        target = write_plugin(name, directory)
    except NewPluginError as exc:
        _fail(str(exc))
    typer.echo(f"wrote {target}/ — install it with: pip install {target}")
    typer.echo(f"then enable `{name}` for a group in bot.yaml; its tests: pytest {target}")


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument()] = Path(DEFAULT_CONFIG)) -> None:
    """Validate bot.yaml and everything it references."""
    loaded = _load(path)
    groups = len(loaded.groups)
    typer.echo(f"{path}: OK ({groups} group(s), {len(loaded.config.operators)} operator(s))")


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    database: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Apply database migrations (the bot also does this when it starts)."""
    from bot.app import PLUGINS
    from bot.registry import migration_locations
    from bot.storage import Database

    loaded = _load(config)

    async def upgrade() -> str:
        db = Database(database or loaded.config.database.url, loaded.base_dir,
                      migration_locations(PLUGINS))
        try:
            await db.migrate()
        finally:
            await db.close()
        return db.url

    url = asyncio.run(upgrade())
    typer.echo(f"database is up to date: {url}")


@web_app.command("passwd")
def web_passwd(
    person: Annotated[str, typer.Argument(help="the operator's, owner's or admin's WeChat id")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    database: Annotated[str | None, typer.Option(help="database URL override")] = None,
) -> None:
    """Set a password for the web console (asked twice; stored as a scrypt hash)."""
    from bot.app import PLUGINS
    from bot.registry import migration_locations
    from bot.storage import Database
    from bot.web import auth

    loaded = _load(config)
    if auth.visible_groups(loaded, person) is None:
        _fail(f"{person} is not an operator, owner or admin of any group in {config}")
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        _fail("use at least 10 characters")

    async def store() -> None:
        from datetime import UTC, datetime

        db = Database(database or loaded.config.database.url, loaded.base_dir,
                      migration_locations(PLUGINS))
        try:
            await db.migrate()
            async with db.transaction() as session:
                await auth.set_password(session, person, password, datetime.now(UTC))
                auth.audit(session, datetime.now(UTC), person, "passwd", None, "bot web passwd")
        finally:
            await db.close()

    asyncio.run(store())
    typer.echo(f"password set for {person}")


@app.command("groups")
def list_groups(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    adapter: Annotated[str | None, typer.Option(help="console or wechaty")] = None,
) -> None:
    """List the groups the bot account is in, with the ids to put in bot.yaml."""
    from bot.app import list_platform_groups

    _logging(False, quiet=True)
    loaded = _load(config)
    try:
        groups, source = asyncio.run(list_platform_groups(loaded, adapter))
    except AdapterError as exc:
        _fail(str(exc))
    typer.echo(f"# {source}")
    for group in groups:
        state = "configured" if group.id in loaded.groups else "not in bot.yaml"
        members = f"{group.member_count} members" if group.member_count is not None else ""
        typer.echo("\t".join([group.id, group.name, members, state]))


@app.command("logout")
def logout(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    yes: Annotated[bool, typer.Option("--yes", help="do not ask first")] = False,
) -> None:
    """Log the WeChat account out of the gateway (the only command that ends the session)."""
    from bot.app import wechaty_logout

    _logging(False, quiet=True)
    loaded = _load(config)
    if not yes:
        typer.confirm("Log the WeChat account out? It needs a new QR scan to come back", abort=True)
    try:
        asyncio.run(wechaty_logout(loaded))
    except AdapterError as exc:
        _fail(str(exc))
    typer.echo("logged out: a running bot holds its messages and logs a new QR code to scan")


@app.command("plugins")
def list_plugins() -> None:
    """List the installed plugins (with where each comes from) and their commands."""
    from bot.registry import PluginDiscoveryError, discover

    try:
        from bot.app import BUILTINS

        installed = discover()
    except PluginDiscoveryError as exc:
        _fail(f"插件无法加载 / a plugin cannot be loaded: {exc}")
    for plugin in BUILTINS:
        _describe(plugin, "qunbot core (always on)")
    for item in installed:
        _describe(item.plugin, f"{item.distribution} {item.version} · {item.source}")


def _describe(plugin: Plugin[Any], origin: str) -> None:
    typer.echo(f"{plugin.name} — {plugin.title}  [{origin}]")
    for command in plugin.commands:
        words = "、".join(command.aliases)
        role = "" if command.role == 0 else f" [{command.role.name.lower()}+]"
        typer.echo(f"  /{command.name}" + (f"（{words}）" if words else "")
                   + f"{role} — {command.help}")


@app.command("verify-draw")
def verify_draw(
    seed: Annotated[str, typer.Option(help="the seed the bot revealed at the draw")],
    prizes: Annotated[str, typer.Option(help='as posted, e.g. "一等奖*1,二等奖*3"')],
    participants: Annotated[str, typer.Option(help="the posted ids, comma-separated")] = "",
    participants_file: Annotated[Path | None, typer.Option(help="or one id a line")] = None,
    commitment: Annotated[str | None, typer.Option(help="the SHA-256 posted at creation")] = None,
) -> None:
    """Recompute a lottery draw's winners from its posted values (plugins/lottery/fair.py)."""
    from plugins.lottery import fair

    seed = seed.strip().lower()  # as posted: 64 hex digits, whatever case it was copied in
    if not re.fullmatch(r"[0-9a-f]{64}", seed):
        _fail("invalid --seed: the bot posts 64 hexadecimal digits (0-9, a-f)")
    if commitment is not None:
        if fair.commitment(seed) != commitment.strip().lower():
            _fail("commitment MISMATCH: SHA-256(seed) is not the posted commitment", code=1)
        typer.echo("commitment OK: SHA-256(seed) matches")
    text = participants_file.read_text(encoding="utf-8") if participants_file else participants
    people = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    try:
        prize_list = fair.parse_prizes(p for p in prizes.split(",") if p.strip())
    except ValueError as exc:
        _fail(str(exc))
    for prize, member in fair.winners(seed, people, prize_list):
        typer.echo(f"{prize}\t{member}")


@app.command("digest")
def digest(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: the day the "
                                                  "scheduled digest would cover now")] = None,
    group: Annotated[list[str] | None, typer.Option(help="only this group (id or name); "
                                                         "repeat for several")] = None,
    out: Annotated[Path, typer.Option(help="folder for the chart")] = Path("data/digest"),
    database: Annotated[str | None, typer.Option(help="database URL override")] = None,
) -> None:
    """Print the operators' digest and write its chart (PNG)."""
    from bot.digest.cli import print_digest

    _logging(False, quiet=True)
    try:
        print_digest(_load(config), date, group or [], out, database)
    except ValueError as exc:
        _fail(str(exc))


def main() -> None:
    app()
