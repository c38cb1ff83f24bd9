"""Issue 18 end to end: two bot processes (two WeChat accounts, each at its own fake
gateway) on one PostgreSQL database, with rooms both accounts are in and rooms only one is.

What members see: one answer per message in a shared room, one timed post per slot; when
the serving process is killed its rooms move to the other within the failover time, every
queued reply goes out once and what members said meanwhile is answered; a second process
for an account is refused; an operator only one account reaches hears from that one.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PG_ENV, pg_admin_url
from tests.wechaty.accounts_world import (
    FAILOVER,
    MEMBERS,
    ONLY_A,
    ONLY_B,
    SHARED,
    World,
    two_accounts,
)
from tests.wechaty.live import wait_until


@pytest.fixture
async def world(tmp_path) -> AsyncIterator[World]:
    admin = pg_admin_url()  # required in CI
    if admin is None:
        pytest.skip(f"set {PG_ENV}: several accounts need PostgreSQL")
    async with two_accounts(tmp_path, admin) as running:
        yield running


async def _quiet(seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)  # room for a second answer to show up (network time)


@pytest.mark.timeout(120)
async def test_a_shared_room_gets_one_answer_and_one_timed_post(world):
    await world.start("a")
    await world.start("b")
    await world.wait_held(SHARED, "a")  # listed first: a serves the shared room
    await world.wait_held(ONLY_B, "b")
    # A daily slot a few seconds from now, set while both run (an operator's /reload).
    slot = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(seconds=8)
    groups = world.config["groups"]
    groups[SHARED]["plugins"] = {**groups[SHARED]["plugins"],
                                 "tick_test": {"at": slot.strftime("%H:%M:%S")}}
    world.write()
    world.say(ONLY_A, "wxid_op", "/reload")
    world.say(ONLY_B, "wxid_op", "/reload")
    await wait_until(lambda: all(world.sent(room, "配置已重新加载") for room in (ONLY_A, ONLY_B)))

    world.say(SHARED, "wxid_alice", "打卡")
    world.say(ONLY_A, "wxid_bob", "打卡")
    world.say(ONLY_B, "wxid_carol", "打卡")
    await wait_until(lambda: all(world.sent(r, "打卡成功") for r in (SHARED, ONLY_A, ONLY_B)))
    await _quiet()
    assert [name for name, _ in world.sent(SHARED, "打卡成功")] == ["a"]
    assert [name for name, _ in world.sent(ONLY_A, "打卡成功")] == ["a"]
    assert [name for name, _ in world.sent(ONLY_B, "打卡成功")] == ["b"]

    # The daily slot passes while both run: one post, from the room's account.
    await wait_until(lambda: world.sent(SHARED, "定时消息"), timeout=30)
    await _quiet(1.0)
    assert [name for name, _ in world.sent(SHARED, "定时消息")] == ["a"]


@pytest.mark.timeout(120)
async def test_killing_the_serving_process_moves_its_rooms_and_loses_nothing(world):
    # a sends one message every 10 s: replies queue up behind the first.
    world.config["accounts"][0]["outbox"] = {"per_minute": 6, "burst": 1}
    world.write()
    a = await world.start("a")
    await world.wait_held(SHARED, "a")
    await world.start("b")
    await world.wait_held(ONLY_B, "b")
    for member in MEMBERS:
        world.say(SHARED, member, "打卡")
    await wait_until(lambda: world.sent(SHARED, "打卡成功"))
    await _quiet(0.5)  # the other four are queued, and written (a's group commit)

    a.send_signal(signal.SIGKILL)
    await a.wait()
    killed = time.monotonic()
    world.say(SHARED, "wxid_carol", "/help")  # said while no process serves the room
    taken = await world.wait_held(SHARED, "b", timeout=FAILOVER * 10)  # 1.6-1.8 s measured

    def checked_in() -> list[str]:  # b may merge the queued confirmations (coalescing)
        return [m for _, sent in world.sent(SHARED, "打卡成功") for m in sent.mentions]

    await wait_until(lambda: len(checked_in()) >= len(MEMBERS), timeout=30)
    await _quiet()
    replies = world.sent(SHARED, "打卡成功")
    assert sorted(checked_in()) == sorted(MEMBERS)  # each member once: none lost or doubled
    assert [name for name, _ in replies][:1] == ["a"]
    assert {name for name, _ in replies[1:]} == {"b"}
    await wait_until(lambda: world.sent(SHARED, "可用的命令"))
    assert [name for name, _ in world.sent(SHARED, "可用的命令")] == ["b"]  # heard, answered
    print(f"\nfailover: the shared room taken by b {taken:.2f} s after a was killed, its "
          f"queue sent by {time.monotonic() - killed:.2f} s "
          f"after a was killed (leases.failover {FAILOVER} s)")

    # b answers in the shared room now; a restarted takes nothing back.
    await world.start("a")
    await world.wait_held(ONLY_A, "a")
    world.say(SHARED, "wxid_bob", "/help")
    world.say(ONLY_A, "wxid_bob", "/help")
    await wait_until(lambda: len(world.sent(SHARED, "可用的命令")) == 2
                     and world.sent(ONLY_A, "可用的命令"))
    await _quiet()
    assert [name for name, _ in world.sent(SHARED, "可用的命令")] == ["b", "b"]
    assert [name for name, _ in world.sent(ONLY_A, "可用的命令")] == ["a"]
    assert await world.holder(SHARED) == "b"


@pytest.mark.timeout(120)
async def test_a_second_process_for_the_same_account_is_refused(world):
    first = await world.start("a")
    second = await world.start("a", expect_running=False)
    assert await asyncio.wait_for(second.wait(), 60) == 2
    refusal = world.log("a")
    assert f"pid {first.pid}" in refusal and "another qunbot process" in refusal
    assert "account a" in refusal and "since " in refusal
    assert first.returncode is None  # the first runs on


@pytest.mark.timeout(120)
async def test_a_logged_out_account_s_rooms_move_and_stay_when_it_is_back(world):
    await world.start("a")
    await world.wait_held(SHARED, "a")
    await world.start("b")
    await world.wait_held(ONLY_B, "b")
    world.gateways["a"].log_out()  # kicked out on the phone: a's process runs on
    await world.wait_held(SHARED, "b", timeout=FAILOVER * 10)
    world.say(SHARED, "wxid_bob", "/help")
    await wait_until(lambda: world.sent(SHARED, "可用的命令"))
    world.gateways["a"].ask_for_scan()
    world.gateways["a"].confirm_scan()  # back; the shared room stays with b
    await world.wait_held(ONLY_A, "a", timeout=FAILOVER * 10)
    world.say(SHARED, "wxid_bob", "/帮助")
    await wait_until(lambda: len(world.sent(SHARED, "可用的命令")) == 2)
    await _quiet()
    assert [name for name, _ in world.sent(SHARED, "可用的命令")] == ["b", "b"]


@pytest.mark.timeout(90)
async def test_an_operator_only_b_reaches_hears_from_b_when_a_is_removed_from_a_room(world):
    world.write(operators=[{"id": "wxid_op", "accounts": ["b"]}])  # a contact of b only
    await world.start("a")
    await world.start("b")
    await world.wait_held(ONLY_A, "a")
    world.gateways["a"].leave_room(ONLY_A, ["wxid_bot_a"], remover="wxid_alice")

    def told(account: str) -> list[str]:
        return [sent.text for sent in world.gateways[account].sent
                if sent.conversation_id == "wxid_op" and "移出群" in sent.text]

    await wait_until(lambda: told("b"), timeout=30)  # a queued it; b's process sent it
    await _quiet(1.0)
    assert len(told("b")) == 1 and told("a") == []
