"""Member activity (用户分层): segments from a few weeks of chatter, /活跃 and /群画像,
members who left, the nightly segment snapshot, and what the counters record."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from bot.activity import ActivityDaily
from bot.plugin import DigestQuery
from plugins.activity.digest import contribute
from plugins.activity.models import ActivitySegmentDay

# Thresholds chosen for the chatter below (defaults are for a 30-day window of a big group).
RULES = {
    "window_days": 14,
    "kol": {"min_share": 0.2, "min_days": 5, "min_mentions": 2},
    "active": {"min_days": 4},
    "ordinary": {"min_messages": 1},
}


def _config(rules: dict = RULES) -> dict:
    return {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["ivy"],
                             "plugins": {"activity": rules}}}}


def _chatter(day: int) -> list[tuple[str, str]]:
    """Who says what on 2026-11-`day` (10:00 local). Over the 14 days up to the 23rd:

    alice  3 a day on the 10th-19th (30), @-mentioned 3 times by bob    → KOL
    erin   4 a day on the 14th-19th (24: a big share), @-mentioned once → active, not KOL
    bob    1 a day on the 10th-19th (10), nobody @-mentions him          → active (10 days)
    carol  once on the 12th and once on the 16th                         → ordinary
    gina   5 a day on the 10th-14th (25), @-mentioned twice; leaves on the 15th
    hank   20 messages on the 8th only: before the window
    dave   joins on the 15th and never speaks; ivy (admin) never speaks → lurkers
    """
    said: list[tuple[str, str]] = []
    if day == 8:
        said += [("hank", f"第{n}条") for n in range(20)]
    if 10 <= day <= 19:
        said += [("alice", "今天读到第十章"), ("alice", "这一段写得真好")]
        said.append(("alice", "@gina 欢迎新朋友" if day in (10, 11) else "大家怎么看"))
        said.append(("bob", "@alice 说得好" if day >= 17 else "打卡"))
    if 10 <= day <= 14:
        said += [("gina", f"我也在读，第{n}页") for n in range(5)]
    if 14 <= day <= 19:
        said += [("erin", f"补充一点（{n}）") for n in range(4)]
    if day == 12:
        said.append(("carol", "读完了"))
    if day == 16:
        said.append(("carol", "@erin 同意"))
    return said


async def _seeded(make_chat, rules: dict = RULES, through: str = "2026-11-23 10:00",
                  database_url: str | None = None):
    chat = await make_chat(_config(rules), now="2026-11-08 09:00", database_url=database_url)
    for day in range(8, 20):
        await chat.advance_to(f"2026-11-{day:02d} 10:00")
        for member, text in _chatter(day):
            await chat.say(member, text)
        if day == 15:
            await chat.leave("gina")
            await chat.join("dave")
    await chat.advance_to(through)
    return chat


def _reply(deliveries) -> str:
    [reply] = deliveries
    return reply.text


# -- segments: /活跃 and /群画像 -------------------------------------------------------------


async def test_each_member_hears_their_own_segment_and_counts(make_chat):
    chat = await _seeded(make_chat)
    # The question is a message of today, alice's only one: neither it nor today counts.
    assert _reply(await chat.say("alice", "/活跃")) == (
        "alice，近 14 天：发言 30 条（全群第 1 名），活跃 10 天，被@ 3 次。你是「KOL」。")
    segment = re.compile(r"你是「(.+)」")
    erin = _reply(await chat.say("erin", "活跃"))  # the keyword works without the slash
    assert segment.search(erin)[1] == "活跃用户"  # big share, but @-mentioned only once
    assert "被@ 1 次" in erin
    assert segment.search(_reply(await chat.say("bob", "/活跃")))[1] == "活跃用户"
    assert segment.search(_reply(await chat.say("carol", "/我的活跃")))[1] == "普通用户"


async def test_asking_on_an_otherwise_silent_day_adds_no_active_day(make_chat):
    chat = await make_chat(_config({}), now="2026-11-16 09:00")  # default rules: active = 8 days
    for day in range(16, 23):
        await chat.advance_to(f"2026-11-{day} 10:00")
        await chat.say("bob", "打卡")
        await chat.say("carol", "打卡")
    await chat.advance_to("2026-11-23 10:00")
    await chat.say("carol", "早")  # a real message: today is carol's 8th day, not bob's
    assert _reply(await chat.say("bob", "/活跃")) == (
        "bob，近 30 天：发言 7 条（全群第 2 名），活跃 7 天，被@ 0 次。你是「普通用户」。")
    assert _reply(await chat.say("carol", "/活跃")) == (
        "carol，近 30 天：发言 8 条（全群第 1 名），活跃 8 天，被@ 0 次。你是「活跃用户」。")


async def test_portrait_counts_segments_and_shows_the_last_seven_days(make_chat,
                                                                     database_url):
    chat = await _seeded(make_chat, database_url=database_url)
    lines = _reply(await chat.say("alice", "/群画像")).splitlines()
    assert lines[0].startswith("「读书会」近 14 天画像：消息 91 条")  # /群画像 is no chatter
    # gina left (not counted), hank spoke only before the window: he, dave and ivy lurk.
    assert lines[1] == "分层：KOL 1 · 活跃 2 · 普通 1 · 潜水 3"
    [trend] = [line for line in lines if line.startswith("近 7 天每日消息")]
    bars, counts = re.fullmatch(r"近 7 天每日消息：(\S+)（(.+)）", trend).groups()
    assert counts == "8 8 8 0 0 0 0"  # the 17th-19th: alice 3, bob 1, erin 4; /群画像 is none
    assert len(bars) == 7 and bars[0] == bars[1] == bars[2] != bars[3] == bars[4] == bars[5]


async def test_thresholds_come_from_the_config(make_chat):
    chat = await _seeded(make_chat)
    before = _reply(await chat.say("alice", "/群画像")).splitlines()[1]
    stricter = {**RULES, "kol": {"min_share": 0.2, "min_days": 5, "min_mentions": 1},
                "active": {"min_days": 12}}
    chat.write_config(_config(stricter))
    chat = await chat.restart()
    after = _reply(await chat.say("alice", "/群画像")).splitlines()[1]
    assert before == "分层：KOL 1 · 活跃 2 · 普通 1 · 潜水 3"
    # erin's one mention now makes her a KOL; bob's 10 days are short of 12: ordinary.
    assert after == "分层：KOL 2 · 活跃 0 · 普通 2 · 潜水 3"


async def test_portrait_is_for_admins_only(make_chat):
    chat = await make_chat(_config(), now="2026-11-23 10:00")
    await chat.say("bob", "大家好")
    refused = _reply(await chat.say("bob", "/群画像"))
    assert "只有管理员" in refused and "分层" not in refused
    assert "分层：" in _reply(await chat.say("ivy", "/群画像"))  # an admin from the config
    assert "分层：" in _reply(await chat.say("alice", "群画像"))  # the owner


async def test_a_member_who_left_is_not_named_in_the_portrait(make_chat):
    chat = await _seeded(make_chat)
    portrait = _reply(await chat.say("alice", "/群画像"))
    assert "KOL 1 ·" in portrait  # counted correctly…
    assert "gina" not in portrait  # …but named as a KOL and as cooling down


async def test_a_member_who_never_spoke_is_told_they_are_a_lurker(make_chat):
    chat = await make_chat(_config(), now="2026-11-23 10:00")
    await chat.say("alice", "早")
    await chat.join("dave")
    reply = _reply(await chat.say("dave", "/活跃"))
    assert "还没有发言" in reply and "潜水用户" in reply


# -- English ---------------------------------------------------------------------------------

ENGLISH = {"groups": {"l": {"name": "Book Club", "language": "en", "timezone": "Europe/London",
                            "plugins": {"activity": {"kol": {"min_messages": 2}}}}}}


async def test_an_english_group_hears_english(make_chat):
    chat = await make_chat(ENGLISH, now="2026-11-20 10:00")
    await chat.say("amy", "hello")
    await chat.say("ben", "@amy hi")
    await chat.advance("1d")
    await chat.say("amy", "reading chapter two")
    await chat.say("ben", "@amy nice")
    assert _reply(await chat.say("amy", "/activity")) == (
        "amy, last 30 days: messages 2 (#1 in the group), days active 2, "
        "@-mentions received 2. You are a KOL.")  # the /activity command is not counted


async def test_english_segment_names_read_correctly(make_chat):
    chat = await make_chat(ENGLISH, now="2026-11-20 10:00")
    await chat.say("ben", "hi all")
    assert _reply(await chat.say("ben", "/activity")).endswith("You are an ordinary member.")


# -- the nightly snapshot --------------------------------------------------------------------


async def _snapshots(chat) -> dict[date, tuple[int, int, int, int]]:
    async with chat.runtime.db.transaction() as session:
        rows = (await session.scalars(select(ActivitySegmentDay))).all()
    return {r.day: (r.kol, r.active, r.ordinary, r.lurker) for r in rows if r.group_id == "g"}


async def test_the_nightly_snapshot_keeps_each_days_counts_once(make_chat, database_url):
    chat = await _seeded(make_chat, database_url=database_url)
    days = await _snapshots(chat)
    assert sorted(days) == [date(2026, 11, d) for d in range(8, 23)]  # yesterday, each night
    # (kol, active, ordinary, lurker) as they were: on the 14th gina was a KOL and alice
    # (not yet @-mentioned) active; hank's one day made him ordinary; dave had not joined,
    # and ivy (the admin, never seen to join) lurked.
    assert days[date(2026, 11, 14)] == (1, 2, 3, 1)
    # gina gone, hank out of the window: he, dave and ivy lurk, as /群画像 says.
    assert days[date(2026, 11, 22)] == (1, 2, 1, 3)
    await chat.say("dave", "大家好，我是新来的")  # counted in memory, written at shutdown
    # Down from 10:00 over 00:10 on the 24th; back at 00:20, within the grace: caught up.
    chat = await chat.restart(after=timedelta(hours=14, minutes=20))
    caught_up = (await _snapshots(chat))[date(2026, 11, 23)]
    # dave now ordinary. (Lurkers not checked: the harness gives the restarted bot its
    # members back only after the catch-up has run.)
    assert caught_up[:3] == (1, 2, 2)
    await chat.say("carol", "晚安")
    chat = await chat.restart(after="5m")
    await chat.advance("23h")  # before the next night's run
    after = await _snapshots(chat)
    assert len(after) == 16 and after[date(2026, 11, 23)] == caught_up


async def test_the_snapshot_counts_silent_members_never_seen_as_the_portrait_does(make_chat):
    chat = await make_chat(_config(), now="2026-11-23 09:00")
    # In the group since before the bot came: the platform counts them, no join was seen.
    chat.chat.groups[chat.group].members.update({m: m for m in ("kim", "lee", "max")})
    await chat.say("alice", "早")
    await chat.say("bob", "早")
    await chat.join("dave")  # seen to join, silent since
    await chat.advance_to("2026-11-24 00:20")  # past the night's snapshot of the 23rd
    portrait = _reply(await chat.say("alice", "/群画像")).splitlines()[1]
    assert portrait == "分层：KOL 0 · 活跃 0 · 普通 2 · 潜水 5"  # ivy, kim, lee, max, dave
    assert (await _snapshots(chat))[date(2026, 11, 23)] == (0, 0, 2, 5)
    async with chat.runtime.db.transaction() as session:  # the digest reads the snapshot
        contribution = await contribute(session, DigestQuery(("g",), (date(2026, 11, 23),)))
    figures = {metric.key: metric.values for metric in contribution.metrics}
    assert figures["activity.lurker"] == {("g", date(2026, 11, 23)): 5}


async def test_the_digest_shows_segments_only_from_snapshots(make_chat):
    config = _config()
    config["groups"]["h"] = {"name": "闲聊群", "owner": "zoe"}  # without the plugin
    chat = await make_chat(config, now="2026-11-23 09:00")
    await chat.say("bob", "早")
    await chat.say("zoe", "早", group="h")
    await chat.advance_to("2026-11-24 00:20")
    async with chat.runtime.db.transaction() as session:
        contribution = await contribute(session, DigestQuery(("g", "h"), (date(2026, 11, 23),)))
    figures = {metric.key: metric.values for metric in contribution.metrics}
    assert figures["activity.ordinary"] == {("g", date(2026, 11, 23)): 1}  # no ("h", …)


async def test_a_night_missed_while_down_is_filled_by_the_next_nights_run(make_chat,
                                                                          database_url):
    chat = await make_chat(_config(), now="2026-11-20 09:00", database_url=database_url)
    for day in range(20, 24):
        await chat.advance_to(f"2026-11-{day} 10:00")
        await chat.say("bob", "打卡")  # his 4th day on the 23rd: active by this group's rules
    await chat.say("erin", "路过")
    await chat.advance_to("2026-11-23 23:00")
    # Down until 01:00: the run of 00:10 is more than the grace (30m) late, and skipped.
    chat = await chat.restart(after="2h")
    assert sorted(await _snapshots(chat)) == [date(2026, 11, d) for d in (20, 21, 22)]
    await chat.advance_to("2026-11-24 10:00")
    await chat.leave("erin")
    await chat.join("carol")
    await chat.say("carol", "大家好")
    await chat.join("kim")
    await chat.advance_to("2026-11-25 00:20")
    days = await _snapshots(chat)
    assert sorted(days) == [date(2026, 11, d) for d in range(20, 25)]
    assert days[date(2026, 11, 22)] == (0, 0, 1, 2)  # bob; alice and ivy lurk
    # The 23rd as it was: bob active (the defaults would want 8 days), erin still there,
    # carol and kim not yet. The 24th: erin gone, carol posted, kim lurks.
    assert days[date(2026, 11, 23)] == (0, 1, 1, 2)
    assert days[date(2026, 11, 24)] == (0, 1, 1, 3)


async def test_turning_the_plugin_on_fills_the_digests_week_from_the_counters(make_chat):
    without = {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["ivy"]}}}
    chat = await make_chat(without, now="2026-11-10 09:00")
    for day in range(10, 24):  # the core counts every group
        await chat.advance_to(f"2026-11-{day} 10:00")
        await chat.say("bob", "打卡")
    chat.write_config(_config())
    chat = await chat.restart()
    assert await _snapshots(chat) == {}
    await chat.advance_to("2026-11-24 00:20")
    # The 23rd and the 7 days before: the digest's day and its baseline; no further back.
    assert sorted(await _snapshots(chat)) == [date(2026, 11, d) for d in range(16, 24)]


# -- what the counters record ------------------------------------------------------------------


async def test_counters_record_commands_and_mentions_received(make_chat):
    chat = await make_chat(_config(), now="2026-11-23 10:00")
    await chat.join("carol")
    await chat.say("alice", "/活跃")  # a command, as a slash word…
    await chat.say("alice", "活跃")  # …and as a keyword
    await chat.say("alice", "/没有这个命令")  # not a command this group knows
    await chat.say("bob", "@alice @alice @carol 看这里")  # alice counted once
    await chat.say("bob", "@小助手 /活跃")  # talking to the bot: a command, nobody's mention
    await chat.runtime.activity.flush()
    async with chat.runtime.db.transaction() as session:
        rows = {r.member_id: (r.messages, r.commands, r.mentions_received)
                for r in (await session.scalars(select(ActivityDaily))).all()}
    assert rows == {"alice": (3, 2, 1), "bob": (2, 1, 0), "carol": (0, 0, 1)}
    # carol was only @-mentioned: she shows up, and still as a lurker.
    lines = _reply(await chat.say("alice", "/群画像")).splitlines()
    assert lines[1].endswith("潜水 2")  # carol and ivy (the admin in the config)


async def test_commands_are_not_chatter_and_silent_members_in_the_room_lurk(make_chat,
                                                                          database_url):
    chat = await make_chat(_config(), now="2026-11-23 09:00", database_url=database_url)
    # kim and lee were in the room before the bot came and never spoke: the platform lists them.
    chat.chat.groups[chat.group].members.update({m: m for m in ("kim", "lee")})
    await chat.say("alice", "今天读到第十章")
    await chat.say("alice", "这一段写得真好")
    for _ in range(3):  # bob only ever talks to the bot
        await chat.say("bob", "/活跃")
    await chat.say("bob", "@小助手 活跃")
    [mine] = await chat.say("bob", "活跃")
    assert "还没有发言" in mine.text and "潜水用户" in mine.text
    lines = _reply(await chat.say("ivy", "/群画像")).splitlines()
    assert lines[0] == "「读书会」近 14 天画像：消息 2 条，1 人发言。"
    # alice speaks; bob (commands only), kim and lee (silent in the room), ivy (the admin,
    # asking for this very portrait) lurk.
    assert lines[1] == "分层：KOL 0 · 活跃 0 · 普通 1 · 潜水 4"
    assert lines[-1].endswith("（0 0 0 0 0 0 2）")
    await chat.advance_to("2026-11-24 00:20")  # the night's snapshot counts the same way
    assert (await _snapshots(chat))[date(2026, 11, 23)] == (0, 0, 1, 4)
    # erin spoke, then left while the bot was down (no leave seen): the room's list says
    # she is gone, so she is in no segment, though her words still count in the total.
    await chat.say("erin", "大家好")
    del chat.chat.groups[chat.group].members["erin"]
    await chat.advance("11m")  # the platform's room list is looked up every 10 minutes
    lines = _reply(await chat.say("ivy", "/群画像")).splitlines()
    assert lines[0] == "「读书会」近 14 天画像：消息 3 条，2 人发言。"
    assert lines[1] == "分层：KOL 0 · 活跃 0 · 普通 1 · 潜水 4"
