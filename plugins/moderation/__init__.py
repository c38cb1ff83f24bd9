"""群规: moderation that sees every message first, escalates, and welcomes new members."""

from __future__ import annotations

from pathlib import Path

from bot.config import ConfigIssue, ContentProblem, KeyProblem
from bot.config.files import read_text
from bot.plugin import Plugin
from plugins.moderation import models  # noqa: F401  (tables for migrations)
from plugins.moderation.detect import WordEntry, entry_problems, warm_up
from plugins.moderation.digest import contribute
from plugins.moderation.handlers import router
from plugins.moderation.settings import ModerationSettings
from plugins.moderation.texts import TEXTS


def check_word_files(settings: ModerationSettings, config_dir: Path) -> list[ContentProblem]:
    """A missing word file at its own line in bot.yaml; a bad entry at its file and line."""
    problems: list[ContentProblem] = []
    for n, word in enumerate(settings.banned_words):
        problems += [KeyProblem(("banned_words", n), p) for p in entry_problems(
            WordEntry.parse(word))]
    for n, name in enumerate(settings.word_files):
        path = config_dir / "config" / name
        if not path.is_file():
            problems.append(KeyProblem(("word_files", n),
                                       f"找不到词表文件 (file not found): {name}"))
            continue
        for number, line in enumerate(read_text(path).splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                problems += [ConfigIssue(path, number, "", p)
                             for p in entry_problems(WordEntry.parse(line))]
    return problems


plugin: Plugin[ModerationSettings] = Plugin(
    name="moderation",
    title="群规管理",
    title_en="Group rules",
    settings=ModerationSettings,
    routers=[router],
    texts=TEXTS,
    check_content=check_word_files,
    digest=contribute,
    warm_up=warm_up,
)
