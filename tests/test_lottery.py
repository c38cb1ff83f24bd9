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
from sqlalchemy import func, select

from bot import ledger
from bot.blackroom import Blackroom
from bot.storage.models import JobRun
from bot.testing import texts
from plugins.lottery import fair
from plugins.lottery.models import LotteryDraw

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
    """As moderation's escalation does: into the group's one 小黑屋."""
    now = chat.clock.now()
    async with chat.runtime.db.transaction() as session:
        await chat.runtime.services.blackroom.put(session, chat.group, member,
                                                  now + timedelta(days=3), "rule.flood",
                                                  "moderation", now=now, name=member)


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
    assert "已参与" in texts(await chat.say("bo", "抽我"))[0]  # and the deadline is re-armed
    assert texts(await chat.advance("59m")) == []
    result = texts(await chat.advance("1m"))  # nobody speaks: drawn at the deadline itself
    assert any("开奖" in t and "共 2 人参与" in t for t in result)


async def test_a_draw_due_while_the_bot_was_down_is_drawn_when_it_starts(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 30m 书*1")
    await chat.say("amy", "抽我")
    chat = await chat.restart(after="40m")
    result = [d.text for d in chat.sent]
    assert any("开奖" in t and "共 1 人参与" in t and "amy" in t for t in result)
    assert "截止" not in " ".join(texts(await chat.say("cy", "抽我")))  # just a message now
    assert texts(await chat.advance("1d")) == []  # drawn once


async def test_draws_write_nothing_to_the_job_ledger(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 1d 书*1")
    assert any("开奖" in t for t in texts(await chat.advance("2d")))
    async with chat.runtime.db.transaction() as session:
        runs = await session.scalar(select(func.count()).select_from(JobRun)
                                    .where(JobRun.job.like("lottery.%")))
    assert runs == 0  # no periodic sweep


async def test_bad_draw_commands_get_help(make_chat) -> None:
    chat = await make_chat({**CONFIG, "limits": {"commands_per_minute": 100}}, now=NOW)
    assert "用法" in texts(await chat.say("bob", "发起抽奖"))[0]
    for deadline in ("明年", "90d", "0m", "30s", "9999999999d", "25:00", "-1h"):
        reply = texts(await chat.say("bob", f"发起抽奖 抽 {deadline} 书*1"))[0]
        assert "截止时间不对" in reply, deadline
    for prizes in ("书*0", "书*1001", "*3", "书,笔*1"):
        assert "奖品格式不对" in texts(await chat.say("bob", f"发起抽奖 抽 1h {prizes}"))[0]
    too_many = texts(await chat.say("bob", "发起抽奖 抽 1h 999999积分*1000"))[0]
    assert "共 999999000 积分，超过本群上限 5000" in too_many
    assert "已创建" not in too_many and "抽奖开始" not in " ".join(texts(await chat.advance("1s")))
    for keyword in ("抽奖", "/抽奖", "抽奖！", "！！", "口" * 21):
        assert "换一个" in texts(await chat.say("bob", f"发起抽奖 {keyword} 1h 书*1"))[0]
    assert "抽奖开始" in texts(await chat.say("bob", "发起抽奖 抽 ２１：３０ 书*1 50积分*2"))[0]
    assert "已经有一个" in texts(await chat.say("bob", "发起抽奖 抽 1h 书*1"))[0]
    assert "已经有一个" in texts(await chat.say("bob", "发起抽奖 抽！ 1h 书*1"))[0]
    result = texts(await chat.advance("2h"))
    assert any("没有人参与" in t for t in result)


async def test_join_messages_are_compared_without_width_case_or_punctuation(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 JoinMe 1h 书*1")
    assert "已参与" in texts(await chat.say("amy", "joinme！"))[0]
    assert "已参与" in texts(await chat.say("bo", " ＪＯＩＮ ＭＥ "))[0]
    assert texts(await chat.say("cy", "join me please")) == []  # a different message


async def test_two_draws_at_once_are_joined_and_drawn_separately(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽书 1h 书*1")
    await chat.say("bob", "发起抽奖 抽笔 2h 笔*1")
    assert "第 1 期" in texts(await chat.say("amy", "抽书"))[0]
    assert "第 2 期" in texts(await chat.say("bo", "抽笔"))[0]
    first = texts(await chat.advance("1h"))
    assert len(first) == 2 and "第 1 期" in first[0] and "书：amy" in first[0]
    assert "已参与" in texts(await chat.say("cy", "抽笔"))[0]
    second = texts(await chat.advance("1h"))
    assert "第 2 期" in second[0] and "共 2 人参与" in second[0]


# -- 取消抽奖 ------------------------------------------------------------------------------------

async def test_an_admin_cancels_a_draw_participants_are_told_nothing_is_drawn(
        make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 2h 100积分*1")
    for member in ("amy", "bo"):
        await chat.say(member, "抽我")
    assert "只有管理员" in texts(await chat.say("amy", "取消抽奖"))[0]
    [cancelled] = await chat.say("bob", "取消抽奖 奖品没到货")
    assert "第 1 期抽奖（口令「抽我」）已被管理员 bob 取消，不会开奖" in cancelled.text
    assert "原因：奖品没到货" in cancelled.text and "2 人" in cancelled.text
    assert set(cancelled.mentions) == {"amy", "bo"}
    assert "种子" not in cancelled.text  # the seed stays secret: nothing is drawn
    assert texts(await chat.say("cy", "抽我")) == []  # the keyword is an ordinary message again
    assert "没有进行中的抽奖" in texts(await chat.say("cy", "抽奖"))[0]
    assert texts(await chat.advance("3h")) == []  # its deadline passes: no draw
    async with chat.runtime.db.transaction() as session:
        draw = await session.scalar(select(LotteryDraw))
        paid = await session.scalar(select(func.count()).select_from(ledger.PointsEntry))
    assert draw is not None and draw.status == "cancelled" and draw.winners is None
    assert draw.cancelled_by == "bob" and paid == 0


async def test_cancelling_names_the_draw_when_several_are_open(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽书 1h 书*1")
    await chat.say("bob", "发起抽奖 抽笔 1h 笔*1")
    which = texts(await chat.say("bob", "取消抽奖"))[0]
    assert "要取消哪一期" in which and "第 1 期" in which and "第 2 期" in which
    assert "要取消哪一期" in texts(await chat.say("bob", "取消抽奖 7"))[0]
    assert "第 2 期抽奖" in texts(await chat.say("bob", "取消抽奖 抽笔"))[0]
    assert "第 1 期抽奖" in texts(await chat.say("bob", "取消抽奖 #1 改期"))[0]
    assert "没有进行中的抽奖" in texts(await chat.say("bob", "取消抽奖"))[0]


async def test_a_cancel_mentions_every_participant_a_few_at_a_time(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 1h 书*1")
    members = [f"m{n:02}" for n in range(25)]
    for member in members:
        await chat.say(member, "抽我")
    posts = await chat.say("alice", "取消抽奖")
    assert [len(p.mentions) for p in posts] == [20, 5]
    assert sorted(m for p in posts for m in p.mentions) == members


async def test_a_draw_past_its_deadline_cannot_be_cancelled(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "发起抽奖 抽我 30m 书*1")
    await chat.say("amy", "抽我")
    chat.clock.set(chat.clock.now() + timedelta(minutes=40))  # past it, the timer not yet run
    replies = texts(await chat.say("bob", "取消抽奖"))
    assert "不能取消" in replies[0] and "开奖" in replies[1] and "amy" in replies[1]


async def test_english_groups_see_english(make_chat) -> None:
    cfg = {"groups": {"g": {"name": "club", "owner": "alice", "language": "en",
                            "plugins": {"lottery": {}}}}}
    chat = await make_chat(cfg, now=NOW)
    assert "Lucky draw #1" in texts(await chat.say("alice", "发起抽奖 join 1h book*1"))[0]
    assert "You joined draw #1" in texts(await chat.say("amy", "join"))[0]
    assert "cancelled by the admin alice" in texts(await chat.say("alice", "取消抽奖"))[0]


def test_verify_draw_copes_with_quotes_in_prize_names(tmp_path) -> None:
    seed, prizes, people = "ef" * 32, [("Tom's \"book\"", 1), ("$HOME", 1)], ["b", "a", "c"]
    posted = f"x bot verify-draw --seed {seed} --prizes {shlex.quote(fair.format_prizes(prizes))}"
    posted += f" --participants {shlex.quote(','.join(sorted(people)))}"
    cli = subprocess.run([sys.executable, "-m", "bot", "verify-draw", *verify_command(posted)],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    expected = fair.winners(seed, people, prizes)
    assert [tuple(line.split("\t")) for line in cli.stdout.splitlines()] == expected


def test_verify_draw_detects_a_wrong_commitment() -> None:
    cli = subprocess.run([sys.executable, "-m", "bot", "verify-draw", "--seed", "ab" * 32,
                          "--commitment", "00" * 32, "--prizes", "书*1", "--participants", "a,b"],
                         capture_output=True, text=True, cwd=ROOT)
    assert cli.returncode == 1 and "MISMATCH" in cli.stderr


def test_verify_draw_takes_the_seed_in_any_case_and_refuses_a_garbled_one() -> None:
    seed = "ab" * 32

    def verify(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "verify-draw", *args,
                               "--prizes", "书*1", "--participants", "a,b"],
                              capture_output=True, text=True, cwd=ROOT)

    upper = verify("--seed", seed.upper(), "--commitment", fair.commitment(seed))
    assert upper.returncode == 0 and "commitment OK" in upper.stdout
    garbled = verify("--seed", "种子" + seed[2:])
    assert garbled.returncode == 2 and "64 hexadecimal digits" in garbled.stderr
    assert "Traceback" not in garbled.stderr


async def test_a_cancel_racing_the_draw_leaves_exactly_one_outcome(database_url) -> None:
    import asyncio
    from datetime import UTC, datetime

    from bot.storage import Database
    from plugins.lottery import service

    db = Database(database_url)
    await db.migrate()
    deadline = datetime(2026, 11, 23, 12, tzinfo=UTC)
    try:
        async with db.transaction() as session:
            draw = await service.create(session, "g", "抽", [("10积分", 1)], deadline, "bob",
                                        deadline - timedelta(hours=1))
            await service.join(session, draw, "amy", "amy", deadline - timedelta(minutes=5),
                               Blackroom(db))

        async def cancel() -> object:
            async with db.transaction() as session:
                return await service.cancel(session, "g", draw.id, "bob",
                                            deadline - timedelta(seconds=1))

        async def draw_it() -> list[object]:
            async with db.transaction() as session:
                return list(await service.draw_due(session, "g", deadline, set()))

        cancelled, drawn = await asyncio.gather(cancel(), draw_it())
        assert (cancelled == "none") == (len(drawn) == 1)  # one of the two, never both
        async with db.transaction() as session:
            status = await session.scalar(select(LotteryDraw.status))
            paid = await ledger.balance(session, "g", "amy")
        assert (status, paid) in {("cancelled", 0), ("drawn", 10)}
    finally:
        await db.close()
