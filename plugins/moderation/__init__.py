"""群规: moderation that sees every message first, escalates, and welcomes new members."""

from __future__ import annotations

from pathlib import Path

from bot.plugin import Plugin
from plugins.moderation import models  # noqa: F401  (tables for migrations)
from plugins.moderation.detect import entry_problems, load_words, warm_up
from plugins.moderation.digest import contribute
from plugins.moderation.handlers import router
from plugins.moderation.settings import ModerationSettings
from plugins.moderation.texts import TEXTS


def check_word_files(settings: ModerationSettings, config_dir: Path) -> list[str]:
    missing = [name for name in settings.word_files if not (config_dir / "config" / name).is_file()]
    if missing:
        return [f"{config_dir / 'config' / name}: 找不到词表文件 (file not found)"
                for name in missing]
    return [problem for entry in load_words(settings, config_dir)
            for problem in entry_problems(entry)]


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
