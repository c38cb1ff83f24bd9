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
from plugins.qa.matcher import shipped_synonyms
from plugins.qa.service import faq_file_problems
from plugins.qa.settings import QaSettings
from plugins.qa.texts import TEXTS


def check_faq_files(settings: QaSettings, config_dir: Path) -> list[ConfigIssue]:
    return [problem for name in settings.faq_files
            for problem in faq_file_problems(config_dir / "config" / name)]


plugin: Plugin[QaSettings] = Plugin(
    name="qa",
    title="问答",
    title_en="Q&A",
    settings=QaSettings,
    routers=[router],
    texts=TEXTS,
    check_content=check_faq_files,
    digest=contribute,
    # At start, not on the first question: jieba, the synonym list, the character table.
    warm_up=lambda _settings, _folder: (load_segmenter(), shipped_synonyms(), simplified("")),
)
