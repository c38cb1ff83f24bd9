"""A fan-out of daily quizzes (issue 16.4) reads every group's running game and recent
questions at once (the job's fan-out hook): each group must still get exactly what it got
when it read them itself — a busy group stays busy, a group that was asked most of the bank
gets the question it was not asked, a group whose start fails keeps nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

import bot.scheduler
from bot.storage.models import JobRun
from plugins.quiz import fanout, game
from plugins.quiz import plugin as quiz_plugin
from plugins.quiz.models import QuizActive, QuizAsked, QuizRound

BANK = """\
name: 测试
questions:
  - q: 中国的首都是哪座城市？
    answers: [北京]
  - q: 中国最长的河流是？
    answers: [长江]
  - q: 一年有几个季节？
    answers: [四, "4"]
"""
GROUPS = ["g0", "g1", "g2", "g3", "g4", "g5"]
BUSY, ASKED_BEFORE, FAILS = "g1", "g2", "g3"


def config() -> dict[str, Any]:
    quiz = {"banks": ["quiz"], "questions": 1, "hint_after": "1m", "time_limit": "5m",
            "daily": [{"at": "20:30", "bank": "测试", "questions": 1}]}
    return {"groups": {g: {"name": f"读书会{g}", "plugins": {"quiz": quiz, "points": {}}}
                       for g in GROUPS}}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4 slots whatever the machine: the fan-out spans two chunks."""
    monkeypatch.setattr(bot.scheduler, "FANOUT_CHUNK", 4)
    monkeypatch.setattr(bot.scheduler, "FANOUT_SLICE", 3600.0)


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    (tmp_path / "config" / "quiz").mkdir(parents=True)
    (tmp_path / "config" / "quiz" / "test.yaml").write_text(BANK, encoding="utf-8")
    return tmp_path


@contextmanager
def without_hook() -> Iterator[None]:
    """The daily quiz as before the hook: every group reads for itself."""
    daily = quiz_plugin.jobs[0]
    quiz_plugin.jobs[0] = dataclasses.replace(daily, prepare=None)
    try:
        yield
    finally:
        quiz_plugin.jobs[0] = daily


def fail_in(monkeypatch: pytest.MonkeyPatch, group: str) -> None:
    """The group's start fails after writing its round and question (a bug in arming)."""
    arm = game._arm_question

    def arm_or_fail(ctx: Any, *args: Any) -> None:
        if ctx.group.id == group:
            raise RuntimeError("a bug")
        arm(ctx, *args)

    monkeypatch.setattr(game, "_arm_question", arm_or_fail)


async def morning(make_chat: Any, url: str) -> tuple[dict[str, list[str]], list[Any], list[str]]:
    """The day before: ASKED_BEFORE played two rounds (two of the three questions); at
    20:29 BUSY starts a round that still runs at 20:30; the daily quiz fans out at 20:30 and
    its timers run to 20:40. Returns what each group saw from 20:30, the quiz and ledger rows,
    and the quiz statements the fan-out read with."""
    chat = await make_chat(config(), now="2026-11-22 20:31", database_url=url)
    for _ in range(2):
        await chat.say("carol", "答题 测试 1", group=ASKED_BEFORE)
        await chat.advance("6m")
    await chat.advance_to("2026-11-23 20:29")
    await chat.say("dan", "答题 测试 1", group=BUSY)
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "quiz_" in statement:
            reads.append(statement)

    engine = chat.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    sent = await chat.advance_to("2026-11-23 20:30")
    event.remove(engine, "before_cursor_execute", note)
    sent += await chat.advance("10m")
    seen, stored = {g: [d.text for d in sent if d.group_id == g] for g in GROUPS}, await rows(chat)
    await chat.stop()  # before its database is dropped (two_database_urls)
    return seen, stored, reads


async def rows(chat: Any) -> list[Any]:
    async with chat.runtime.db.transaction() as session:
        rounds = (await session.execute(
            select(QuizRound.group_id, QuizRound.game, QuizRound.bank, QuizRound.plan,
                   QuizRound.started_by, QuizRound.end_reason).order_by(QuizRound.id))).all()
        asked = (await session.execute(
            select(QuizAsked.group_id, QuizAsked.position, QuizAsked.bank,
                   QuizAsked.question_index, QuizAsked.outcome).order_by(QuizAsked.id))).all()
        active = (await session.execute(select(QuizActive.group_id))).all()
        runs = (await session.execute(
            select(JobRun.group_id, JobRun.outcome).where(JobRun.job.like("quiz.%"))
            .order_by(JobRun.group_id, JobRun.slot_at))).all()
    return [rounds, asked, active, runs]


