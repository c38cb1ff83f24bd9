"""@提问者: answer @-mentions from the group's FAQ; admins teach the bot in chat."""

from __future__ import annotations

from pathlib import Path

from bot.activity import load_segmenter
from bot.plugin import Plugin
from plugins.qa import models  # noqa: F401  (tables for migrations)
from plugins.qa.digest import contribute
from plugins.qa.handlers import router
from plugins.qa.service import load_faq, read_faq_file
from plugins.qa.settings import QaSettings
from plugins.qa.texts import TEXTS


def check_faq_files(settings: QaSettings, config_dir: Path) -> list[str]:
    problems = []
    for name in settings.faq_files:
        try:
            read_faq_file(config_dir / "config" / name)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def warm_up(settings: QaSettings, config_dir: Path) -> None:
    """Before the first question: jieba's dictionary, the matcher's libraries and the
    group's FAQ files (the first `@小助手` question took 0.3 s importing them)."""
    load_segmenter()
    load_faq([config_dir / "config" / name for name in settings.faq_files])


plugin: Plugin[QaSettings] = Plugin(
    name="qa",
    title="问答",
    title_en="Q&A",
    settings=QaSettings,
    routers=[router],
    texts=TEXTS,
    check_content=check_faq_files,
    digest=contribute,
    warm_up=warm_up,
)
