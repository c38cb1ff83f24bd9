"""Issue 18: several accounts in bot.yaml, and the room leases that decide which one speaks.

The leases are PostgreSQL's (SQLite is one process); their rules are checked here with two
lease services on one database, in one process. tests/wechaty/test_accounts.py checks the
same with real bot processes and gateways.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.adapters.base import AdapterError
from bot.app import load, select_account
from bot.config import ConfigError
from bot.config.models import LeaseSettings
from bot.events import Outgoing, OutKind
from bot.leases import BOT_WIDE, RoomLeases, operator_account, running_accounts
from bot.storage import Database
from bot.testing import write_config
from tests.conftest import PG_ENV, _pg_execute, pg_admin_url

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = [
    {"name": "main", "endpoint": "10.0.0.1:8788", "token": "t1",
     "outbox": {"per_minute": 8, "daily_cap": 500}},
    {"name": "backup", "endpoint": "10.0.0.2:8788", "token": "t2"},
]


def _config(tmp_path: Path, **extra: object) -> Path:
    return write_config(tmp_path, {"adapter": "wechaty", "outbox": {"burst": 3},
                                   "groups": {"g": {"name": "读书会"}}, **extra})


# -- bot.yaml ------------------------------------------------------------------------------


def test_without_accounts_one_implicit_account_runs_as_before(tmp_path):
    loaded = load(_config(tmp_path, wechaty={"endpoint": "h:1", "token": "t"}))
    assert select_account(loaded, None) is None
    with pytest.raises(AdapterError, match="lists no `accounts:`"):
        select_account(loaded, "main")


def test_each_account_has_its_gateway_and_its_own_send_budget(tmp_path):
    loaded = load(_config(tmp_path, accounts=ACCOUNTS))
    main, backup = select_account(loaded, "main"), select_account(loaded, "backup")
    assert (main.endpoint, main.token, backup.endpoint) == ("10.0.0.1:8788", "t1",
                                                            "10.0.0.2:8788")
    # An account's budget overrides the top-level one key by key.
    assert (main.outbox.per_minute, main.outbox.daily_cap, main.outbox.burst) == (8, 500, 3)
    assert backup.outbox == loaded.config.outbox
    assert loaded.config.leases.failover.total_seconds() == 60  # the default


def test_several_accounts_need_one_process_each(tmp_path):
    loaded = load(_config(tmp_path, accounts=ACCOUNTS))
    with pytest.raises(AdapterError, match="one process per account with --account NAME"):
        select_account(loaded, None)
    with pytest.raises(AdapterError, match="--account nobody: not in `accounts:`"):
        select_account(loaded, "nobody")


@pytest.mark.parametrize(("change", "words"), [
    ({"accounts": [*ACCOUNTS, {"name": "main"}]}, "each name once"),
    ({"groups": {"g": {"name": "读书会", "accounts": ["spare"]}}}, "spare not in `accounts:`"),
    ({"accounts": [{"name": "x", "outbox": {"per_minute": -1}}]}, "per_minute"),
    ({"accounts": [{"name": "has space"}]}, "pattern"),
])
def test_account_mistakes_are_refused_at_load(tmp_path, change, words):
    with pytest.raises(ConfigError) as caught:
        load(_config(tmp_path, **{"accounts": ACCOUNTS, **change}))
    assert words in str(caught.value)


def test_a_group_can_name_its_accounts_in_order(tmp_path):
    loaded = load(_config(tmp_path, accounts=ACCOUNTS, groups={
        "g": {"name": "读书会", "accounts": ["backup", "main"]}, "h": {"name": "跑步群"}}))
    assert loaded.config.account_order("g") == ["backup", "main"]
    assert loaded.config.account_order("h") == ["main", "backup"]
    assert loaded.config.account_order("unlisted@chatroom") == ["main", "backup"]


def test_an_operator_s_accounts_are_checked_and_default_to_every_account(tmp_path):
    loaded = load(_config(tmp_path, accounts=ACCOUNTS, operators=[
        {"id": "wxid_op", "accounts": ["backup"]}, {"id": "wxid_all"}]))
    assert loaded.config.operator_accounts("wxid_op") == ["backup"]
    assert loaded.config.operator_accounts("wxid_all") == ["main", "backup"]
    path = _config(tmp_path, accounts=ACCOUNTS, operators=[
        {"id": "wxid_op", "accounts": ["backup", "spare"]}])
    with pytest.raises(ConfigError) as caught:
        load(path)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if text.strip() == "- spare")
    assert f"bot.yaml:{line}" in str(caught.value)
    assert "operators.0.accounts.1" in str(caught.value)
    assert "spare not in `accounts:`" in str(caught.value)


def test_sqlite_refuses_a_second_account_process_and_says_why(tmp_path):
    path = tmp_path / "bot.yaml"
    path.write_text(yaml.safe_dump({"accounts": ACCOUNTS, "groups": {"g": {"name": "读书会"}}},
                                   allow_unicode=True), encoding="utf-8")
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    def start(account: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(path), "--adapter", "console",
             "--database", database, "--account", account],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = start("main")
    try:
        assert first.stdout is not None and "模拟群聊" in first.stdout.readline()
        second = start("backup")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert f"pid {first.pid}" in err and "SQLite serves one process" in err
    finally:
        first.communicate(input="/quit\n", timeout=60)


# -- leases (PostgreSQL) -------------------------------------------------------------------

FAST = LeaseSettings(failover="1s")  # type: ignore[arg-type]


class Account:
    """One account's lease service, as a bot process runs it (without the bot)."""

    def __init__(self, db: Database, name: str, order: list[str], rooms: set[str]) -> None:
        self.gained: list[dict[str, object]] = []
        self.lost: list[set[str]] = []
        self.logged_in = True

        async def gained(rooms: dict[str, object]) -> None:
            self.gained.append(rooms)

        async def lost(rooms: set[str]) -> None:
            self.lost.append(rooms)

        self.leases = RoomLeases(db, name, lambda _room: order, FAST, on_gained=gained,
                                 on_lost=lost, ready=lambda: self.logged_in)
        self.leases.present = set(rooms)

    @property
    def serving(self) -> set[str]:
        return {room for room in self.leases.held if self.leases.serves(room)}


