"""The starter a new deployment edits: bot.yaml and config/, shipped inside the package.

The repository's own bot.yaml and config/ are links to the same files, so the quick start,
the examples and `bot init` all use one copy.
"""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

CONFIG_FILE = "bot.yaml"
CONTENT_DIR = "config"


class TargetExists(Exception):
    """init would overwrite what is already there."""


def write_starter(target: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the starter bot.yaml and config/ into `target`; returns what was written."""
    target.mkdir(parents=True, exist_ok=True)
    existing = [target / name for name in (CONFIG_FILE, CONTENT_DIR) if (target / name).exists()]
    if existing and not overwrite:
        names = ", ".join(str(p) for p in existing)
        raise TargetExists(f"{names} already exist(s); use --force to overwrite")
    with as_file(files("bot") / "skeleton") as skeleton:
        shutil.copyfile(skeleton / CONFIG_FILE, target / CONFIG_FILE)
        shutil.copytree(skeleton / CONTENT_DIR, target / CONTENT_DIR, dirs_exist_ok=True)
    written = [target / CONFIG_FILE]
    written += sorted(p for p in (target / CONTENT_DIR).rglob("*") if p.is_file())
    return written
