"""Every leaderboard places members one way (bot/ranking.py): nothing is no place, ties
share one (issue 13: "第 1 名" with 0 points; the points board is in test_points.py)."""

from __future__ import annotations

CONFIG = {"groups": {"g": {"name": "读书会", "owner": "olga", "plugins": {
    "checkin": {"reminder_at": None, "praise_at": None, "comeback": {"bonus": 0}},
    "points": {}}}}}


async def test_the_checkin_boards_share_places_between_ties(make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-23 08:00", database_url=database_url)
    [empty] = await chat.say("cy", "打卡榜")
    assert "1." not in empty.text  # nobody checked in: nobody is first
    await chat.say("amy", "打卡 读了十页")
    await chat.say("bob", "打卡 读了二十页")
    await chat.advance("1d")
    await chat.say("amy", "打卡 又读了十页")
    [board] = await chat.say("cy", "打卡榜")
    lines = board.text.splitlines()
    streaks = lines[lines.index("连续打卡榜：") + 1:lines.index("本月累计：")]
    # bob missed today, yet yesterday still carries his streak of 1 (today may come).
    assert streaks == ["1. amy 2 天", "2. bob 1 天"]
    month = lines[lines.index("本月累计：") + 1:]
    assert month == ["1. amy 2 天", "2. bob 1 天"]
    await chat.say("bob", "打卡 补上今天")
    [board] = await chat.say("cy", "打卡榜")
    lines = board.text.splitlines()
    assert lines[lines.index("本月累计：") + 1:] == ["1. amy 2 天", "1. bob 2 天"]
