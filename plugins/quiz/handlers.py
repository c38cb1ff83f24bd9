"""Quiz and idiom-chain commands; the game logic is in game.py and service.py."""

from __future__ import annotations

from bot.context import Context, JobContext
from bot.input import read_int
from bot.plugin import Role, Router, Schedule
from plugins.quiz import game
from plugins.quiz.settings import QuizSettings

router = Router()

MAX_QUESTIONS = 30
EMOJI_BANK = "看图猜成语"
# `5题`, `五道题`: a count may carry its measure word.
COUNT_UNITS = ("道题", "道", "题")


def parse_count(word: str) -> int | None:
    """`5`, `５`, `五`, `十五`, `5题`, `五道题` → the number; None if `word` is no count
    (a bank's name, then). A count may be out of range: `0`, `-3`, `99999`."""
    return read_int(word, COUNT_UNITS)


def parse_quiz_args(args: str, default_count: int) -> tuple[str | None, int | None]:
    """`[bank] [n]` in either order; the count is None when it is outside 1..MAX_QUESTIONS
    (the caller says so rather than guess what was meant)."""
    words = args.split()
    count: int | None = default_count
    for index, word in enumerate(words):
        number = parse_count(word)
        if number is not None:
            count = number if 1 <= number <= MAX_QUESTIONS else None
            del words[index]
            break
    return (" ".join(words)[:40] or None), count


async def _bad_count(ctx: Context[QuizSettings], usage: str) -> None:
    await ctx.reply(ctx.t("quiz.bad_count", low=1, high=MAX_QUESTIONS, usage=ctx.t(usage)))


@router.command("quiz", "答题", "有奖问答", help="开始有奖问答：答题 [题库] [题数]",
                help_en="start a quiz: quiz [bank] [count]")
async def start_quiz(ctx: Context[QuizSettings]) -> None:
    bank, count = parse_quiz_args(ctx.args, ctx.settings.questions)
    await _start(ctx, bank, count, "quiz.usage")


@router.command("guessidiom", "看图猜成语", help="看 emoji 猜成语：看图猜成语 [题数]",
                help_en="guess idioms from emoji: guessidiom [count]")
async def start_emoji_quiz(ctx: Context[QuizSettings]) -> None:
    _, count = parse_quiz_args(ctx.args, ctx.settings.questions)
    await _start(ctx, EMOJI_BANK, count, "quiz.usage_emoji")


async def _start(ctx: Context[QuizSettings], bank: str | None, count: int | None,
                 usage: str) -> None:
    """A round of `count` questions, or the usage line when the count is out of range."""
    if count is None:
        await _bad_count(ctx, usage)
        return
    if problem := await game.start_quiz(ctx, bank, count, ctx.sender_id):
        await ctx.reply(problem)


@router.command("quizbanks", "题库", help="查看可用的题库", help_en="list the question banks")
async def list_banks(ctx: Context[QuizSettings]) -> None:
    lines = [ctx.t("quiz.bank_line", name=b.title(ctx.group.language),
                   count=len(b.bank.questions))
             for b in game.banks(ctx)]
    await ctx.reply(ctx.t("quiz.banks", lines="\n".join(lines) or "-"), mention=False)


@router.command("stopquiz", "停止答题", "结束接龙", role=Role.ADMIN,
                help="结束正在进行的问答或接龙", help_en="stop the running quiz or idiom chain")
async def stop_game(ctx: Context[QuizSettings]) -> None:
    if not await game.stop(ctx):
        await ctx.reply(ctx.t("stop.none"))


@router.command("chain", "成语接龙", "接龙", help="开始成语接龙：成语接龙 [第一个成语]",
                help_en="start an idiom chain: chain [first idiom]")
async def start_chain(ctx: Context[QuizSettings]) -> None:
    problem = await game.start_chain(ctx, ctx.args.strip()[:50], ctx.sender_id)  # idioms: ≤ 12
    if problem:
        await ctx.reply(problem)


@router.command("chainhint", "接龙提示", help="成语接龙的提示",
                help_en="a hint for the idiom chain")
async def chain_hint(ctx: Context[QuizSettings]) -> None:
    await ctx.reply(await game.chain_hint(ctx), mention=False)


@router.passive
async def answer_or_follow(ctx: Context[QuizSettings]) -> bool:
    if not ctx.message.text.strip():
        return False
    if await game.settle(ctx):
        return False  # it came after a time limit whose timer was lost in a restart
    return await game.answer(ctx) or await game.chain_move(ctx)


async def restore(ctx: JobContext[QuizSettings]) -> None:
    """At start: a running question or chain gets its timers back; one whose time ran out
    while the bot was down is timed out now."""
    await game.settle(ctx)


def daily_schedules(settings: QuizSettings) -> list[Schedule]:
    return [Schedule(key=f"{quiz.at:%H:%M}#{n}", at=quiz.at, weekdays=tuple(quiz.weekdays),
                     payload=(quiz.bank, quiz.questions))
            for n, quiz in enumerate(settings.daily, start=1)]


async def daily_quiz(ctx: JobContext[QuizSettings]) -> None:
    bank, count = ctx.payload
    problem = await game.start_quiz(ctx, bank, count, "bot")
    if problem:
        ctx.log.info("daily quiz not started: %s", problem)
