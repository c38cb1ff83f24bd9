"""Running a game in a group: posting questions, timers, answers, the scoreboard.

Timers are the core scheduler's one-off `call_at` (driven by the harness clock in tests).
They live in memory; the deadlines live in the database, so after a restart the first
message in the group reloads the game, times out an overdue question (or chain) at once and
re-arms the timers of one still running.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, JobContext
from bot.events import Outgoing, OutKind
from plugins.quiz import service
from plugins.quiz.answers import is_correct, normalize
from plugins.quiz.bank import LoadedBank, Question, bank_paths, load_bank
from plugins.quiz.idioms import dictionary
from plugins.quiz.models import QuizAsked, QuizRound
from plugins.quiz.settings import QuizSettings

Ctx = Context[QuizSettings] | JobContext[QuizSettings]


@dataclass
class Current:
    """What the passive handler compares messages with (a cache of the database)."""

    game: str
    round_id: int
    asked_id: int | None = None
    question: Question | None = None
    deadline: datetime | None = None
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


async def send(ctx: Ctx, text: str, mentions: tuple[str, ...] = (),
               image: str | None = None) -> None:
    """Game messages are interactive: they go out with replies, ahead of timed posts."""
    ctx.outbox.put(Outgoing(text=text, kind=OutKind.REPLY, group_id=ctx.group.id,
                            mentions=mentions, image_path=image))


def banks(ctx: Ctx) -> list[LoadedBank]:
    loaded = []
    for path in bank_paths(ctx.services.config.base_dir, ctx.settings.banks):
        try:
            loaded.append(load_bank(path))
        except (ValueError, OSError):
            ctx.log.warning("quiz bank %s cannot be read; `bot config check` says why", path)
    return loaded


def find_banks(ctx: Ctx, name: str | None) -> list[LoadedBank]:
    available = banks(ctx)
    if not name:
        return available
    return [b for b in available if name.casefold() in b.names()]


# -- loading the current game ------------------------------------------------------------------

async def current(ctx: Ctx) -> Current | None:
    cache = _cache(ctx)
    if ctx.group.id not in cache:
        async with ctx.transaction() as session:
            cache[ctx.group.id] = await _load_current(session, ctx.group.id)
        _rearm(ctx, cache[ctx.group.id])
    return cache[ctx.group.id]


def _rearm(ctx: Ctx, cur: Current | None) -> None:
    """Timers of a game loaded from the database (after a restart); pending keys are kept,
    and a hint whose time has passed is not given again."""
    if cur is None or cur.deadline is None:
        return
    if cur.game == "chain":
        _arm_chain(ctx, cur.round_id, cur.position, cur.deadline + ctx.settings.chain.timeout)
    elif cur.asked_id is not None:
        hint_at = cur.deadline - ctx.settings.time_limit + ctx.settings.hint_after
        _arm_question(ctx, cur.asked_id, hint_at if hint_at > now(ctx) else None, cur.deadline)


async def _load_current(session: AsyncSession, group_id: str) -> Current | None:
    game_round = await service.active_round(session, group_id)
    if game_round is None:
        return None
    if game_round.game == "chain":
        moves = await service.chain_moves(session, game_round.id)
        last = moves[-1] if moves else None
        return Current("chain", game_round.id, last_idiom=last.idiom if last else "",
                       position=last.position if last else 0, used={m.idiom for m in moves},
                       deadline=last.at if last else game_round.started_at)
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
    chosen = find_banks(ctx, bank_name)
    if not chosen:
        names = "、".join(b.bank.name for b in banks(ctx)) or "-"
        return ctx.t("quiz.no_bank", name=bank_name or "", banks=names)
    async with ctx.transaction() as session:
        recent = await service.recent_questions(session, ctx.group.id)
        plan = service.plan_round(chosen, count, recent, rng(ctx))
        title = chosen[0].bank.name if len(chosen) == 1 else ctx.t("quiz.mixed")
        try:
            game_round = await service.claim(session, ctx.group.id, "quiz", started_by, now(ctx),
                                             bank=title, plan=plan)
        except service.GameBusy as busy:
            return ctx.t(f"busy.{busy.game}")
        asked, question = await _ask(ctx, session, game_round, 1)
    forget(ctx)
    await send(ctx, ctx.t("quiz.start", bank=title, count=len(plan)))
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
    asked = await service.ask(session, game_round, position, key, index, question, now(ctx),
                              ctx.settings.time_limit)
    return asked, question


async def _post_question(ctx: Ctx, asked: QuizAsked, question: Question, total: int) -> None:
    image = None
    if question.image and ctx.capabilities.send_image:
        bank = next((b for b in banks(ctx) if b.key == asked.bank), None)
        image = str(bank.path.parent / question.image) if bank else None
    seconds = int(ctx.settings.time_limit.total_seconds())
    await send(ctx, ctx.t("quiz.question", n=asked.position, total=total, text=question.text(),
                          seconds=seconds), image=image)
    _cache(ctx)[ctx.group.id] = Current("quiz", asked.round_id, asked.id, question,
                                        asked.deadline_at)
    _arm_question(ctx, asked.id, asked.asked_at + ctx.settings.hint_after, asked.deadline_at)


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
    await send(ctx, text)


async def timeout(ctx: Ctx, asked_id: int) -> None:
    """The time limit passed: show the answer, then the next question or the scoreboard."""
    async with ctx.transaction() as session:
        if not await service.close(session, asked_id, "timeout", now(ctx)):
            return
        asked = await session.get(QuizAsked, asked_id)
        assert asked is not None
        question = Question.model_validate(asked.question)
        lines = [ctx.t("quiz.timeout", answer=question.answer)]
        if question.explanation:
            lines.append(ctx.t("quiz.explanation", text=question.explanation))
        await send(ctx, "\n".join(lines))
        await _next(ctx, session, asked.round_id, asked.position)


async def _next(ctx: Ctx, session: AsyncSession, round_id: int, position: int) -> None:
    game_round = await session.get(QuizRound, round_id)
    if game_round is None or game_round.ended_at is not None:
        forget(ctx)
        return
    total = len(game_round.plan)
    if position >= total:
        await _finish(ctx, session, game_round, "done")
        return
    asked, question = await _ask(ctx, session, game_round, position + 1)
    await _post_question(ctx, asked, question, total)


async def _finish(ctx: Ctx, session: AsyncSession, game_round: QuizRound, reason: str) -> None:
    if not await service.release(session, game_round, reason, now(ctx)):
        return
    _cache(ctx)[ctx.group.id] = None
    if game_round.game == "chain":
        scores = await service.chain_scores(session, game_round.id)
        moves = len(await service.chain_moves(session, game_round.id)) - 1
        lines = [ctx.t(f"chain.end.{reason}", count=moves)]
        lines += [ctx.t("chain.score", n=n, name=name, count=count, points=points)
                  for n, (name, count, points) in enumerate(scores[:10], start=1)]
    else:
        scores = await service.quiz_scores(session, game_round.id)
        lines = [ctx.t(f"quiz.end.{reason}")]
        lines += [ctx.t("quiz.score", n=n, name=name, count=count, points=points)
                  for n, (name, count, points) in enumerate(scores[:10], start=1)]
        if not scores:
            lines.append(ctx.t("quiz.nobody"))
    await send(ctx, "\n".join(lines))


async def answer(ctx: Context[QuizSettings]) -> bool:
    """A message during a question: the first correct one wins. True if it was consumed."""
    cur = await current(ctx)
    if cur is None or cur.game != "quiz" or cur.asked_id is None or cur.question is None:
        return False
    if cur.deadline is not None and now(ctx) >= cur.deadline:  # a timer lost in a restart
        await timeout(ctx, cur.asked_id)
        return False
    if not is_correct(cur.question, ctx.message.text):
        return False
    points = ctx.settings.points.get(cur.question.difficulty, 0)
    async with ctx.transaction() as session:
        if not await service.win(session, cur.asked_id, ctx.group.id, ctx.sender_id,
                                 ctx.sender_name, points, now(ctx)):
            return True  # someone was quicker
        asked = await session.get(QuizAsked, cur.asked_id)
        assert asked is not None
        lines = [ctx.t("quiz.right", name=ctx.sender_name, answer=cur.question.answer,
                       points=points)]
        if cur.question.explanation:
            lines.append(ctx.t("quiz.explanation", text=cur.question.explanation))
        await send(ctx, "\n".join(lines), mentions=(ctx.sender_id,))
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

def chain_rule_text(ctx: Ctx, idiom: str) -> str:
    idioms = dictionary()
    sound = idioms.last_sound(idiom) if idiom in idioms else ""
    key = "chain.next" if ctx.settings.chain.same_sound == "none" else "chain.next_sound"
    return ctx.t(key, char=idiom[-1], sound=sound)


async def start_chain(ctx: Ctx, first: str, started_by: str) -> str | None:
    idioms = dictionary()
    rule = ctx.settings.chain.same_sound
    if first:
        first = normalize(first)
        if first not in idioms:
            return ctx.t("chain.unknown", idiom=first)
        if not idioms.continuations(first, rule):
            return ctx.t("chain.dead_start", idiom=first)
    else:
        starts = sorted(w for w in idioms.common if len(w) == 4
                        and len(idioms.continuations(w, rule)) >= 3)
        first = rng(ctx).choice(starts)
    async with ctx.transaction() as session:
        try:
            game_round = await service.claim(session, ctx.group.id, "chain", started_by,
                                             now(ctx))
        except service.GameBusy as busy:
            return ctx.t(f"busy.{busy.game}")
        await service.add_move(session, game_round, 0, first, "bot", "", 0, now(ctx))
    _cache(ctx)[ctx.group.id] = Current("chain", game_round.id, last_idiom=first, position=0,
                                        used={first}, deadline=now(ctx))
    seconds = int(ctx.settings.chain.timeout.total_seconds())
    await send(ctx, ctx.t("chain.start", idiom=first, pinyin=" ".join(idioms.pinyin[first]),
                          seconds=seconds) + "\n" + chain_rule_text(ctx, first))
    _arm_chain(ctx, game_round.id, 0, now(ctx) + ctx.settings.chain.timeout)
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
        options = dictionary().continuations(last, ctx.settings.chain.same_sound,
                                             {m.idiom for m in moves})
        if options:
            await send(ctx, ctx.t("chain.could_have", idiom=options[0]))
        await _finish(ctx, session, game_round, "timeout")


async def chain_move(ctx: Context[QuizSettings]) -> bool:
    cur = await current(ctx)
    if cur is None or cur.game != "chain":
        return False
    if cur.deadline is not None and now(ctx) - cur.deadline >= ctx.settings.chain.timeout:
        await chain_timeout(ctx, cur.round_id, cur.position)  # a timer lost in a restart
        return False
    word = normalize(ctx.message.text)
    idioms, rule = dictionary(), ctx.settings.chain.same_sound
    if not 3 <= len(word) <= 12 or word == cur.last_idiom:
        return False
    if not idioms.follows(cur.last_idiom, word, rule):
        if word in idioms:
            await ctx.reply(chain_rule_text(ctx, cur.last_idiom))
            return True
        return False
    if word not in idioms:
        await ctx.reply(ctx.t("chain.not_idiom", idiom=word))
        return True
    if word in cur.used:
        await ctx.reply(ctx.t("chain.repeat", idiom=word))
        return True
    return await _take_move(ctx, cur, word)


async def _take_move(ctx: Context[QuizSettings], cur: Current, word: str) -> bool:
    points = ctx.settings.chain.points
    async with ctx.transaction() as session:
        game_round = await session.get(QuizRound, cur.round_id)
        if game_round is None or game_round.ended_at is not None:
            forget(ctx)
            return False
        position = cur.position + 1
        if not await service.add_move(session, game_round, position, word, ctx.sender_id,
                                      ctx.sender_name, points, now(ctx)):
            forget(ctx)  # someone else took this turn (or the idiom): reload next time
            return True
        cur.last_idiom, cur.position, cur.deadline = word, position, now(ctx)
        cur.used.add(word)
        text = ctx.t("chain.ok", name=ctx.sender_name, idiom=word, points=points,
                     count=position)
        if not dictionary().continuations(word, ctx.settings.chain.same_sound, cur.used):
            await send(ctx, text, mentions=(ctx.sender_id,))
            await _finish(ctx, session, game_round, "dead_end")
            return True
    await send(ctx, text + "\n" + chain_rule_text(ctx, word), mentions=(ctx.sender_id,))
    _arm_chain(ctx, cur.round_id, position, now(ctx) + ctx.settings.chain.timeout)
    return True


async def chain_hint(ctx: Context[QuizSettings]) -> str:
    cur = await current(ctx)
    if cur is None or cur.game != "chain":
        return ctx.t("chain.none")
    options = dictionary().continuations(cur.last_idiom, ctx.settings.chain.same_sound,
                                         cur.used)
    if not options:
        return ctx.t("chain.no_hint")
    async with ctx.transaction() as session:
        if not await service.use_hint(session, cur.round_id, ctx.settings.chain.hints):
            return ctx.t("chain.hints_used", count=ctx.settings.chain.hints)
    word = options[0]
    return ctx.t("chain.hint", hint=word[:2] + "＿" * (len(word) - 2))

