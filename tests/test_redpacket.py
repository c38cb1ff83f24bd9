"""手气红包: the split, grabbing once each, the announcement, refunds, pools, concurrency."""

from __future__ import annotations

import asyncio
import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import ledger
from bot.storage import Database
from bot.storage.models import JobRun
from bot.testing import texts
from plugins.redpacket import service
from plugins.redpacket.models import RedPacket, RedPacketShare

CONFIG = {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"],
                           "plugins": {"redpacket": {"expires_after": "24h"}, "points": {}}}}}
NOW = "2026-11-23 20:00"




@settings(max_examples=300, deadline=None)
@given(count=st.integers(1, 200), extra=st.integers(0, 100_000), seed=st.integers())
def test_split_every_share_at_least_one_and_the_sum_exact(count: int, extra: int,
                                                          seed: int) -> None:
    shares = service.split(count + extra, count, random.Random(seed))
    assert len(shares) == count
    assert min(shares) >= 1
    assert sum(shares) == count + extra


def test_split_is_random_but_fair_on_average() -> None:
    rng = random.Random(1)
    totals = [0] * 5
    for _ in range(4000):
        for position, share in enumerate(service.split(100, 5, rng)):
            totals[position] += share
    assert all(abs(t / 4000 - 20) < 1.5 for t in totals)  # every position expects 20
    assert len({tuple(service.split(100, 5, rng)) for _ in range(50)}) > 40


async def test_send_grab_each_once_and_the_luckiest_announced(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 100)
    sent = texts(await chat.say("amy", "发红包 100 3 周末快乐"))
    assert "amy 发了一个红包：100 积分，3 份。「周末快乐」" in sent[0]
    assert await chat.balance("amy") == 0  # charged once, at send time
    first = await chat.say("bo", "抢")
    assert "抢到" in first[0].text and first[0].mentions == ("bo",)
    assert "已经抢过" in texts(await chat.say("bo", "抢红包"))[0]
    await chat.say("cy", "抢红包")
    last = texts(await chat.say("amy", "抢"))
    assert "已被抢完" in last[-1] and "手气最佳" in last[-1]
    got = {m: await chat.balance(m) for m in ("amy", "bo", "cy")}
    assert sum(got.values()) == 100 and min(got.values()) >= 1
    best = max(got, key=lambda m: got[m])
    assert f"手气最佳：{best}（{got[best]} 积分）" in last[-1]
    assert len(re.findall(r"^(amy|bo|cy)：\d+$", last[-1], re.M)) == 3  # everyone's share


async def test_a_bare_grab_with_nothing_to_grab_stays_silent(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert texts(await chat.say("dan", "抢")) == []  # people say 抢 in passing
    assert texts(await chat.say("dan", "抢 沙发")) == []
    assert "没有可以抢" in texts(await chat.say("dan", "抢红包"))[0]
    assert "没有可以抢" in texts(await chat.say("dan", "/grab"))[0]
    await chat.give("amy", 10)
    await chat.say("amy", "发红包 10 2")
    await chat.say("dan", "抢")
    assert "已经抢过" in texts(await chat.say("dan", "抢"))[0]  # a packet is open: answered
    await chat.advance("1d")
    assert texts(await chat.say("dan", "抢")) == []  # expired: silent again


async def test_two_packets_at_once_are_grabbed_oldest_first_once_each(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 10)
    await chat.give("bo", 20)
    await chat.say("amy", "发红包 10 2")
    await chat.say("bo", "发红包 20 2")
    assert "来自 amy" in texts(await chat.say("cy", "抢"))[0]
    assert "来自 bo" in texts(await chat.say("cy", "抢"))[0]
    assert "已经抢过" in texts(await chat.say("cy", "抢"))[0]
    first = texts(await chat.say("dan", "抢"))
    assert "来自 amy" in first[0] and "amy 的红包" in first[-1] and "已被抢完" in first[-1]
    second = texts(await chat.say("dan", "抢"))
    assert "来自 bo" in second[0] and "bo 的红包" in second[-1]
    assert await chat.balance("cy") + await chat.balance("dan") == 30


async def test_bad_commands_and_short_balances_change_nothing(make_chat) -> None:
    chat = await make_chat({**CONFIG, "limits": {"commands_per_minute": 100}}, now=NOW)
    await chat.give("amy", 50)
    for usage in ("发红包", "发红包 abc", "发红包 很多 积分", "发红包 100", "发红包 -100 10",
                  "发红包 100 10abc", "发红包 1.5 2", "发红包 ①⓪ ②"):
        assert "用法" in texts(await chat.say("amy", usage))[0], usage
    short = texts(await chat.say("amy", "发红包 100 10"))[0]
    assert short == "你只有 50 积分，不够发 100 积分的红包。"
    assert "每份至少 1" in texts(await chat.say("amy", "发红包 5 10"))[0]  # more shares
    assert "份数" in texts(await chat.say("amy", "发红包 50 0"))[0]
    assert "份数" in texts(await chat.say("amy", "发红包 50 1000"))[0]
    assert "份数" in texts(await chat.say("amy", "发红包 50 99999999999999999999"))[0]
    assert "10000" in texts(await chat.say("amy", "发红包 99999999999999999999 10"))[0]
    assert "10000" in texts(await chat.say("amy", "发红包 20000 10"))[0]
    assert await chat.balance("amy") == 50
    async with chat.runtime.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(RedPacket)) == 0
        charges = await session.scalar(select(func.count()).select_from(ledger.PointsEntry)
                                       .where(ledger.PointsEntry.amount < 0))
    assert charges == 0


