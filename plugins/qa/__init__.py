"""@提问者: answer @-mentions from the group's FAQ; admins teach the bot in chat."""

from __future__ import annotations

from pathlib import Path

from bot.activity import load_segmenter
from bot.config import ConfigIssue
from bot.input import simplified
from bot.plugin import Plugin
from plugins.qa import models  # noqa: F401  (tables for migrations)
from plugins.qa.digest import contribute
from plugins.qa.handlers import router
from plugins.qa.service import faq_file_problems, load_faq
from plugins.qa.settings import QaSettings
from plugins.qa.texts import TEXTS


def check_faq_files(settings: QaSettings, config_dir: Path) -> list[ConfigIssue]:
    return [problem for name in settings.faq_files
            for problem in faq_file_problems(config_dir / "config" / name)]


def warm_up(settings: QaSettings, config_dir: Path) -> None:
    """Before the first question: jieba's dictionary, the matcher's libraries, the synonym
    list, the character table and the group's FAQ files (the first `@小助手` question took
    0.3 s importing them)."""
    from plugins.qa.matcher import shipped_synonyms

    load_segmenter()
    shipped_synonyms()
    simplified("")
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
