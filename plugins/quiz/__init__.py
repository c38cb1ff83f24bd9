"""有奖问答, 看图猜成语 and 成语接龙: banks under config/quiz/, points through the ledger."""

from __future__ import annotations

from pathlib import Path

from bot.plugin import Job, Plugin
from plugins.quiz import models  # noqa: F401  (tables for migrations)
from plugins.quiz.bank import check_banks
from plugins.quiz.digest import contribute
from plugins.quiz.handlers import daily_quiz, daily_schedules, router
from plugins.quiz.settings import QuizSettings
from plugins.quiz.texts import TEXTS


def check_quiz_banks(settings: QuizSettings, config_dir: Path) -> list[str]:
    return check_banks(config_dir, settings.banks)


plugin: Plugin[QuizSettings] = Plugin(
    name="quiz",
    title="有奖问答",
    title_en="Quiz",
    settings=QuizSettings,
    routers=[router],
    jobs=[Job("daily", daily_quiz, when=daily_schedules)],
    texts=TEXTS,
    check_content=check_quiz_banks,
    digest=contribute,
)
