"""Surprises for the fading (issue 17, point 4): members whose last 7 days fell below half
their previous 4-week average, after being active, get a friendly @ with bonus points (or
a private message) at most once per every_days; the digest counts who spoke again."""

from __future__ import annotations

from datetime import date, timedelta

from bot import ledger
from bot.activity import ActivityDaily
from bot.plugin import DigestQuery
from bot.testing import texts
from plugins.surprise.digest import contribute

TODAY = date(2026, 11, 23)


def _config(**surprise: object) -> dict:
    return {"groups": {"g": {"name": "读书会", "owner": "alice",
                             "plugins": {"points": {}, "surprise": surprise}}}}


async def _history(chat) -> None:
    """35 days of counters as the core records them (one row per member and day):
    fader  2 a day for four weeks, then 1 message in the last 7 days → fading
    steady 2 a day until yesterday                                    → not fading (yet)
    rare   1 a week, then silent: never active                       → not surprised
    gone   like fader, but left the group                             → not surprised"""
    rows = []
    for back in range(1, 36):
        day = TODAY - timedelta(days=back)
        recent = back <= 7
        rows.append(("steady", day, 2))
        if not recent:
            rows += [("fader", day, 2), ("gone", day, 2)]
            if back % 7 == 0:
                rows.append(("rare", day, 1))
        elif back == 3:
            rows.append(("fader", day, 1))
    async with chat.runtime.services.db.transaction() as session:
        for member, day, messages in rows:
            session.add(ActivityDaily(group_id="g", member_id=member, day=day, name=member,
                                      messages=messages, characters=messages * 10))
    await chat.join("gone")
    await chat.leave("gone")


async def test_a_fading_member_gets_one_surprise_with_bonus(make_chat, database_url):
    chat = await make_chat(_config(bonus=20, every_days=14), now="2026-11-23 12:00",
                           database_url=database_url)
    await _history(chat)
    [surprise] = await chat.advance_to("2026-11-23 20:00")
    assert surprise.mentions == ("fader",) and surprise.kind == "post"
    assert "fader" in surprise.text and "20 积分" in surprise.text
    async with chat.runtime.services.db.transaction() as session:
        assert await ledger.balance(session, "g", "fader") == 20
    # fader is not surprised again within every_days; steady, silent since the 23rd, fades
    # by the 27th (4 quiet days: under half of 14 a week) and gets theirs.
    later = await chat.advance_to("2026-11-30 20:00")
    assert [(d.at.day, d.mentions) for d in later] == [(27, ("steady",))]
    await chat.say("fader", "我回来啦")  # a week later: too late to count as "back"
    async with chat.runtime.services.db.transaction() as session:
        found = await contribute(session, DigestQuery(("g",), (TODAY,)))
    figures = {m.key: m.values for m in found.metrics}
    assert figures["surprise.given"] == {("g", TODAY): 1}
    assert figures["surprise.back"] == {}


async def test_a_private_surprise_and_a_return_within_three_days(make_chat, started_chats,
                                                                 database_url):
    chat = await make_chat(_config(mode="dm", bonus=0), now="2026-11-23 12:00",
                           database_url=database_url)
    await _history(chat)
    [dm] = await chat.advance_to("2026-11-23 20:00")
    assert dm.kind == "dm" and dm.to == "fader" and "积分" not in dm.text
    chat = await chat.restart("1d")  # the watch on fader survives a restart
    started_chats.append(chat)
    await chat.say("fader", "最近在读《额尔古纳河右岸》")
    async with chat.runtime.services.db.transaction() as session:
        found = await contribute(session, DigestQuery(("g",), (TODAY,)))
    assert {m.key: m.values for m in found.metrics}["surprise.back"] == {("g", TODAY): 1}
    assert texts(await chat.advance("1d")) == []