@pytest.mark.parametrize("window", [100, 4])
async def test_each_group_of_a_daily_quiz_fan_out_gets_what_it_got_alone(
        make_chat, bank_dir, monkeypatch, two_database_urls, window) -> None:
    """`window`: groups whose recent questions one statement reads (all six, or four)."""
    monkeypatch.setattr(fanout, "RECENT_WINDOW", window)
    fail_in(monkeypatch, FAILS)
    seen, stored, reads = await morning(make_chat, two_database_urls[0])
    with without_hook():
        seen_alone, stored_alone, reads_alone = await morning(make_chat, two_database_urls[1])
    assert seen == seen_alone and stored == stored_alone
    # What that is: the busy group keeps its round, the other question is the one not asked
    # before, the failed group keeps nothing and posts nothing, the rest start a round.
    started = [g for g in GROUPS if any("第 1/1 题" in t for t in seen[g])]
    assert started == ["g0", ASKED_BEFORE, "g4", "g5"]
    asked = {(group, index) for group, _, _, index, _ in stored[1]}
    assert {index for group, index in asked if group == ASKED_BEFORE} == {0, 1, 2}
    assert not seen[FAILS]  # and BUSY sees its own round end: no second one starts
    assert not any("有奖问答开始" in t for t in seen[BUSY]) and "本轮问答结束" in seen[BUSY][-1]
    assert dict(stored[3])[FAILS] == "failed" and dict(stored[3])[BUSY] == "fired"
    # The reads: the running games, recent questions a window at a time, and the busy
    # group's own look at its game (it is not started).
    assert len(reads) == 1 + -(-len(GROUPS) // window) + 2 < len(reads_alone)


async def test_a_fan_out_reads_the_same_for_more_groups(make_chat, bank_dir) -> None:
    """Reads per fan-out do not grow with its groups (a few hundred per statement)."""
    counts = []
    for n, groups in enumerate((3, 12)):
        cfg = config()
        cfg["groups"] = {f"h{i:02d}": {**cfg["groups"]["g0"], "name": f"群{i}"}
                         for i in range(groups)}
        chat = await make_chat(cfg, now="2026-11-23 20:29",
                               database_url=f"sqlite+aiosqlite:///{bank_dir / f'{n}.db'}")
        statements: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_: Any,
                 into: list[str] = statements) -> None:
            into.append(statement)

        event.listen(chat.runtime.db.engine.sync_engine, "before_cursor_execute", note)
        sent = await chat.advance("1m")
        assert sum("第 1/1 题" in d.text for d in sent) == groups
        counts.append(sum(s.lstrip().startswith("SELECT") and "quiz_" in s for s in statements))
    assert counts == [2, 2]


async def test_a_group_that_starts_a_game_mid_fan_out_is_read_again(make_chat, bank_dir,
                                                                    database_url) -> None:
    """Between two chunks a member starts a round in a group the fan-out read as free: its
    daily quiz then finds it busy, as it would have without the read."""
    chat = await make_chat(config(), now="2026-11-23 20:29", database_url=database_url)
    after_run = chat.runtime.scheduler.after_run
    started: list[Any] = []

    async def member_between_chunks() -> None:
        await after_run()
        if not started:
            started.append(await chat.say("erin", "成语接龙", group="g5"))

    chat.runtime.scheduler.after_run = member_between_chunks  # type: ignore[method-assign]
    sent = await chat.advance("1m")
    assert started and not any("第 1/1 题" in d.text for d in sent if d.group_id == "g5")
    assert sum("第 1/1 题" in d.text for d in sent) == len(GROUPS) - 1
    async with chat.runtime.db.transaction() as session:
        rounds = (await session.execute(select(QuizRound.game).where(
            QuizRound.group_id == "g5"))).scalars().all()
    assert rounds == ["chain"]  # no round of the daily quiz left behind
