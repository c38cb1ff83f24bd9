"""Assembles a runnable bot from the config: adapter, clock and runtime."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.adapters.base import Adapter, AdapterError
from bot.adapters.console import ConsoleAdapter, ScriptError, first_time, parse_script
from bot.adapters.simulated import SimulatedChat
from bot.builtin import builtin
from bot.clock import Clock, ManualClock, RunningClock, SystemClock
from bot.config import LoadedConfig, load_config
from bot.config.models import OutboxSettings
from bot.events import GroupInfo
from bot.plugin import Plugin
from bot.registry import installed_plugins
from bot.runtime import BotRuntime

BUILTINS: tuple[Plugin[Any], ...] = (builtin,)
PLUGINS: tuple[Plugin[Any], ...] = installed_plugins()

log = logging.getLogger("bot.app")


def load(path: str | Path) -> LoadedConfig:
    return load_config(path, PLUGINS, BUILTINS)


@dataclass
class RunOptions:
    adapter: str | None = None
    script: Path | None = None
    jsonl: bool = False
    database_url: str | None = None
    out: TextIO = sys.stdout
    account: str | None = None  # `bot run --account NAME` (issue 18)


@dataclass(frozen=True)
class Account:
    """The account one process runs (issue 18). Without `accounts:` in bot.yaml: one
    implicit account named after the adapter, as before."""

    name: str
    endpoint: str | None
    token: str | None
    outbox: OutboxSettings
    named: bool  # listed under `accounts:` (rooms are then leased on PostgreSQL)


def select_account(config: LoadedConfig, name: str | None) -> Account | None:
    """The account named by --account; None for a bot.yaml without `accounts:`."""
    accounts = config.config.accounts
    if not accounts:
        if name is not None:
            raise AdapterError(f"--account {name}: bot.yaml lists no `accounts:`")
        return None
    if name is None:
        if len(accounts) > 1:
            raise AdapterError(
                "bot.yaml lists several accounts: run one process per account with "
                f"--account NAME ({', '.join(a.name for a in accounts)})")
        name = accounts[0].name
    chosen = next((a for a in accounts if a.name == name), None)
    if chosen is None:
        raise AdapterError(f"--account {name}: not in `accounts:` "
                           f"({', '.join(a.name for a in accounts)})")
    wechaty = config.config.wechaty
    return Account(chosen.name, chosen.endpoint or wechaty.endpoint,
                   chosen.token or wechaty.token, chosen.budget(config.config.outbox), True)


def simulated_chat(config: LoadedConfig, clock: Clock, id_prefix: str | None = None
                   ) -> SimulatedChat:
    """The configured groups, simulated. Message ids get a prefix of their own per session
    (unless given): a new session's "sim-1" is not the last one's, which the database
    remembers as handled."""
    prefix = id_prefix or f"sim{secrets.token_hex(3)}"
    chat = SimulatedChat(config.config.bot.name, clock, ZoneInfo(config.config.bot.timezone),
                         prefix)
    for group in config.groups.values():
        members = {m: m for m in (group.owner, *sorted(group.admins)) if m}
        chat.add_group(group.id, group.name, group.timezone, members)
    return chat


def build_console(config: LoadedConfig, options: RunOptions) -> BotRuntime:
    steps = None
    if options.script is not None:
        text = options.script.read_text(encoding="utf-8")
        steps = parse_script(
            text, str(options.script), lambda key: config.find_group(key) is not None
        )
        clock: ManualClock = ManualClock(_script_start(config, steps))
    else:
        clock = RunningClock()
    # A transcript's ids are the same every time it plays (replaying one against the same
    # --database is a replay, which the crash tests rely on); typed sessions get new ones.
    chat = simulated_chat(config, clock, "sim" if steps is not None else None)
    adapter = ConsoleAdapter(chat, out=options.out, jsonl=options.jsonl, steps=steps)
    database_url = options.database_url
    if database_url is None and steps is not None:
        # A transcript starts from an empty database, so it plays the same every time.
        scratch = Path(tempfile.mkdtemp(prefix="qunbot-script-")) / "script.db"
        database_url = f"sqlite+aiosqlite:///{scratch}"
    account = select_account(config, options.account) if options.account else None
    runtime = BotRuntime(
        config, PLUGINS, BUILTINS, adapter, clock, database_url=database_url, send_budget=False,
        account=account,
    )
    adapter.time = runtime
    adapter.edit_config = lambda name: _read_config_from(runtime, name, options.script)
    return runtime


def _read_config_from(runtime: BotRuntime, name: str, script: Path | None) -> None:
    """A transcript's `@config FILE`: the owner's edit of bot.yaml, which the next `/reload`
    reads (the running config stays until then). FILE is found beside the transcript, else
    in bot.yaml's folder, so a transcript plays from any deployment."""
    folders = [script.parent] if script is not None else []
    candidates = [(folder / name).absolute() for folder in [*folders, runtime.config.base_dir]]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise ScriptError("script", 0, f"@config: no such file {name} beside the transcript "
                                       "or bot.yaml")
    runtime.reload_from = path


