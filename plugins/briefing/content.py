"""Curated briefing files under config/: read, validated, and every problem with its line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.config import ConfigError, load_content
from plugins.briefing.settings import CuratedFile, CuratedItem

TAGS_DIR = Path("briefing") / "tags"  # under config/: <tag>.yaml reaches groups with that tag


def read_curated(path: Path) -> CuratedFile:
    """The file's items by date; raises ConfigError naming file:line for each problem."""
    return load_content(path, CuratedFile)


def tag_files(config_dir: Path, tags: tuple[str, ...]) -> list[Path]:
    return [p for tag in tags if (p := config_dir / "config" / TAGS_DIR / f"{tag}.yaml").is_file()]


def curated_items(
    paths: list[Path], day: date, group_tags: tuple[str, ...]
) -> tuple[list[CuratedItem], str | None]:
    """The day's items from these files (tagged items only for groups sharing a tag), and
    the first closing line a file gives for the day."""
    items: list[CuratedItem] = []
    closing = None
    for path in paths:
        entry = read_curated(path).days.get(day)
        if entry is None:
            continue
        items += [i for i in entry.items if not i.tags or set(i.tags) & set(group_tags)]
        closing = closing or entry.closing
    return items, closing


def check_files(paths: list[Path]) -> list[str]:
    problems: list[str] = []
    for path in paths:
        try:
            read_curated(path)
        except ConfigError as exc:
            problems += [str(issue) for issue in exc.issues]
    return problems