async def test_units_full_width_digits_and_invisible_characters_are_understood(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 100)
    sent = texts(await chat.say("amy", "发红包 ２０ ２ 🎉 新年\u202e快乐\n  大家好"))[0]
    assert "20 积分，2 份。「🎉 新年快乐 大家好」" in sent
    assert "30 积分，3 份" in texts(await chat.say("amy", "发红包 30积分 3个 周末"))[0]
    assert "10 积分，2 份" in texts(await chat.say("amy", "发红包 10\u200b 2"))[0]
    long = texts(await chat.say("amy", "发红包 5 1 " + "福" * 80))[0]
    assert "福" * 50 + "」" in long
    assert await chat.balance("amy") == 100 - 20 - 30 - 10 - 5


async def test_unclaimed_shares_go_back_after_expiry(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 100)
    await chat.say("amy", "发红包 100 4")
    await chat.say("bo", "抢")
    grabbed = await chat.balance("bo")
    assert texts(await chat.advance("23h")) == []
    expired = texts(await chat.advance("1h"))
    assert any("已过期" in t and f"{100 - grabbed} 积分已退回" in t for t in expired)
    assert await chat.balance("amy") == 100 - grabbed
    assert "没有可以抢" in texts(await chat.say("cy", "抢红包"))[0]
    assert texts(await chat.advance("2d")) == []  # refunded once


async def test_packets_write_nothing_to_the_job_ledger(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 10)
    await chat.say("amy", "发红包 10 2")
    await chat.advance("3d")
    async with chat.runtime.db.transaction() as session:
        runs = await session.scalar(select(func.count()).select_from(JobRun)
                                    .where(JobRun.job.like("redpacket.%")))
        packet = await session.scalar(select(RedPacket))
    assert packet is not None and packet.status == "expired"  # its timer did fire
    assert runs == 0  # no periodic sweep: three days, not 288 ledger rows


async def test_packets_survive_a_restart_and_expire_on_time(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 30)
    await chat.say("amy", "发红包 30 2")
    chat = await chat.restart(after="1h")
    assert "抢到" in texts(await chat.say("bo", "抢"))[0]  # the start re-armed the timer
    assert texts(await chat.advance("1379m")) == []
    expired = texts(await chat.advance("1m"))  # nobody speaks: the timer refunds on time
    assert len(expired) == 1 and "已过期，1/2 份被领取" in expired[0]
    assert await chat.balance("amy") + await chat.balance("bo") == 30


async def test_packets_that_expired_while_the_bot_was_down_are_refunded(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 30)
    await chat.say("amy", "发红包 30 2")
    await chat.say("bo", "抢")
    chat = await chat.restart(after="30h")  # the start refunds it, before anyone speaks
    refunded = [d.text for d in chat.sent]
    assert len(refunded) == 1 and "已过期" in refunded[0]
    assert texts(await chat.say("cy", "抢")) == []
    assert await chat.balance("amy") + await chat.balance("bo") == 30
    async with chat.runtime.db.transaction() as session:
        packet = await session.scalar(select(RedPacket))
        assert packet is not None and packet.status == "expired"
    assert texts(await chat.advance("2d")) == []  # refunded once


