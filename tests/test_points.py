"""The points commands: balance and rank, leaderboard, admin grants and deductions."""

from __future__ import annotations

import pytest

from bot.testing import FakeChat
from plugins.points.handlers import parse_adjustment

CONFIG = {"groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {"points": None}},
                     "e": {"name": "Corner", "language": "en", "admins": ["adam"],
                           "plugins": {"points": None}}}}

@pytest.fixture
def on_both(make_chat, database_url):
    """Every test here runs once on SQLite and once on PostgreSQL."""

    async def start(config: dict, **options: object) -> FakeChat:
        return await make_chat(config, database_url=database_url, **options)

    return start



async def test_balance_rank_and_leaderboard(on_both):
    chat = await on_both(CONFIG)
    await chat.say("adam", "/加分 @alice 30 分享干货")
    await chat.say("adam", "/加分 @bob 50 组织活动")
    [mine] = await chat.say("alice", "积分")
    assert mine.text == "你的积分：30，本群第 2 名。"
    [board] = await chat.say("carol", "积分榜")
    assert board.text.splitlines()[1:] == ["1. bob — 50", "2. alice — 30"]


async def test_admins_deduct_but_never_below_zero(on_both):
    chat = await on_both(CONFIG)
    await chat.say("adam", "/加分 @alice 10")
    [short] = await chat.say("adam", "/扣分 @alice 11 刷屏")
    assert "只有 10 积分，不够扣 11" in short.text
    [ok] = await chat.say("adam", "/扣分 @alice 4 刷屏")
    assert "扣 4 积分（刷屏），现有 6" in ok.text and ok.mentions == ("adam", "alice")


async def test_members_cannot_grant_points(on_both):
    chat = await on_both(CONFIG)
    [refused] = await chat.say("alice", "/加分 @alice 1000")
    assert "只有管理员" in refused.text


@pytest.mark.parametrize(("command", "expected"), [
    ("/加分 10 理由", "请 @ 一位成员"),
    ("/加分 @alice", "数量要是 1 到 100000"),
    ("/加分 @alice 零", "数量要是 1 到 100000"),
    ("/加分 @alice -5", "数量要是 1 到 100000"),
    ("/加分 @alice 99999999999", "数量要是 1 到 100000"),
])
async def test_malformed_adjustments_explain_the_usage(on_both, command, expected):
    chat = await on_both(CONFIG)
    [reply] = await chat.say("adam", command)
    assert expected in reply.text and "用法" in reply.text


async def test_english_group(on_both):
    chat = await on_both(CONFIG)
    [reply] = await chat.say("adam", "/加分 @amy 5 tips", group="Corner")
    assert reply.text == "Added 5 points for amy (tips); balance 5."


def test_parse_adjustment_takes_the_first_number_and_keeps_the_reason():
    assert parse_adjustment("@alice 10 分享 2 篇文章") == (10, "分享 2 篇文章")
    assert parse_adjustment("@alice 很好") == (None, "很好")


async def test_nobody_with_zero_points_has_a_place_and_ties_share_one(on_both):
    chat = await on_both(CONFIG)
    [nobody] = await chat.say("dan", "积分")  # nobody has points: no "第 1 名"
    assert nobody.text.startswith("你的积分：0，还没有排名")
    for member, amount in (("amy", 10), ("bob", 10), ("cy", 5), ("dan", 5)):
        await chat.say("adam", f"/加分 @{member} {amount}")
    await chat.say("adam", "/扣分 @dan 5")  # back to nothing: off the board
    [board] = await chat.say("cy", "积分榜")
    assert board.text.splitlines()[1:] == ["1. amy — 10", "1. bob — 10", "3. cy — 5"]
    [bob] = await chat.say("bob", "积分")
    assert bob.text == "你的积分：10，本群第 1 名。"  # as the board says
    [cy] = await chat.say("cy", "积分")
    assert cy.text == "你的积分：5，本群第 3 名。"
    [dan] = await chat.say("dan", "积分")
    assert "还没有排名" in dan.text and "第" not in dan.text


def test_standings_skip_zero_and_share_tied_places():
    from bot.ranking import standings

    rows = [("a", 3), ("b", 0), ("c", 5), ("d", 3), ("e", -1), ("f", 1)]
    assert standings(rows, lambda r: r[1]) == [(1, ("c", 5)), (2, ("a", 3)), (2, ("d", 3)),
                                               (4, ("f", 1))]
    assert standings(rows, lambda r: r[1], limit=2) == [(1, ("c", 5)), (2, ("a", 3))]
    assert standings([("z", 0)], lambda r: r[1]) == []
