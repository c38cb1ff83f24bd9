"""Running a game in a group: posting questions, timers, answers, the scoreboard.

Timers are the core scheduler's one-off `call_at` (driven by the harness clock in tests).
They live in memory; the deadlines live in the database. At start the plugin's `on_start`
hook calls `settle` for every group: a game still running gets its timers back, one whose
time ran out while the bot was down is timed out at once. Starting a game, an answer, a move
and a chain hint settle first too (a group the config does not list has no start-up hook).

A fan-out of daily quizzes reads for all its groups at once (fanout.py); every change to a
group's game here tells it (`fanout.changed`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import tell_operators_of_broken
from bot.context import Context, JobContext
from bot.i18n import join_list
from bot.text import excerpt
from plugins.quiz import fanout, service
from plugins.quiz.answers import is_correct, normalize, without_emoji, without_mention
from plugins.quiz.bank import (
    LoadedBank,
    Question,
    bank_paths,
    image_file,
    load_bank_kept,
    readable_banks,
)
from plugins.quiz.idioms import IdiomDictionary, SameSound, dictionary
from plugins.quiz.models import QuizAsked, QuizRound
from plugins.quiz.settings import QuizSettings

Ctx = Context[QuizSettings] | JobContext[QuizSettings]
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


@dataclass
class Current:
    """What the passive handler compares messages with (a cache of the database)."""

    game: str
    round_id: int
    asked_id: int | None = None
    question: Question | None = None
    deadline: datetime | None = None  # when the open question, or the chain, times out
    last_idiom: str = ""
    position: int = 0
    used: set[str] = field(default_factory=set)


def now(ctx: Ctx) -> datetime:
    return ctx.services.clock.now()  # timers run long after the context was made


def detached(ctx: Ctx) -> Ctx:
    """A copy for a timer: its own transaction, and `now` when it fires."""
    return dataclasses.replace(ctx, now=ctx.services.clock.now())


def rng(ctx: Ctx) -> random.Random:
    """Repeatable under a simulated clock (transcripts, tests); unpredictable for real."""
    if "rng" not in ctx.state:
        simulated = ctx.services.runtime.simulated
        ctx.state["rng"] = random.Random(0) if simulated else random.SystemRandom()
    return ctx.state["rng"]


def _cache(ctx: Ctx) -> dict[str, Current | None]:
    return ctx.state.setdefault("current", {})


def said(ctx: Context[QuizSettings]) -> str:
    """The message without a hand-typed `@小助手` in front (the configured bot name)."""
    return without_mention(ctx.message.text, ctx.services.config.config.bot.name)


def banks(ctx: Ctx) -> list[LoadedBank]:
    loaded = []
    for path, bank, problems in _read_banks(ctx):
        if bank is None:  # never loaded in this process: nothing to keep
            ctx.log.warning("quiz bank %s cannot be read; `bot config check` says why", path)
            continue
        tell_operators_of_broken(ctx, problems)  # an edit broke it: the last good version plays
        loaded.append(bank)
    return loaded


def _read_banks(ctx: Ctx) -> list[fanout.BankRead]:
    """The group's bank files as read now, or once for a whole fan-out (a stat and a glob
    each otherwise, several times per group)."""
    memo, key = fanout.bank_memo(ctx), tuple(ctx.settings.banks)
    if memo is not None and key in memo:
        return memo[key]
    read: list[fanout.BankRead] = []
    for path in bank_paths(ctx.services.config.base_dir, ctx.settings.banks):
        try:
            read.append((path, *load_bank_kept(path)))
        except (ValueError, OSError):
            read.append((path, None, []))
    if memo is not None:
        memo[key] = read
    return read


def find_banks(ctx: Ctx, name: str | None) -> list[LoadedBank]:
    available = banks(ctx)
    if not name:
        return available
    return [b for b in available if name.casefold() in b.names()]


# -- loading the current game ------------------------------------------------------------------

async def current(ctx: Ctx) -> Current | None:
    cache = _cache(ctx)
    if ctx.group.id not in cache:
        if fanout.known_free(ctx):
            cache[ctx.group.id] = None
            return None
        async with ctx.transaction() as session:
            cache[ctx.group.id] = await _load_current(ctx, session)
        _rearm(ctx, cache[ctx.group.id])
    return cache[ctx.group.id]


def _overdue(ctx: Ctx, cur: Current) -> bool:
    """Out of time with no timer to end it (it was lost in a restart), or a quiz round left
    without an open question: either way nothing would ever end it."""
    if cur.game == "quiz" and cur.asked_id is None:
        return True
    return cur.deadline is not None and now(ctx) >= cur.deadline


def _rearm(ctx: Ctx, cur: Current | None) -> None:
    """Timers of a game loaded from the database (after a restart); pending keys are kept,
    a hint whose time has passed is not given again, and an overdue game is left to
    `settle`."""
    if cur is None or cur.deadline is None or _overdue(ctx, cur):
        return
    if cur.game == "chain":
        _arm_chain(ctx, cur.round_id, cur.position, cur.deadline)
    elif cur.asked_id is not None:
        hint_at = cur.deadline - ctx.settings.time_limit + ctx.settings.hint_after
        _arm_question(ctx, cur.asked_id, hint_at if hint_at > now(ctx) else None, cur.deadline)


async def settle(ctx: Ctx) -> bool:
    """Loads the group's game (re-arming its timers after a restart) and ends at once what
    ran out of time meanwhile; True if it did. A question overdue by less than a time limit
    is timed out and the round goes on; after a longer outage the round ends there."""
    cur = await current(ctx)
    if cur is None or not _overdue(ctx, cur):
        return False
    if cur.game == "chain":
        await chain_timeout(ctx, cur.round_id, cur.position)
    elif cur.asked_id is None:
        await _abandon(ctx, cur.round_id)
    else:
        assert cur.deadline is not None
        late = now(ctx) - cur.deadline >= ctx.settings.time_limit
        await timeout(ctx, cur.asked_id, resume=not late)
    forget(ctx)  # reloaded from the database, timers and all, when next needed
    return True


async def _load_current(ctx: Ctx, session: AsyncSession) -> Current | None:
    game_round = await service.active_round(session, ctx.group.id)
    if game_round is None:
        return None
    if game_round.game == "chain":
        moves = await service.chain_moves(session, game_round.id)
        last = moves[-1] if moves else None
        since = last.at if last else game_round.started_at
        return Current("chain", game_round.id, last_idiom=last.idiom if last else "",
                       position=last.position if last else 0, used={m.idiom for m in moves},
                       deadline=since + ctx.settings.chain.timeout)
    asked = await service.open_question(session, game_round.id)
    if asked is None:
        return Current("quiz", game_round.id)
    return Current("quiz", game_round.id, asked.id, Question.model_validate(asked.question),
                   asked.deadline_at)


def forget(ctx: Ctx) -> None:
    _cache(ctx).pop(ctx.group.id, None)


# -- quiz rounds -------------------------------------------------------------------------------

async def start_quiz(ctx: Ctx, bank_name: str | None, count: int, started_by: str) -> str | None:
    """Starts a round; returns why not (a text for the group) or None."""
    await settle(ctx)  # a game stale from before a restart ends first
    chosen = find_banks(ctx, bank_name)
    if not chosen:
        names = join_list(ctx.group.language, (b.title(ctx.group.language) for b in banks(ctx)))
        names = names or "-"
        return ctx.t("quiz.no_bank", name=excerpt(bank_name or ""), banks=names)
    async with ctx.transaction() as session:
        recent = await fanout.recent_questions(ctx, session)
        plan = service.plan_round(chosen, count, recent, rng(ctx))
        title = chosen[0].title(ctx.group.language) if len(chosen) == 1 else ctx.t("quiz.mixed")
        try:
            game_round = await service.claim(session, ctx.group.id, "quiz", started_by, now(ctx),
                                             bank=title, plan=plan,
                                             free=fanout.known_free(ctx))
        except service.GameBusy as busy:
            return ctx.t(f"busy.{busy.game}")
        asked, question = await _ask(ctx, session, game_round, 1)
        forget(ctx)
        await ctx.say(ctx.t("quiz.start", bank=title, count=len(plan)))
        await _post_question(ctx, asked, question, len(plan))
    return None


def _question_at(ctx: Ctx, game_round: QuizRound, position: int) -> tuple[str, int, Question]:
    key, index = game_round.plan[position - 1]
    by_key = {b.key: b for b in banks(ctx)}
    bank = by_key.get(key)
    if bank is None or index >= len(bank.bank.questions):  # edited since: any other question
        bank = next(iter(by_key.values()))
        index = rng(ctx).randrange(len(bank.bank.questions))
    return bank.key, index, bank.bank.questions[index]


async def _ask(ctx: Ctx, session: AsyncSession, game_round: QuizRound,
               position: int) -> tuple[QuizAsked, Question]:
    key, index, question = _question_at(ctx, game_round, position)
    fanout.changed(ctx)
    asked = await service.ask(session, game_round, position, key, index, question, now(ctx),
                              ctx.settings.time_limit)
    return asked, question


async def _post_question(ctx: Ctx, asked: QuizAsked, question: Question, total: int) -> None:
    image = None
    if question.image and ctx.capabilities.send_image:
        image = _image_path(ctx, asked.bank, question.image)
    seconds = int(ctx.settings.time_limit.total_seconds())
    await ctx.say(ctx.t("quiz.question", n=asked.position, total=total, text=question.text(),
                        seconds=seconds), image_path=image)
    _cache(ctx)[ctx.group.id] = Current("quiz", asked.round_id, asked.id, question,
                                        asked.deadline_at)
    _arm_question(ctx, asked.id, asked.asked_at + ctx.settings.hint_after, asked.deadline_at)


def _image_path(ctx: Ctx, bank_key: str, image: str) -> str | None:
    """The picture next to the bank; None (the text alone) if it went missing since the
    config check."""
    bank = next((b for b in banks(ctx) if b.key == bank_key), None)
    path = image_file(bank, image) if bank else None
    if path is None:
        ctx.log.warning("quiz image %s of bank %s is missing", image, bank_key)
        return None
    return str(path)


def _arm_question(ctx: Ctx, asked_id: int, hint_at: datetime | None,
                  deadline: datetime) -> None:
    scheduler, group = ctx.services.scheduler, ctx.group.id
    if hint_at is not None:
        scheduler.call_at(hint_at, f"quiz.hint:{group}:{asked_id}",
                          lambda: hint(detached(ctx), asked_id))
    scheduler.call_at(deadline, f"quiz.timeout:{group}:{asked_id}",
                      lambda: timeout(detached(ctx), asked_id))


async def hint(ctx: Ctx, asked_id: int) -> None:
    cur = await current(ctx)
    if cur is None or cur.asked_id != asked_id or cur.question is None:
        return
    question, masked = cur.question, cur.question.masked_answer()
    if masked is not None:
        text = ctx.t("quiz.hint", hint=masked)
    elif question.choices:
        text = ctx.t("quiz.hint_choice", letter=question.wrong_letter())
    else:
        text = ctx.t("quiz.hint_length", count=len(question.answers[0]))
    await ctx.say(text)


async def timeout(ctx: Ctx, asked_id: int, *, resume: bool = True) -> None:
    """The time limit passed: show the answer, then the next question (unless `resume` is
    False) or the scoreboard."""
    async with ctx.transaction() as session:
        if not await service.close(session, asked_id, "timeout", now(ctx)):
            return
        asked = await session.get(QuizAsked, asked_id)
        assert asked is not None
        question = Question.model_validate(asked.question)
        lines = [ctx.t("quiz.timeout", answer=question.answer)]
        if question.explanation:
            lines.append(ctx.t("quiz.explanation", text=question.explanation))
        await ctx.say("\n".join(lines))
        await _next(ctx, session, asked.round_id, asked.position, resume=resume)


async def _next(ctx: Ctx, session: AsyncSession, round_id: int, position: int, *,
                resume: bool = True) -> None:
    game_round = await session.get(QuizRound, round_id)
    if game_round is None or game_round.ended_at is not None:
        forget(ctx)
        return
    total = len(game_round.plan)
    if position >= total or not resume:
        await _finish(ctx, session, game_round, "done" if position >= total else "interrupted")
        return
    asked, question = await _ask(ctx, session, game_round, position + 1)
    await _post_question(ctx, asked, question, total)


async def _abandon(ctx: Ctx, round_id: int) -> None:
    """A quiz round with no open question (it cannot go on): its scoreboard, and done."""
    async with ctx.transaction() as session:
        game_round = await session.get(QuizRound, round_id)
        if game_round is not None and game_round.ended_at is None:
            await _finish(ctx, session, game_round, "interrupted")


async def _finish(ctx: Ctx, session: AsyncSession, game_round: QuizRound, reason: str,
                  lead: tuple[str, ...] = ()) -> None:
    """Ends the game with its scoreboard (after the `lead` lines); nothing if it had ended
    already (a timer and a message, or 停止, at once)."""
    if not await service.release(session, game_round, reason, now(ctx)):
        return
    fanout.changed(ctx)
    _cache(ctx)[ctx.group.id] = None
    await ctx.say("\n".join([*lead, *await _scoreboard(ctx, session, game_round, reason)]))


async def _scoreboard(ctx: Ctx, session: AsyncSession, game_round: QuizRound,
                      reason: str) -> list[str]:
    if game_round.game == "chain":
        scores = await service.chain_scores(session, game_round.id)
        moves = len(await service.chain_moves(session, game_round.id)) - 1
        lines = [ctx.t(f"chain.end.{reason}", count=moves)]
        return lines + [ctx.t("chain.score", n=n, name=name, count=count, points=points)
                        for n, (name, count, points) in enumerate(scores[:10], start=1)]
    scores = await service.quiz_scores(session, game_round.id)
    lines = [ctx.t(f"quiz.end.{reason}")]
    lines += [ctx.t("quiz.score", n=n, name=name, count=count, points=points)
              for n, (name, count, points) in enumerate(scores[:10], start=1)]
    return lines if scores else [*lines, ctx.t("quiz.nobody")]


async def answer(ctx: Context[QuizSettings]) -> bool:
    """A message during a question: the first correct one wins. True if it was consumed."""
    cur = await current(ctx)
    if cur is None or cur.game != "quiz" or cur.asked_id is None or cur.question is None:
        return False
    if not is_correct(cur.question, said(ctx)):
        return False
    points = ctx.settings.points.get(cur.question.difficulty, 0)
    async with ctx.transaction() as session:
        if await ctx.services.blackroom.keeps_out(ctx, session):
            return True  # right, but no winning from the 小黑屋: the question stays open
        if not await service.win(session, cur.asked_id, ctx.group.id, ctx.sender_id,
                                 ctx.sender_name, points, now(ctx)):
            return True  # someone was quicker
        asked = await session.get(QuizAsked, cur.asked_id)
        assert asked is not None
        lines = [ctx.t("quiz.right", name=ctx.sender_name, answer=cur.question.answer,
                       points=points)]
        if cur.question.explanation:
            lines.append(ctx.t("quiz.explanation", text=cur.question.explanation))
        await ctx.say("\n".join(lines), mentions=(ctx.sender_id,))
        await _next(ctx, session, asked.round_id, asked.position)
    return True


async def stop(ctx: Ctx) -> bool:
    """停止答题: ends whatever game runs here, with its scoreboard; False if none."""
    async with ctx.transaction() as session:
        game_round = await service.active_round(session, ctx.group.id)
        if game_round is None:
            return False
        if game_round.game == "quiz":
            asked = await service.open_question(session, game_round.id)
            if asked is not None:
                await service.close(session, asked.id, "stopped", now(ctx))
        await _finish(ctx, session, game_round, "stopped")
    return True


# -- idiom chain -------------------------------------------------------------------------------

async def loaded_idioms() -> IdiomDictionary:
    """The idiom dictionary: warm-up reads it; a chain played before warm-up has finished
    reads it in a thread (~0.2 s) rather than stall every group on the event loop."""
    if dictionary.cache_info().currsize:
        return dictionary()
    return await asyncio.to_thread(dictionary)


def chain_rule_text(ctx: Ctx, idiom: str) -> str:
    idioms = dictionary()
    sound = idioms.last_sound(idiom) if idiom in idioms else ""
    key = "chain.next" if ctx.settings.chain.same_sound == "none" else "chain.next_sound"
    return ctx.t(key, char=idiom[-1], sound=sound)


@lru_cache(maxsize=4)
def chain_starts(rule: str) -> tuple[str, ...]:
    """Common four-character idioms with at least three ways on: computed once per rule
    (each takes a sort over the dictionary — half a second for all of them)."""
    idioms = dictionary()
    return tuple(sorted(w for w in idioms.common if len(w) == 4
                        and len(idioms.continuations(w, rule)) >= 3))


def warm_up(settings: QuizSettings, config_dir: Path) -> None:
    """The group's banks, the idiom dictionary and its rule's starting idioms, before
    anyone plays (each is read once per process and file version). The dictionary is compact
    (~1.5 MB resident, plugins/quiz/idioms.py), so the first 成语接龙 need not wait for it."""
    readable_banks(config_dir, settings.banks)
    chain_starts(settings.chain.same_sound)


async def start_chain(ctx: Ctx, first: str, started_by: str) -> str | None:
    await settle(ctx)  # a game stale from before a restart ends first
    idioms = await loaded_idioms()
    rule = ctx.settings.chain.same_sound
    if first:
        first = normalize(first)
        if first not in idioms:
            return ctx.t("chain.unknown", idiom=excerpt(first))
        if not idioms.continuations(first, rule):
            return ctx.t("chain.dead_start", idiom=excerpt(first))
    else:
        # Computed once, off the event loop: the other groups keep being answered meanwhile.
        first = rng(ctx).choice(await asyncio.to_thread(chain_starts, rule))
    async with ctx.transaction() as session:
        try:
            game_round = await service.claim(session, ctx.group.id, "chain", started_by,
                                             now(ctx))
        except service.GameBusy as busy:
            return ctx.t(f"busy.{busy.game}")
        fanout.changed(ctx)
        await service.add_move(session, game_round, 0, first, "bot", "", 0, now(ctx))
        seconds = int(ctx.settings.chain.timeout.total_seconds())
        await ctx.say(ctx.t("chain.start", idiom=first, pinyin=" ".join(idioms.pinyin[first]),
                            seconds=seconds) + "\n" + chain_rule_text(ctx, first))
    deadline = now(ctx) + ctx.settings.chain.timeout
    _cache(ctx)[ctx.group.id] = Current("chain", game_round.id, last_idiom=first, position=0,
                                        used={first}, deadline=deadline)
    _arm_chain(ctx, game_round.id, 0, deadline)
    return None


def _arm_chain(ctx: Ctx, round_id: int, position: int, at: datetime) -> None:
    ctx.services.scheduler.call_at(at, f"quiz.chain:{ctx.group.id}:{round_id}:{position}",
                                   lambda: chain_timeout(detached(ctx), round_id, position))


async def chain_timeout(ctx: Ctx, round_id: int, position: int) -> None:
    async with ctx.transaction() as session:
        game_round = await session.get(QuizRound, round_id)
        moves = await service.chain_moves(session, round_id)
        if game_round is None or game_round.ended_at is not None or len(moves) - 1 != position:
            return  # someone followed in time, or the game is over
        last = moves[-1].idiom
        options = (await loaded_idioms()).continuations(last, ctx.settings.chain.same_sound,
                                             {m.idiom for m in moves})
        lead = (ctx.t("chain.could_have", idiom=options[0]),) if options else ()
        await _finish(ctx, session, game_round, "timeout", lead)


async def chain_move(ctx: Context[QuizSettings]) -> bool:
    cur = await current(ctx)
    if cur is None or cur.game != "chain":
        return False
    if len(said(ctx)) > 100:  # an idiom is at most 12 characters, even with emoji around
        return False  # (and normalizing 100 KB of chatter would take a quarter second)
    text = without_emoji(said(ctx)).strip()
    word = normalize(text)
    idioms, rule = await loaded_idioms(), ctx.settings.chain.same_sound
    if not 3 <= len(word) <= 12 or word == cur.last_idiom:
        return False
    if not idioms.follows(cur.last_idiom, word, rule):
        if word in idioms:
            await ctx.reply(chain_rule_text(ctx, cur.last_idiom))
            return True
        return False
    if word not in idioms:
        if not _attempt(text, word, cur.last_idiom, rule):
            return False  # chat that happens to start with the character
        await ctx.reply(ctx.t("chain.not_idiom", idiom=excerpt(word)))
        return True
    if word in cur.used:
        await ctx.reply(ctx.t("chain.repeat", idiom=word))
        return True
    return await _take_move(ctx, cur, word)


def _attempt(text: str, word: str, last: str, rule: SameSound) -> bool:
    """Does a message that is no idiom look like a try at one, worth telling so? Only Han
    characters, none of the spaces or punctuation of a sentence, and four of them (most
    idioms) or as many as an idiom that may follow has."""
    if not HAN.fullmatch(text):
        return False
    lengths = {4} | {len(w) for w in dictionary().continuations(last, rule)}
    return len(word) in lengths


async def _take_move(ctx: Context[QuizSettings], cur: Current, word: str) -> bool:
    points = ctx.settings.chain.points
    async with ctx.transaction() as session:
        if await ctx.services.blackroom.keeps_out(ctx, session):
            return True  # no scoring from the 小黑屋: the turn stays open
        game_round = await session.get(QuizRound, cur.round_id)
        if game_round is None or game_round.ended_at is not None:
            forget(ctx)
            return False
        position = cur.position + 1
        if not await service.add_move(session, game_round, position, word, ctx.sender_id,
                                      ctx.sender_name, points, now(ctx)):
            forget(ctx)  # someone else took this turn (or the idiom): reload next time
            return True
        deadline = now(ctx) + ctx.settings.chain.timeout
        cur.last_idiom, cur.position, cur.deadline = word, position, deadline
        cur.used.add(word)
        text = ctx.t("chain.ok", name=ctx.sender_name, idiom=word, points=points,
                     count=position)
        if not dictionary().continuations(word, ctx.settings.chain.same_sound, cur.used):
            await ctx.say(text, mentions=(ctx.sender_id,))
            await _finish(ctx, session, game_round, "dead_end")
            return True
        await ctx.say(text + "\n" + chain_rule_text(ctx, word), mentions=(ctx.sender_id,))
    _arm_chain(ctx, cur.round_id, position, deadline)
    return True


async def chain_hint(ctx: Context[QuizSettings]) -> str:
    """The n-th hint of a game shows the n-th distinct opening (two characters) among the
    idioms that may follow, common ones first, so asking again shows something new."""
    await settle(ctx)
    cur = await current(ctx)
    if cur is None or cur.game != "chain":
        return ctx.t("chain.none")
    options = (await loaded_idioms()).continuations(cur.last_idiom, ctx.settings.chain.same_sound,
                                         cur.used)
    if not options:
        return ctx.t("chain.no_hint")
    async with ctx.transaction() as session:
        used = await service.use_hint(session, cur.round_id, ctx.settings.chain.hints)
    if used is None:
        return ctx.t("chain.hints_used", count=ctx.settings.chain.hints)
    hints = list(dict.fromkeys(w[:2] + "＿" * (len(w) - 2) for w in options))
    return ctx.t("chain.hint", hint=hints[(used - 1) % len(hints)])