@pytest.fixture
async def pg():
    """A PostgreSQL database of this test's own (leases are PostgreSQL's: SQLite is one
    process). Required in CI, like every PostgreSQL test."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(f"set {PG_ENV}: leases need PostgreSQL")
    name = f"qunbot_test_{uuid.uuid4().hex[:12]}"
    await _pg_execute(admin, f'CREATE DATABASE "{name}"')
    db = Database(make_url(admin).set(database=name).render_as_string(hide_password=False))
    try:
        await db.migrate()
        yield db
    finally:
        await db.close()
        await _pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _instance_lock(db: Database, account: str):
    from bot.instance import acquire

    return await acquire(db, account)


async def test_a_room_has_one_holder_and_the_first_listed_account_gets_it(pg):
    main_lock = await _instance_lock(pg, "main")  # main's process runs
    try:
        main = Account(pg, "main", ["main", "backup"], {"r1", "r2"})
        backup = Account(pg, "backup", ["main", "backup"], {"r2", "r3"})
        await backup.leases.tick()  # first to look, but main runs: it may want them
        assert backup.serving == set()
        await main.leases.tick()
        assert main.serving == {"r1", "r2", BOT_WIDE}
        await asyncio.sleep(FAST.defer.total_seconds())  # main never took r3: backup does
        await backup.leases.tick()
        assert main.serving == {"r1", "r2", BOT_WIDE} and backup.serving == {"r3"}
        # Rounds go on: nothing changes hands while both renew.
        for _ in range(3):
            await asyncio.gather(main.leases.tick(), backup.leases.tick())
        assert main.serving == {"r1", "r2", BOT_WIDE} and backup.serving == {"r3"}
        assert backup.lost == []
    finally:
        await main_lock.release()


async def test_a_free_room_goes_to_a_lower_account_when_the_preferred_one_is_not_running(pg):
    backup = Account(pg, "backup", ["main", "backup"], {"r2"})
    await backup.leases.tick()
    assert backup.serving == {"r2", BOT_WIDE}


async def test_a_logged_out_holder_lets_go_and_the_other_takes_over_without_taking_back(pg):
    main = Account(pg, "main", ["main", "backup"], {"r1"})
    backup = Account(pg, "backup", ["main", "backup"], {"r1"})
    await main.leases.tick()
    await backup.leases.tick()
    assert main.serving == {"r1", BOT_WIDE} and backup.serving == set()
    main.logged_in = False
    await main.leases.tick()
    assert main.serving == set() and main.lost == [{"r1", BOT_WIDE}]
    await backup.leases.tick()
    assert backup.serving == {"r1", BOT_WIDE}
    [gained] = backup.gained
    assert gained["r1"] is not None  # when r1 was last served: the slots missed since run
    main.logged_in = True
    await main.leases.tick()
    assert main.serving == set()  # back, but a live lease is never taken away


async def test_a_dead_holder_s_rooms_are_taken_once_its_lease_expires(pg):
    main = Account(pg, "main", ["main", "backup"], {"r1"})
    backup = Account(pg, "backup", ["main", "backup"], {"r1"})
    await main.leases.tick()
    await backup.leases.tick()
    assert backup.serving == set()
    # main dies: no more renewals. Its own deadline passes before the row expires.
    await asyncio.sleep(FAST.expires_after.total_seconds() - FAST.renew_every.total_seconds())
    assert main.serving == set()
    await asyncio.sleep(FAST.renew_every.total_seconds() + 0.05)
    await backup.leases.tick()
    assert backup.serving == {"r1", BOT_WIDE}


async def test_releasing_at_stop_hands_rooms_over_at_the_next_round(pg):
    main = Account(pg, "main", ["main", "backup"], {"r1"})
    backup = Account(pg, "backup", ["main", "backup"], {"r1"})
    await main.leases.tick()
    await main.leases.release_all()
    await backup.leases.tick()
    assert backup.serving == {"r1", BOT_WIDE} and main.serving == set()


# -- what moves with a lease: queued messages and missed slots (PostgreSQL) ----------------


def _outbox(db: Database, account: str, rooms: set[str], sent: list[tuple[str, str]],
            shown: Callable[[Outgoing], str] = lambda outgoing: outgoing.text):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.clock import SystemClock
    from bot.config.models import OutboxSettings
    from bot.events import Sent
    from bot.outbox import Outbox

    outbox = Outbox(db, SystemClock(), OutboxSettings(group_jitter=(timedelta(), timedelta())),
                    account=account, timezone=ZoneInfo("Asia/Shanghai"))
    outbox.leased = True
    outbox.serves = lambda outgoing: outgoing.group_id is None or outgoing.group_id in rooms

    async def transport(outgoing) -> Sent:
        sent.append((account, shown(outgoing)))
        return Sent(message_id=f"{account}-{len(sent)}")

    outbox.attach(transport)
    return outbox


async def test_a_message_queued_before_a_lease_moved_is_sent_by_the_new_holder_only(pg):
    sent: list[tuple[str, str]] = []
    rooms_a, rooms_b = {"r1"}, set()
    a, b = _outbox(pg, "main", rooms_a, sent), _outbox(pg, "backup", rooms_b, sent)
    a.hold()  # main's gateway is slow: nothing goes out before the lease moves
    for text in ("回复一", "回复二"):
        a.put(Outgoing(text=text, kind=OutKind.REPLY, group_id="r1"))
    a.put(Outgoing(text="给运营", kind=OutKind.DM, to="wxid_op"))
    await a.flush()  # written, still queued
    rooms_a.discard("r1")  # the lease moved to backup (main checks again at each send)
    rooms_b.add("r1")
    await b.adopt({"r1"})
    a.release()
    await a.drain()
    await b.drain()
    await b.adopt({"r1"})  # adopting again finds nothing left to send
    await b.drain()
    assert sorted(sent) == [("backup", "回复一"), ("backup", "回复二"), ("main", "给运营")]
    fresh = _outbox(pg, "backup", {"r1"}, sent)  # a restart of backup: nothing queued
    await fresh.load()
    await fresh.adopt({"r1"})
    assert fresh.pending == 0


async def test_a_slot_missed_while_no_one_served_the_room_runs_once_for_its_new_holder(pg):
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from bot.clock import ManualClock
    from bot.plugin import Schedule
    from bot.scheduler import ScheduledJob, Scheduler, make_trigger

    fired: list[tuple[str, datetime]] = []
    nine = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai

    def scheduler(account: str, serves: set[str]) -> Scheduler:
        clock = ManualClock(nine + timedelta(minutes=5))
        made = Scheduler(pg, clock, timedelta(minutes=30))
        made.serves = lambda room: room in serves

        async def run(slot: datetime, late: bool) -> None:
            fired.append((account, slot))

        trigger = make_trigger(Schedule(key="am", at=time(9)), ZoneInfo("Asia/Shanghai"))
        made.set_jobs([ScheduledJob("post.daily.am", "r1", trigger, run)])
        return made

    main, backup = scheduler("main", set()), scheduler("backup", {"r1"})
    assert not await main.fire(main.jobs[0], nine)  # not its room: not even claimed
    last_served = nine - timedelta(minutes=1)  # main died at 08:59
    await backup.catch_up_room("r1", last_served)
    await backup.catch_up_room("r1", last_served)  # a second takeover: the ledger says done
    assert fired == [("backup", nine)]


# -- operators' direct messages: through an account that reaches them (PostgreSQL) --------


async def _queued(db: Database) -> list[tuple[str, str | None, str]]:
    from sqlalchemy import select

    from bot.storage.models import OutboxMessage

    async with db.transaction() as session:
        rows = await session.execute(select(
            OutboxMessage.account, OutboxMessage.to_id, OutboxMessage.status)
            .where(OutboxMessage.group_id.is_(None)).order_by(OutboxMessage.id))
        return [tuple(row) for row in rows]


async def test_an_operator_only_backup_reaches_gets_the_digest_from_backup_once(pg, tmp_path):
    from datetime import UTC, datetime

    from bot.digest.report import DigestJob

    loaded = load(_config(tmp_path, accounts=ACCOUNTS, operators=[
        {"id": "wxid_op", "accounts": ["backup"]}, {"id": "wxid_all"}]))
    locks = [await _instance_lock(pg, name) for name in ("main", "backup")]  # both running
    try:
        main = Account(pg, "main", ["main", "backup"], {"g"})
        await main.leases.tick()  # main holds "*": it computes the digest
        assert BOT_WIDE in main.serving and main.leases.running == {"main", "backup"}
        sent: list[tuple[str, str]] = []
        a = _outbox(pg, "main", {"g"}, sent, shown=lambda outgoing: outgoing.to or "")
        b = _outbox(pg, "backup", set(), sent, shown=lambda outgoing: outgoing.to or "")
        a.reach = lambda outgoing: operator_account(loaded.config, outgoing.to, "main",
                                                    main.leases.running)

        async def nothing() -> None:
            return None

        job = DigestJob(loaded, [], pg.transaction, a, nothing)
        await job.send(datetime(2026, 12, 2, 0, 30, tzinfo=UTC))
        await a.drain()
        await a.adopt({"g"})  # main's next lease rounds never send backup's row
        await a.drain()
        assert sent == [("main", "wxid_all")]
        assert ("backup", "wxid_op", "queued") in await _queued(pg)
        await b.adopt(set())  # backup's lease round (it serves no room) picks it up
        await b.drain()
        await b.adopt(set())
        await b.drain()
        assert sent == [("main", "wxid_all"), ("backup", "wxid_op")]
        assert sorted(await _queued(pg)) == [("backup", "wxid_op", "sent"),
                                             ("main", "wxid_all", "sent")]
        for name in ("main", "backup"):  # restarts: nothing left to send
            fresh = _outbox(pg, name, set(), sent)
            await fresh.load()
            await fresh.adopt(set())
            assert fresh.pending == 0
    finally:
        for lock in locks:
            await lock.release()


async def test_an_operator_with_no_accounts_is_reached_through_the_first_running_one(pg,
                                                                                    tmp_path):
    loaded = load(_config(tmp_path, accounts=ACCOUNTS, operators=[{"id": "wxid_all"}]))
    sent: list[tuple[str, str]] = []
    b = _outbox(pg, "backup", set(), sent)  # backup's process queues (it holds "*")

    async def running() -> set[str]:
        async with pg.transaction() as session:
            return await running_accounts(session, ["main", "backup"])

    b.reach = lambda outgoing: operator_account(loaded.config, outgoing.to, "backup", alive)
    alive = await running()
    assert alive == set()  # main is not running: backup sends it itself
    b.put(Outgoing(text="日报一", kind=OutKind.DM, to="wxid_all"))
    await b.drain()
    assert sent == [("backup", "日报一")]
    assert operator_account(loaded.config, "wxid_member", "backup", {"main"}) == "backup"
    lock = await _instance_lock(pg, "main")
    try:
        alive = await running()
        assert alive == {"main"}  # main runs now: listed first, it sends
        b.put(Outgoing(text="日报二", kind=OutKind.DM, to="wxid_all"))
        await b.drain()
        await b.adopt(set())
        await b.drain()
        a = _outbox(pg, "main", set(), sent)
        a.leased = True
        await a.adopt(set())
        await a.drain()
        assert sent == [("backup", "日报一"), ("main", "日报二")]
    finally:
        await lock.release()


async def test_an_operator_only_a_stopped_account_reaches_gets_the_message_when_it_starts(
        pg, tmp_path):
    """main cannot deliver to a contact of backup only: the row waits for backup (sending
    it through main would lose it, and whether main has yet seen backup's process start is
    a race)."""
    loaded = load(_config(tmp_path, accounts=ACCOUNTS, operators=[
        {"id": "wxid_op", "accounts": ["backup"]}]))
    sent: list[tuple[str, str]] = []
    a = _outbox(pg, "main", {"g"}, sent, shown=lambda outgoing: outgoing.to or "")
    a.leased = True
    a.reach = lambda outgoing: operator_account(loaded.config, outgoing.to, "main", set())
    a.put(Outgoing(text="机器人被移出群", kind=OutKind.DM, to="wxid_op"))
    await a.drain()
    assert sent == [] and await _queued(pg) == [("backup", "wxid_op", "queued")]
    b = _outbox(pg, "backup", set(), sent, shown=lambda outgoing: outgoing.to or "")
    b.leased = True
    await b.load()  # backup's process starts
    await b.drain()
    assert sent == [("backup", "wxid_op")]
    assert await _queued(pg) == [("backup", "wxid_op", "sent")]
