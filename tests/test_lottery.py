"""抽奖: commitment, joining by keyword, the draw at the deadline, restarts, verification."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import ledger
from bot.testing import texts
from plugins.lottery import fair
from plugins.moderation.models import ModerationMember

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"],
                           "plugins": {"lottery": {"excluded": ["staff"]}, "points": {}}}}}
NOW = "2026-11-23 20:00"


def test_winners_are_a_deterministic_function_of_seed_and_sorted_ids() -> None:
    prizes = [("一等奖", 1), ("二等奖", 2)]
    people = ["dan", "amy", "cy", "bo", "eve"]
    first = fair.winners("ab" * 32, people, prizes)
    assert first == fair.winners("ab" * 32, [*reversed(people), "amy"], prizes)
    assert [p for p, _ in first] == ["一等奖", "二等奖", "二等奖"]
    assert len({m for _, m in first}) == 3
    # the documented recipe, step by step
    pool = sorted(people)
    expected = []
    for k, prize in enumerate(["一等奖", "二等奖", "二等奖"]):
        index = int.from_bytes(hashlib.sha256(f"{'ab' * 32}:{k}".encode()).digest(), "big")
        expected.append((prize, pool.pop(index % len(pool))))
    assert first == expected
    assert fair.winners("cd" * 32, people, prizes) != first  # another seed, another draw


@given(st.lists(st.text(min_size=1, max_size=8), max_size=30), st.integers(0, 10))
def test_winners_are_distinct_participants(people: list[str], count: int) -> None:
    drawn = fair.winners(fair.new_seed(), people, [("奖", count)])
    assert len(drawn) == min(count, len(set(people)))
    assert len({m for _, m in drawn}) == len(drawn) and {m for _, m in drawn} <= set(people)


def test_prizes_parse_and_reject_nonsense() -> None:
    assert fair.parse_prizes(["一等奖*1", "书x3", "50积分×2", "谢谢"]) == [
        ("一等奖", 1), ("书", 3), ("50积分", 2), ("谢谢", 1)]
    with pytest.raises(ValueError):
        fair.parse_prizes(["奖*0"])


async def blackroom(chat, member: str) -> None:
    async with chat.runtime.db.transaction() as session:
        session.add(ModerationMember(group_id=chat.group, member_id=member, name=member,
                                     blackroom_until=chat.clock.now() + timedelta(days=3)))


def verify_command(posted: str) -> list[str]:
    line = posted.split("bot verify-draw", 1)[1]
    return shlex.split(line)


async def test_a_draw_from_commitment_to_verified_winners(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert "只有管理员" in texts(await chat.say("cy", "发起抽奖 我要抽奖 2h 一等奖*1"))[0]
    created = texts(await chat.say("bob", "发起抽奖 我要抽奖 2h 一等奖*1 50积分*2"))[0]
    commitment = re.search(r"SHA-256：([0-9a-f]{64})", created).group(1)
    assert "发送「我要抽奖」" in created and "11-23 22:00" in created
    await blackroom(chat, "mallory")
    for member in ("amy", "bo", "cy", "dan"):
        assert "已参与" in texts(await chat.say(member, "我要抽奖"))[0]
    assert "已经参与过" in texts(await chat.say("amy", "我要抽奖"))[0]
    assert "不能参与" in texts(await chat.say("mallory", "我要抽奖"))[0]
    assert "不能参与" in texts(await chat.say("staff", "我要抽奖"))[0]
    assert "4 人" in texts(await chat.say("eve", "抽奖"))[0]
    assert texts(await chat.advance("119m")) == []
    result = texts(await chat.advance("1m"))
    seed = re.search(r"种子：([0-9a-f]{64})", result[0]).group(1)
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment
    assert "共 4 人参与" in result[0]
    assert "一等奖：" in result[0] and "50积分：" in result[0]
    winners = fair.winners(seed, ["amy", "bo", "cy", "dan"], [("一等奖", 1), ("50积分", 2)])
    for _, member in winners:
        assert member in result[0]
    for _, member in winners[1:]:  # "50积分" prizes are paid in points
        async with chat.runtime.db.transaction() as session:
            assert await ledger.balance(session, chat.group, member) == 50
    assert texts(await chat.say("eve", "我要抽奖")) == []  # after the draw: just a message
    cli = subprocess.run([sys.executable, "-m", "bot", "verify-draw", *verify_command(result[1])],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    assert "commitment OK" in cli.stdout
    assert [tuple(line.split("\t")) for line in cli.stdout.splitlines()[1:]] == winners


async def test_the_draw_survives_a_restart_before_its_deadline(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 2h 书*1")
    await chat.say("amy", "抽我")
    chat = await chat.restart(after="1h")
    assert "已参与" in texts(await chat.say("bo", "抽我"))[0]
    result = texts(await chat.advance("65m"))
    assert any("开奖" in t and "共 2 人参与" in t for t in result)


async def test_a_restart_past_the_deadline_draws_on_start(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 30m 书*1")
    await chat.say("amy", "抽我")
    chat = await chat.restart(after="40m")  # the scheduler catches the sweep up on start
    assert any("开奖" in t and "共 1 人参与" in t for t in texts(chat.sent))


async def test_bad_draw_commands_get_help(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert "用法" in texts(await chat.say("bob", "发起抽奖"))[0]
    assert "截止时间看不懂" in texts(await chat.say("bob", "发起抽奖 抽 明年 书*1"))[0]
    assert "截止时间看不懂" in texts(await chat.say("bob", "发起抽奖 抽 90d 书*1"))[0]
    assert "奖品格式不对" in texts(await chat.say("bob", "发起抽奖 抽 1h 书*0"))[0]
    assert "重名" in texts(await chat.say("bob", "发起抽奖 抽奖 1h 书*1"))[0]
    await chat.say("bob", "发起抽奖 抽 21:30 书*1")
    assert "已经有一个" in texts(await chat.say("bob", "发起抽奖 抽 1h 书*1"))[0]
    result = texts(await chat.advance("2h"))
    assert any("没有人参与" in t for t in result)


def test_verify_draw_detects_a_wrong_commitment() -> None:
    cli = subprocess.run([sys.executable, "-m", "bot", "verify-draw", "--seed", "ab" * 32,
                          "--commitment", "00" * 32, "--prizes", "书*1", "--participants", "a,b"],
                         capture_output=True, text=True, cwd=ROOT)
    assert cli.returncode == 1 and "MISMATCH" in cli.stderr
