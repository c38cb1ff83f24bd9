"""Curated briefing files under config/: read, validated, and every problem with its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.config import ConfigError, ConfigIssue, load_content, load_content_kept
from plugins.briefing.settings import CuratedFile, CuratedItem

TAGS_DIR = Path("briefing") / "tags"  # under config/: <tag>.yaml reaches groups with that tag


def read_curated(path: Path) -> CuratedFile:
    """The file's items by date; raises ConfigError naming file:line for each problem."""
    return load_content(path, CuratedFile)


def tag_files(config_dir: Path, tags: tuple[str, ...]) -> list[Path]:
    return [p for tag in tags if (p := config_dir / "config" / TAGS_DIR / f"{tag}.yaml").is_file()]


@dataclass
class DayContent:
    items: list[CuratedItem] = field(default_factory=list)
    closing: str | None = None  # the first closing line a file gives for the day
    broken: dict[Path, str] = field(default_factory=dict)  # skipped file: its first problem
    # Files an edit broke while the bot runs: their last good version is used; these are the
    # new version's problems, for the operators.
    kept: list[ConfigIssue] = field(default_factory=list)


def curated_items(paths: list[Path], day: date, group_tags: tuple[str, ...]) -> DayContent:
    """The day's items from these files (tagged items only for groups sharing a tag).

    A file an edit broke while the bot runs gives its last good version (its problems in
    `kept`); one that never loaded in this process is skipped, not fatal: the rest of the
    briefing still goes out, and the caller reports the file."""
    content = DayContent()
    for path in paths:
        try:
            curated, problems = load_content_kept(path, CuratedFile)
        except ConfigError as exc:
            content.broken[path] = _first_problem(path, exc)
            continue
        content.kept += problems
        entry = curated.days.get(day)
        if entry is None:
            continue
        content.items += [i for i in entry.items if not i.tags or set(i.tags) & set(group_tags)]
        content.closing = content.closing or entry.closing
    return content


def _first_problem(path: Path, exc: ConfigError) -> str:
    if not exc.issues:
        return str(exc) or "?"
    return exc.issues[0].describe(path.name)


def check_files(paths: list[Path]) -> list[ConfigIssue]:
    """Every problem of every file, each at its file and line."""
    problems: list[ConfigIssue] = []
    for path in paths:
        try:
            read_curated(path)
        except ConfigError as exc:
            problems += exc.issues
    return problems
