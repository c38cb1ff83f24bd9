"""`bot new-plugin NAME`: a working plugin package to start from (docs/plugins.md walks it).

It has everything a plugin may have — settings, a command, a job, texts, a table with its
own Alembic branch, and a test on the harness — and installs like any distribution.
"""

from __future__ import annotations

import re
from importlib.resources import as_file, files
from pathlib import Path

from bot.text import fill

NAME = re.compile(r"[a-z][a-z0-9_]{1,30}")
SUFFIX = ".tmpl"


class NewPluginError(Exception):
    """The name is not usable or the folder exists; the message says which."""


def write_plugin(name: str, parent: Path) -> Path:
    """Write `parent/qunbot-NAME/`; returns that folder."""
    if not NAME.fullmatch(name):
        raise NewPluginError(f"invalid plugin name {name!r}: use lowercase letters, digits and "
                             "_ (2-31 characters, starting with a letter)")
    target = parent / f"qunbot-{name}"
    if target.exists():
        raise NewPluginError(f"{target} already exists")
    values = {"plugin_name": name, "package": f"qunbot_{name}"}
    with as_file(files("bot") / "templates" / "plugin") as templates:
        for source in sorted(templates.rglob(f"*{SUFFIX}")):
            relative = source.relative_to(templates).as_posix().removesuffix(SUFFIX)
            relative = re.sub(r"^package/", f"{values['package']}/", relative)
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(fill(source.read_text(encoding="utf-8"), values),
                                   encoding="utf-8")
    return target
