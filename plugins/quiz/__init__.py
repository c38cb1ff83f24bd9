"""有奖问答, 看图猜成语 and 成语接龙: banks under config/quiz/, points through the ledger."""

from __future__ import annotations

from pathlib import Path

from bot.config import ContentProblem, KeyProblem
from bot.plugin import Job, Plugin
from plugins.quiz import models  # noqa: F401  (tables for migrations)
from plugins.quiz.bank import check_banks
from plugins.quiz.digest import contribute
from plugins.quiz.fanout import prepare_daily
from plugins.quiz.game import warm_up
from plugins.quiz.handlers import daily_quiz, daily_schedules, restore, router
from plugins.quiz.settings import QuizSettings
from plugins.quiz.texts import TEXTS


def check_quiz_banks(settings: QuizSettings, config_dir: Path) -> list[ContentProblem]:
    """Every problem of every bank, then each daily quiz naming a bank that is not there."""
    found, banks = check_banks(config_dir, settings.banks)
    problems: list[ContentProblem] = list(found)
    if banks is None:  # a broken bank: its own problems say enough
        return problems
    names = {name for bank in banks for name in bank.names()}
    for n, daily in enumerate(settings.daily):
        if daily.bank and daily.bank.casefold() not in names:
            problems.append(KeyProblem(("daily", n, "bank"), (
                f"没有这个题库 (no such bank): {daily.bank}; 可用 (banks): "
                f"{'、'.join(b.bank.name for b in banks) or '-'}")))
    return problems


plugin: Plugin[QuizSettings] = Plugin(
    name="quiz",
    title="有奖问答",
    title_en="Quiz",
    settings=QuizSettings,
    routers=[router],
    jobs=[Job("daily", daily_quiz, when=daily_schedules, prepare=prepare_daily)],
    texts=TEXTS,
    check_content=check_quiz_banks,
    digest=contribute,
    on_start=restore,
    warm_up=warm_up,
)