def _script_start(config: LoadedConfig, steps: list[Any]) -> datetime:
    first = first_time(steps)
    if first is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    first_group = next((s.subject for s in steps if s.action == "group"), None)
    group = config.find_group(first_group) if first_group else None
    timezone = (
        group.timezone
        if group
        else (
            next(iter(config.groups.values())).timezone
            if config.groups
            else ZoneInfo(config.config.bot.timezone)
        )
    )
    return first.replace(tzinfo=timezone)


def build_wechaty(config: LoadedConfig, options: RunOptions,
                  plugins: tuple[Plugin[Any], ...] | None = None) -> BotRuntime:
    account = select_account(config, options.account)
    adapter = make_wechaty_adapter(config, account)
    return BotRuntime(
        config, PLUGINS if plugins is None else plugins, BUILTINS, adapter, SystemClock(),
        database_url=options.database_url, account=account,
    )


def wechaty_target(config: LoadedConfig, account: Account | None = None) -> tuple[str, str]:
    """The gateway's endpoint and token (the environment wins over bot.yaml for the
    implicit account; a named account has its own)."""
    settings = config.config.wechaty
    if account is not None:
        endpoint, token = account.endpoint, account.token
    else:
        endpoint = os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or settings.endpoint
        token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or settings.token
    if not endpoint:
        raise AdapterError(
            "the wechaty adapter needs a puppet-service endpoint: set wechaty.endpoint in "
            "bot.yaml or WECHATY_PUPPET_SERVICE_ENDPOINT (host:port). Token-only discovery "
            "needs the internet and is not supported."
        )
    if not token:
        raise AdapterError(
            "the wechaty adapter needs a token: set wechaty.token in bot.yaml or "
            "WECHATY_PUPPET_SERVICE_TOKEN (the gateway's token)"
        )
    return endpoint, token


def make_wechaty_adapter(config: LoadedConfig, account: Account | None = None) -> Adapter:
    settings = config.config.wechaty
    endpoint, token = wechaty_target(config, account)
    try:
        from bot.adapters.wechaty import WechatyAdapter
    except ImportError as exc:
        raise AdapterError(
            f"the wechaty packages are not installed ({exc}); run: pip install -e '.[wechaty]'"
        ) from None
    data_dir = config.base_dir / "data"
    if account is not None:  # each account's gateway state file of its own
        data_dir = data_dir / "accounts" / account.name
    return WechatyAdapter(
        endpoint=endpoint, token=token, data_dir=data_dir,
        call_timeout=settings.call_timeout.total_seconds(),
        probe_every=settings.probe_every.total_seconds(),
        stall_after=settings.stall_after.total_seconds(),
    )


def build(config: LoadedConfig, options: RunOptions,
          plugins: tuple[Plugin[Any], ...] | None = None) -> BotRuntime:
    adapter = options.adapter or config.config.adapter
    if adapter == "console":
        return build_console(config, options)
    if adapter == "wechaty":
        return build_wechaty(config, options, plugins)
    raise AdapterError(f"unknown adapter {adapter!r}; known: console, wechaty")


async def run(config: LoadedConfig, options: RunOptions,
              plugins: tuple[Plugin[Any], ...] | None = None) -> None:
    runtime = build(config, options, plugins)
    await runtime.start()
    web = None
    try:
        if config.config.web.enabled:  # the operators' console, in this same event loop
            try:
                from bot.web.server import WebConsole
            except ImportError as exc:
                raise AdapterError(f"web.enabled needs the console's packages ({exc}); run: "
                                   "pip install 'qunbot[web]'") from None
            web = WebConsole(runtime)
            await web.start()
        await until_stopped(runtime.wait())
    finally:
        if web is not None:
            await web.stop()
        await runtime.stop()  # sends or writes everything queued (outbox.stop_timeout)


async def until_stopped(running: Awaitable[None]) -> None:
    """Until `running` ends or SIGTERM/SIGINT arrives (`docker stop`, `systemctl stop`,
    Ctrl-C): either way the caller then stops gracefully, nothing queued is lost."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.ensure_future(running)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            log.info("stopping: a signal arrived")
            task.cancel()
        await asyncio.gather(task, return_exceptions=stop.is_set())
    finally:
        stopper.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def list_platform_groups(
    config: LoadedConfig, adapter_name: str | None
) -> tuple[list[GroupInfo], str]:
    """The groups, and one line saying where the list came from. For WeChat: what the
    running bot recorded, or the gateway asked directly when no bot runs — never a second
    event stream beside a running bot (the gateway serves one)."""
    if (adapter_name or config.config.adapter) == "console":
        groups = [GroupInfo(id=g.id, name=g.name) for g in config.groups.values()]
        return groups, "the groups in bot.yaml (console adapter)"
    endpoint, token = wechaty_target(config)
    from bot.adapters.wechaty import tools

    timeout = config.config.wechaty.call_timeout.total_seconds()
    return await tools.groups(endpoint, token, config.base_dir / "data", timeout)


async def wechaty_logout(config: LoadedConfig) -> None:
    endpoint, token = wechaty_target(config)
    from bot.adapters.wechaty import tools

    timeout = config.config.wechaty.call_timeout.total_seconds()
    await tools.logout(endpoint, token, config.base_dir / "data", timeout)