async def test_pool_and_scheduled_system_packets(make_chat) -> None:
    cfg = {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"], "plugins": {
        "redpacket": {"scheduled": [{"at": "21:00", "total": 20, "count": 2,
                                     "greeting": "晚安"}]}}}}}
    chat = await make_chat(cfg, now=NOW)
    assert "只有管理员" in texts(await chat.say("cy", "红包池 充值 100"))[0]
    assert "红包池只有 0" in texts(await chat.say("bob", "系统红包 10 2"))[0]
    assert "余额 30" in texts(await chat.say("bob", "红包池 充值 30"))[0]
    posts = texts(await chat.advance("1h"))
    assert any("系统红包：20 积分，2 份。「晚安」" in t for t in posts)
    assert "红包池余额：10" in texts(await chat.say("cy", "红包池"))[0]
    await chat.say("cy", "抢")
    await chat.advance("1d")  # the second 21:00 packet finds 10 points: not enough
    assert "不够发 20" in chat.sent[-1].text or any("不够发 20" in t for t in texts(chat.sent))
    await chat.advance("1d")  # yesterday's packet expired: its share went back to the pool
    async with chat.runtime.db.transaction() as session:
        pool = await service.pool_balance(session, chat.group)
    assert pool + await chat.balance("cy") == 30


async def test_fifty_simultaneous_grabs_of_ten_shares(make_chat, database_url,
                                                     started_chats) -> None:
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    await chat.give("amy", 1000)
    await chat.say("amy", "发红包 1000 10")
    chat = await chat.restart(after="1m")  # grabs right after a restart (timers re-armed)
    started_chats.append(chat)
    members = [f"m{n:02}" for n in range(50)]
    await asyncio.gather(*(chat.say(m, "抢") for m in members))
    got = {m: await chat.balance(m) for m in members}
    winners = [m for m, points in got.items() if points > 0]
    assert len(winners) == 10 and sum(got.values()) == 1000
    assert await chat.balance("amy") == 0
    async with chat.runtime.db.transaction() as session:
        shares = list(await session.scalars(select(RedPacketShare)))
        charges = await session.scalar(select(func.count()).select_from(ledger.PointsEntry)
                                       .where(ledger.PointsEntry.member_id == "amy",
                                              ledger.PointsEntry.amount < 0))
    assert sorted(s.member_id for s in shares) == sorted(winners)  # nobody twice
    assert charges == 1
    assert sum("已被抢完" in t for t in texts(chat.sent)) == 1


async def test_service_level_grabs_race_on_separate_sessions(database_url) -> None:
    db = Database(database_url)
    await db.migrate()
    from datetime import UTC, datetime, timedelta
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    try:
        async with db.transaction() as session:
            await ledger.change(session, "g", "amy", 100, ledger.Change("t", "t", now))
            await service.send(session, "g", "amy", "amy", 100, 10, "", now, timedelta(hours=24),
                               random.Random(3))

        async def grab(member: str) -> object:
            async with db.transaction() as session:
                return await service.grab(session, "g", member, member, now)

        results = await asyncio.gather(*(grab(f"m{n % 40}") for n in range(50)))  # 10 twice
        amounts = [r.amount for r in results if isinstance(r, service.Grab)]
        assert len(amounts) == 10 and sum(amounts) == 100
        async with db.transaction() as session:
            assert await ledger.balance(session, "g", "amy") == 0
    finally:
        await db.close()


async def test_digest_counts_packets_and_grabbed_points(make_chat) -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.plugin import DigestQuery
    from plugins.redpacket import plugin as redpacket

    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 10)
    await chat.say("amy", "发红包 10 2")
    await chat.say("bo", "抢")
    day = date(2026, 11, 23)
    query = DigestQuery(("g",), (day,), {"g": ZoneInfo("Asia/Shanghai")})
    async with chat.runtime.db.transaction() as session:
        sent, grabbed = (await redpacket.digest(session, query)).metrics
    assert sent.values == {("g", day): 1}
    assert grabbed.values == {("g", day): await chat.balance("bo")}


async def test_english_groups_see_english(make_chat) -> None:
    cfg = {"groups": {"g": {"name": "club", "owner": "alice", "language": "en",
                            "plugins": {"redpacket": {}, "points": {}}}}}
    chat = await make_chat(cfg, now=NOW)
    await chat.give("amy", 10)
    assert "You have 10 points, not enough" in texts(await chat.say("amy", "发红包 20 2"))[0]
    assert "amy sent a red packet: 10 points in 2 shares" in texts(
        await chat.say("amy", "发红包 10 2"))[0]
    assert "You got" in texts(await chat.say("bo", "抢"))[0]
    done = texts(await chat.say("cy", "抢红包"))
    assert "is all taken" in done[-1] and "Luckiest" in done[-1]
    assert "no red packet" in texts(await chat.say("cy", "抢红包"))[0]
