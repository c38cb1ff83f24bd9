"""A configuration enabling every shipped plugin, with the repository's own content files
(the shipped bot.yaml's richest group): for tests that walk every command or plugin."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def shipped_plugins() -> dict[str, Any]:
    """Every plugin block of the shipped bot.yaml's groups (the first group to tune a plugin
    gives its block): together they enable every shipped plugin."""
    data = yaml.safe_load((ROOT / "bot.yaml").read_text(encoding="utf-8"))
    blocks: dict[str, Any] = {}
    for group in data["groups"].values():
        for name, block in (group.get("plugins") or {}).items():
            blocks.setdefault(name, block if block is not None else {})
    return copy.deepcopy(blocks)


def copy_content(directory: Path) -> None:
    """The repository's config/ (FAQ, quiz banks, word lists…) next to a test's bot.yaml."""
    shutil.copytree(ROOT / "config", directory / "config", dirs_exist_ok=True)


_ABSOLUTE_PATH = re.compile(r"(?:^|[\s\"'(（「:：=])(/[\w.-]+){2,}")


def leaks(text: str, secrets: list[str]) -> list[str]:
    """What a message into a group must never hold: a server path, a stack trace, or any
    of `secrets` (other groups' ids and names, tokens, the server's folders)."""
    found = [s for s in secrets if s and s in text]
    if _ABSOLUTE_PATH.search(text):
        found.append("an absolute path")
    if "Traceback" in text or 'File "' in text:
        found.append("a stack trace")
    return found
