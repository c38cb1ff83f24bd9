"""Timed posts at random times (issue 17, point 5): a window instead of a time, the moment
drawn per group and day, kept across restarts, and each day's slot sent exactly once."""

from __future__ import annotations

from datetime import time

import pytest

from bot.app import PLUGINS as ALL
from bot.config import ConfigError, load_config
from bot.testing import texts, write_config

WINDOW = {"between": ["19:00", "21:30"], "text": "今晚话题：你最近在读什么？"}


def _config(*groups: str) -> dict:
    return {"groups": {g: {"name": g, "owner": "alice",
                           "plugins": {"timed_posts": {"posts": [WINDOW]}}} for g in groups}}


async def test_one_post_a_day_at_a_drawn_moment_inside_the_window(make_chat, database_url):
    chat = await make_chat(_config("g", "h"), now="2026-11-23 00:00", database_url=database_url)
    sent = await chat.advance("7d")
    by_group = {g: [d.at for d in sent if d.group_id == g] for g in ("g", "h")}
    for moments in by_group.values():
        assert len(moments) == 7 and len({m.date() for m in moments}) == 7  # once a day
        assert all(time(19, 0) <= m.time() < time(21, 30) for m in moments)
        assert len({m.time() for m in moments}) > 1  # drawn per day, not one fixed time
    assert by_group["g"] != by_group["h"]  # each group draws its own moments


async def test_a_restart_keeps_the_days_moment_and_never_posts_twice(
        make_chat, started_chats, database_url):
    chat = await make_chat(_config("g"), now="2026-11-23 00:00", database_url=database_url)
    [planned] = [line for line in texts(await chat.say("alice", "定时"))[0].splitlines()
                 if line.startswith("1.")]
    moment = planned.split("下次 ")[1].split("：")[0]  # "11-23 HH:MM"
    chat = await chat.restart("1h")
    started_chats.append(chat)
    [post] = await chat.advance_to("2026-11-23 23:59")
    assert post.at.strftime("%m-%d %H:%M") == moment  # the moment announced before the restart
    chat = await chat.restart("0s")  # after the post: the catch-up finds it already sent
    started_chats.append(chat)
    assert await chat.advance("1m") == []
    assert len(await chat.advance_to("2026-11-24 23:59")) == 1


def test_config_check_refuses_bad_windows(tmp_path):
    for post in ({"between": ["21:30", "19:00"], "text": "x"},
                 {"between": ["19:00"], "text": "x"},
                 {"between": ["19:00", "21:00"], "at": "20:00", "text": "x"},
                 {"between": ["19:00", "25:00"], "text": "x"}):
        path = write_config(tmp_path, {"groups": {"g": {"name": "g", "plugins": {
            "timed_posts": {"posts": [post]}}}}})
        with pytest.raises(ConfigError):
            load_config(path, ALL)
