"""Start-up and shutdown in one place: database → plugins → scheduler → outbox → adapter.

Wiring only. The same runtime serves the console, the real adapter and the test harness;
what differs is the clock (manual or system) and who drives time.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import purge
from bot.activity import ActivityRecorder, load_segmenter
from bot.adapters.base import Adapter
from bot.blackroom import Blackroom
from bot.clock import Clock, ManualClock
from bot.config import ConfigError, ConfigIssue, LoadedConfig
from bot.config.loader import load_config_off_loop
from bot.config.models import OutboxSettings
from bot.context import JobContext
from bot.digest.report import DigestJob
from bot.dispatch import Dispatcher
from bot.events import Capabilities, Event, Outgoing, OutKind
from bot.groups import EnabledPlugin, GroupSetup
from bot.health import Health, HealthServer
from bot.input import load_numerals
from bot.instance import InstanceBusy, Lease
from bot.instance import acquire as acquire_lease
from bot.leases import AllRooms, RoomLeases, operator_account
from bot.missed import tell_operators_of_skipped
from bot.outbox import Outbox
from bot.platform_state import PlatformState
from bot.plugin import Job, Plugin, Schedule
from bot.registry import migration_locations
from bot.roles import Roles
from bot.scheduler import CURRENT_SLOT, Prepare, ScheduledJob, Scheduler, make_trigger
from bot.storage import Database, insert_if_missing
from bot.storage.models import FIRST_START, CoreState

if TYPE_CHECKING:
    from bot.app import Account

log = logging.getLogger("bot.runtime")

# The console simulates a chat, not a WeChat account: nothing there to protect from bans.
UNLIMITED = OutboxSettings(
    per_minute=1e9, burst=10**9, daily_cap=10**9, group_jitter=(timedelta(), timedelta())
)


@dataclass
class Services:
    """What handlers and jobs may use; handed in through their context, never imported."""

    db: Database
    clock: Clock
    outbox: Outbox
    scheduler: Scheduler
    roles: Roles
    activity: ActivityRecorder
    capabilities: Capabilities
    config: LoadedConfig
    runtime: BotRuntime
    platform: PlatformState  # logged in or out, groups the bot was removed from
    blackroom: Blackroom  # the group's one 小黑屋: put, release, is_in, list
    plugin_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Which rooms this process serves (issue 18): all of them, or those it holds leases of.
    rooms: AllRooms | RoomLeases = field(default_factory=AllRooms)
    # Whose handled message ids these are: the platform's, shared by all its accounts, so
    # a message two accounts both see in one room is handled once (bot/once.py).
    message_scope: str = ""

    async def reload(self) -> list[ConfigIssue]:
        return await self.runtime.reload()

    async def remove_member(self, group_id: str, member_id: str) -> None:
        """Remove a member on the platform (check capabilities.remove_member first)."""
        await self.runtime.adapter.remove_member(group_id, member_id)


def settle_heap() -> None:
    """Once started and warmed up: what is loaded by then (config, plugins, word tables,
    SQLAlchemy's caches) stays for the process's life. Frozen out of the cyclic collector,
    a full collection no longer walks all of it, so it no longer stalls some member's
    message for ~100 ms (bench/fuzz.py's slowest). Garbage is collected first, so nothing
    dead is kept. Once a process (several accounts, or tests, start more runtimes: what
    the first leaves behind must stay collectable)."""
    global _heap_settled
    if _heap_settled:
        return
    _heap_settled = True
    gc.collect()
    gc.freeze()


_heap_settled = False


def _settings_key(settings: Any) -> object:
    """Equal settings, equal key (a plugin's settings are pydantic models)."""
    try:
        return settings.model_dump_json()
    except Exception:  # something JSON cannot say: each object stands for itself
        return id(settings)


class BotRuntime:
    def __init__(
        self,
        config: LoadedConfig,
        plugins: Sequence[Plugin[Any]],
        builtins: Sequence[Plugin[Any]],
        adapter: Adapter,
        clock: Clock,
        *,
        database_url: str | None = None,
        rng: random.Random | None = None,
        send_budget: bool = True,
        account: Account | None = None,
    ) -> None:
        self.config, self.plugins, self.builtins = config, tuple(plugins), tuple(builtins)
        # Another bot.yaml for /reload to read (a transcript's @config: the owner's edit).
        self.reload_from: Path | None = None
        self.adapter, self.clock = adapter, clock
        self.account = account
        self.account_name = account.name if account is not None else adapter.name
        self.simulated = isinstance(clock, ManualClock)
        self.db = Database(database_url or config.config.database.url, config.base_dir,
                           migration_locations(self.plugins))
        budget = account.outbox if account is not None else config.config.outbox
        self.outbox = Outbox(
            self.db,
            clock,
            budget if send_budget else UNLIMITED,
            account=self.account_name,
            timezone=ZoneInfo(config.config.bot.timezone),
            may_send=self._may_send,
            rng=rng,
            confirm=getattr(adapter, "confirm_sent", None),  # optional: can it tell?
        )
        self.outbox.attach(adapter.send)
        self._hooks: dict[tuple[str, str], Prepare] = {}  # fan-out hooks, one per plugin job
        self.scheduler = Scheduler(
            self.db, clock, config.config.scheduler.grace, after_run=self._after_job,
            outbox=self.outbox,
        )
        roles = Roles(lambda: self.config.operator_ids, adapter.group_info, clock)
        self.activity = ActivityRecorder(self.db)
        # Several named accounts on one PostgreSQL database: rooms are leased (issue 18).
        self.leased = account is not None and account.named and not self.db.is_sqlite
        self.platform = PlatformState(self.db, clock, self.outbox, roles, lambda: self.config,
                                      account=self.account_name, shared=self.leased)
        self.services = Services(
            self.db,
            clock,
            self.outbox,
            self.scheduler,
            roles,
            self.activity,
            adapter.capabilities,
            config,
            self,
            self.platform,
            Blackroom(self.db),
            message_scope=adapter.name,
        )
        if self.leased:
            self._lease_rooms()
        self.dispatcher = Dispatcher(self.services)
        self.outbox.write_behind(self.dispatcher.processed)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self.lease: Lease | None = None
        self.last_event_at: datetime | None = None
        self.last_job_at: datetime | None = None
        self._health: HealthServer | None = None

    def _lease_rooms(self) -> None:
        """Serve only the rooms this account holds leases of: dispatch, slots, sends."""
        rooms = RoomLeases(
            self.db, self.account_name, lambda room: self.config.config.account_order(room),
            self.config.config.leases, on_gained=self._rooms_gained, on_lost=self._rooms_lost,
            ready=lambda: self.platform.logged_in,
            removed=self.platform.is_removed,
            # A row its last holder wrote only after the room moved (its group commit was
            # late) is sent at the next round, not left behind.
            on_round=self.outbox.adopt,
        )
        self.services.rooms = rooms
        self.outbox.serves = lambda outgoing: rooms.serves(outgoing.group_id)
        self.outbox.reach = lambda outgoing: operator_account(
            self.config.config, outgoing.to, self.account_name, rooms.running)
        self.outbox.leased = True
        self.scheduler.serves = rooms.serves

    async def _list_rooms(self) -> list[str] | None:
        """The rooms the account is in, once the platform is up (None: not yet)."""
        if not self.platform.logged_in or not getattr(self.adapter, "connected", True):
            return None
        ids = getattr(self.adapter, "group_ids", None)  # cheaper where the adapter has it
        return await ids() if ids else [group.id for group in await self.adapter.list_groups()]

    async def _rooms_gained(self, rooms: dict[str, datetime | None]) -> None:
        """Rooms this process now serves: send what was queued for them (by whichever
        account), run the slots missed since they were last served, re-arm plugin timers."""
        self.services.blackroom.forget(set(rooms))  # its holder meanwhile may have jailed
        await self.outbox.adopt(set(rooms))
        for room, since in rooms.items():
            await self.scheduler.catch_up_room(room, since)
        tell_operators_of_skipped(self.config, self.outbox, self.scheduler.take_skipped())
        await self._plugins_started(set(rooms))
        await self.dispatcher.took_over(set(rooms))

    async def _rooms_lost(self, rooms: set[str]) -> None:
        """Another process serves them now: what is queued for them is written (it sends)."""
        self.outbox.set_aside(rooms)
        await self.outbox.flush()

    async def start(self, *, run_adapter: bool = True) -> None:
        try:  # one process per database (SQLite) or per account (PostgreSQL)
            self.lease = await acquire_lease(self.db, self.account_name)
        except InstanceBusy as busy:
            if self.db.is_sqlite and self.config.config.accounts:
                raise InstanceBusy(
                    self.db.url, busy.holder,
                    "SQLite serves one process: to run several accounts, give them one "
                    "PostgreSQL database (database.url) and start one process per account."
                ) from None
            raise
        await self.db.migrate()
        async with self.db.transaction() as session:  # kept from the very first start
            await insert_if_missing(session, CoreState, key=FIRST_START, at=self.clock.now())
        await self.outbox.load()
        await self.platform.load()
        async with self.db.transaction() as session:
            await self.dispatcher.processed.load(session)
        self.scheduler.set_jobs(self._scheduled_jobs())
        await self.scheduler.catch_up()
        tell_operators_of_skipped(self.config, self.outbox, self.scheduler.take_skipped())
        if not self.leased:  # leased rooms start when their lease is taken
            await self._plugins_started()
        if self.simulated:
            await self.outbox.drain()
        else:
            self.scheduler.start()
            await self.db.start_checkpoints()
            self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
            self._tasks.append(asyncio.create_task(self._heartbeats(), name="heartbeat"))
            self._tasks.append(asyncio.create_task(self._activity_flushes(), name="activity"))
            self._tasks.append(asyncio.create_task(self.warm_up_and_settle(), name="warm-up"))
            if isinstance(self.services.rooms, RoomLeases):
                self._tasks.append(asyncio.create_task(
                    self.services.rooms.run(self._list_rooms), name="leases"))
        if run_adapter:
            self._tasks.append(
                asyncio.create_task(
                    self.adapter.run(self._received), name=f"adapter-{self.adapter.name}"
                )
            )
        health = self.config.config.health
        if health.enabled:
            self._health = HealthServer(self.health, health.host, health.port)
            await self._health.start()

    async def _received(self, event: Event) -> None:
        self.last_event_at = self.clock.now()
        await self.dispatcher.handle(event)

    def health(self) -> Health:
        """What /healthz reports: is the platform connection up, is anything stuck."""
        adapter = next((t for t in self._tasks if t.get_name().startswith("adapter-")), None)
        return Health(
            adapter=self.adapter.name,
            running=adapter is not None and not adapter.done(),
            logged_in=self.platform.logged_in,
            last_event_at=self.last_event_at,
            outbox_pending=self.outbox.pending,
            outbox_held=self.outbox.held,
            last_job_at=self.last_job_at,
            account=self.account_name if self.account is not None else None,
            rooms_served=(len(self.services.rooms.held)
                          if isinstance(self.services.rooms, RoomLeases) else None),
        )

    async def warm_up(self) -> None:
        """Load, in threads, what first uses would: the core's word segmenter (activity
        counters), its numeral parser, and what each group's plugins declare, once per
        plugin and settings; and every group's 小黑屋, in two statements."""
        await asyncio.to_thread(load_segmenter)
        await asyncio.to_thread(load_numerals)
        try:
            await self.services.blackroom.preload(list(self.config.groups), self.clock.now())
        except Exception:
            log.warning("reading the 小黑屋 ahead failed; each group reads its own",
                        exc_info=True)
        done: set[tuple[object, object]] = set()
        for group in self.config.groups.values():
            for enabled in group.plugins:
                warm = enabled.plugin.warm_up
                # Once per plugin and distinct settings: 100 groups with the same quiz
                # banks warm them once, not 100 times.
                if warm is None:
                    continue
                key = (warm, _settings_key(enabled.settings))
                if key in done:
                    continue
                done.add(key)
                try:
                    await asyncio.to_thread(warm, enabled.settings, self.config.base_dir)
                except Exception:
                    log.warning("warming up %s for %s failed; it loads on first use",
                                enabled.plugin.name, group.id, exc_info=True)

    async def warm_up_and_settle(self) -> None:
        """What a running bot does in the background once started (a simulated clock's
        runtime skips it; a bench standing for a real bot calls it)."""
        await self.warm_up()
        settle_heap()

    async def stop(self) -> None:
        """Tear down in reverse order; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._health is not None:
            await self._health.close()
        self.scheduler.shutdown()
        await self.adapter.close()
        self.outbox.stop_running()
        for task in reversed(self._tasks):
            if task.get_name() != "outbox":  # it ends after its current send
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        try:
            if not self.simulated:
                timeout = self.config.config.outbox.stop_timeout.total_seconds()
                await self.outbox.finish(timeout)
            await self.outbox.flush()
            await self.activity.flush()
            await self.scheduler.heartbeat()
            if isinstance(self.services.rooms, RoomLeases):  # the others take over now
                await self.services.rooms.release_all()
        finally:
            await self.db.close()
            if self.lease is not None:
                await self.lease.release()

    def abandon(self) -> None:
        """Tests: die like a killed process (no flush, no drain); what the kernel would
        release (connections, locks) is released."""
        self._stopped = True
        self.scheduler.shutdown()
        for task in self._tasks:
            task.cancel()
        self.db.engine.sync_engine.dispose(close=False)
        if self.lease is not None:
            self.lease.drop()

    async def wait(self) -> None:
        """Until the adapter stops (the console's script ended, or the platform closed)."""
        adapter_tasks = [t for t in self._tasks if t.get_name().startswith("adapter-")]
        if adapter_tasks:
            await adapter_tasks[0]

    async def reload(self) -> list[ConfigIssue]:
        """Re-read the config off the event loop, within a time limit; an invalid one is
        refused (its problems returned) and the running one kept."""
        try:
            new = await load_config_off_loop(self.reload_from or self.config.path, self.plugins,
                                             self.builtins,
                                             self.config.config.limits.reload_seconds)
        except ConfigError as exc:
            log.warning("reload refused:\n%s", exc)
            return exc.issues
        self.config = self.services.config = new
        self.dispatcher.rate.per_minute = new.config.limits.commands_per_minute
        self.scheduler.set_jobs(self._scheduled_jobs())
        log.info("config reloaded from %s", new.path)
        return []

    async def _activity_flushes(self, every: float = 5.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.activity.flush()
            except Exception:
                log.warning("could not write activity counters; will retry", exc_info=True)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(60)
            try:
                await self.scheduler.heartbeat()
            except Exception:
                log.warning("could not record the heartbeat", exc_info=True)

    # -- time -----------------------------------------------------------------------------

    async def advance_to(self, target: datetime) -> None:
        """Simulated time: fire every job due up to `target`, sending as it goes."""
        await self.activity.flush()  # jobs on the way (a digest) read the counters
        await self.scheduler.advance_to(target)
        await self.outbox.drain()

    async def jump_to(self, target: datetime) -> None:
        """Simulated time: set the clock without firing what lies between."""
        await self.scheduler.jump_to(target)
        await self.outbox.drain()

    async def settle(self) -> None:
        """Simulated time: send whatever the budget allows now."""
        await self.outbox.drain()

    # -- jobs -----------------------------------------------------------------------------

    def _scheduled_jobs(self) -> list[ScheduledJob]:
        digest = DigestJob(self.config, self.builtins + self.plugins, self.db.transaction,
                           self.outbox, self.activity.flush).scheduled()
        jobs = [digest] if digest is not None else []
        self._hooks.clear()  # the config's: built with its jobs
        jobs.append(purge.nightly(self.db, self.clock, self.config.config.database.retention,
                                  ZoneInfo(self.config.config.bot.timezone)))
        for group in self.config.groups.values():
            for enabled in group.plugins:
                for job in enabled.plugin.jobs:
                    for schedule in job.when(enabled.settings):
                        jobs.append(self._scheduled(group, enabled, job, schedule))
        return jobs

    def _scheduled(
        self, group: GroupSetup, enabled: EnabledPlugin, job: Job[Any], schedule: Schedule
    ) -> ScheduledJob:
        async def run(slot: datetime, late: bool) -> None:
            if self.platform.is_removed(group.id):  # the bot is not in the group any more
                log.info("skipped %s for %s: the bot was removed from it", job.name, group.id)
                return
            ctx = JobContext(
                enabled.plugin,
                group,
                enabled.settings,
                self.clock.now(),
                self.services,
                slot=slot,
                payload=schedule.payload,
                late=late,
                unit=CURRENT_SLOT.get(),  # its posts are written when the slot is marked done
            )
            await job.run(ctx)

        key = f"{enabled.plugin.name}.{job.name}.{schedule.key}"
        trigger = make_trigger(schedule, group.timezone, seed=f"{group.id}|{key}")
        return ScheduledJob(key, group.id, trigger, run, background=schedule.background,
                            prepare=self._fanout_hook(enabled.plugin.name, job))

    def _fanout_hook(self, plugin: str, job: Job[Any]) -> Prepare | None:
        """The scheduler's fan-out hook for a plugin's job: one object for all its groups
        (entered once per fan-out), handing the job's own hook the groups' contexts."""
        if job.prepare is None:
            return None
        if (plugin, job.name) not in self._hooks:
            prepare = job.prepare

            def hook(jobs: Sequence[ScheduledJob]) -> AbstractAsyncContextManager[None]:
                return prepare([self._job_context(j.group_id, plugin) for j in jobs])

            self._hooks[(plugin, job.name)] = hook
        return self._hooks[(plugin, job.name)]

    def _job_context(self, group_id: str, plugin: str) -> JobContext[Any]:
        """A context of the plugin in the group, at the fan-out's moment (no slot's payload)."""
        group = self.config.groups[group_id]
        enabled = next(e for e in group.plugins if e.plugin.name == plugin)
        now = self.clock.now()
        return JobContext(enabled.plugin, group, enabled.settings, now, self.services, slot=now)

    async def _plugins_started(self, rooms: set[str] | None = None) -> None:
        now = self.clock.now()
        for group in self.config.groups.values():
            if rooms is not None and group.id not in rooms:
                continue
            for enabled in group.plugins:
                if enabled.plugin.on_start is None or self.platform.is_removed(group.id):
                    continue
                ctx = JobContext(enabled.plugin, group, enabled.settings, now, self.services,
                                 slot=now)
                try:
                    await enabled.plugin.on_start(ctx)
                except Exception:  # one plugin's failure must not keep the bot down
                    log.exception("%s: start-up of %s failed", group.id, enabled.plugin.name)
        await self._after_job()

    async def _after_job(self) -> None:
        self.last_job_at = self.clock.now()
        if self.simulated:
            await self.outbox.drain()  # posts go out at the job's own time
        else:
            await self.outbox.flush()  # a timed post is persisted before anything else

    def _may_send(self, outgoing: Outgoing) -> bool:
        """Posts only go to groups set up in the config; replies answer whoever asked;
        nothing goes to a group the bot was removed from (dropped, never retried)."""
        if self.platform.is_removed(outgoing.group_id):
            log.warning("not sending to %s: the bot was removed from it", outgoing.group_id)
            return False
        if outgoing.kind is OutKind.POST:
            return outgoing.group_id in self.config.groups
        return True
