"""Editing a group's timed posts (bot.yaml) and FAQ entries (its FAQ file) from the console.

The file is changed with a round-trip YAML library (ruamel.yaml) so comments and layout
stay; then it is applied exactly like `/reload` — the same loader as `bot config check`,
off the event loop, within the reload time limit. A refused file is put back as it was,
byte for byte, and the running config is kept; its problems are returned with file:line.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bot.config import ConfigError, ConfigIssue, LoadedConfig
from bot.groups import GroupSetup

if TYPE_CHECKING:
    from bot.runtime import BotRuntime



class EditRefused(Exception):
    pass


def _null(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order, quotes and flow style kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _null)  # `null` stays `null`
    return yaml


def _load(path: Path) -> Any:
    return _yaml().load(path.read_text(encoding="utf-8"))


def _dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _splice(original: str, before: str, after: str) -> str:
    """The edit (ruamel's dump before → after) applied to the file as it was written.

    ruamel keeps comments, but re-wraps what a person wrapped by hand elsewhere in the
    file; so only the lines the edit changed are replaced, found through the lines the
    original and its unedited dump share. Where the edit touches a line the dump wrote
    differently, the whole dump is used (still with every comment)."""
    old, dumped, new = (t.splitlines(keepends=True) for t in (original, before, after))
    to_original: dict[int, int] = {}
    for block in SequenceMatcher(None, dumped, old, autojunk=False).get_matching_blocks():
        for n in range(block.size):
            to_original[block.a + n] = block.b + n
    result, cursor = [], 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, dumped, new,
                                               autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # The changed lines must sit between lines the original has, in the same order.
        start = to_original.get(i1 - 1, -1) + 1 if i1 > 0 else 0
        end = to_original.get(i2) if i2 < len(dumped) else len(old)
        if (i1 > 0 and i1 - 1 not in to_original) or end is None or start < cursor or \
                any(n not in to_original for n in range(i1, i2)) or \
                end - start != i2 - i1:
            return after
        result += old[cursor:start] + new[j1:j2]
        cursor = end
    return "".join(result + old[cursor:])


async def check(runtime: BotRuntime) -> list[ConfigIssue]:
    """What `bot config check` says about the file on disk now (read as /reload reads it:
    off the event loop, one load at a time, within the reload time limit)."""
    from bot.config.loader import load_config_off_loop

    try:
        await load_config_off_loop(runtime.config.path, runtime.plugins, runtime.builtins,
                                   runtime.config.config.limits.reload_seconds)
    except ConfigError as exc:
        return exc.issues
    return []


async def apply(runtime: BotRuntime, path: Path, text: str, lock: asyncio.Lock
                ) -> list[ConfigIssue]:
    """Write `text` to `path` and reload; on refusal put the old bytes back. `lock`: one
    edit at a time, so each puts back its own file."""
    target = path.resolve()  # a bot.yaml that is a link: the file it points at
    async with lock:
        old = target.read_bytes()
        _replace(target, text.encode("utf-8"))
        try:
            issues = await runtime.reload()
        except BaseException:
            _replace(target, old)
            raise
        if issues:
            _replace(target, old)
        return issues


def _replace(target: Path, content: bytes) -> None:
    """Whole or not at all: a crash mid-write leaves the old file, never half of one."""
    temporary = target.with_name(f".{target.name}.console-edit")
    temporary.write_bytes(content)
    shutil.copymode(target, temporary)
    os.replace(temporary, target)


# -- timed posts ------------------------------------------------------------------------------


@dataclass
class PostRow:
    index: int
    when: str
    at: str | None  # editable when the post is at a fixed time
    text: str
    other: str  # pool, weekdays… shown, kept as they are


def _posts_node(doc: Any, group_id: str) -> CommentedSeq | None:
    try:
        block = doc["groups"][group_id]["plugins"]["timed_posts"]
    except (KeyError, TypeError):
        return None
    if block is None or "posts" not in block:
        return None
    return block["posts"]


def timed_posts(config: LoadedConfig, group: GroupSetup) -> list[PostRow] | None:
    node = _posts_node(_load(config.path), group.id)
    if node is None:
        return None
    rows = []
    for index, post in enumerate(node):
        when = (f"{post['at']}" if "at" in post else f"cron {post['cron']}" if "cron" in post
                else f"{post.get('between')}")
        other = ", ".join(f"{k}: {post[k]}" for k in post if k not in ("at", "text"))
        rows.append(PostRow(index, when, str(post["at"]) if "at" in post else None,
                            str(post.get("text") or ""), other))
    return rows


def edit_timed_posts(config: LoadedConfig, group: GroupSetup, form: dict[str, str]) -> str:
    """bot.yaml's new text: each post's `at`/`text` as edited, `delete-N` removed, and a
    new post from `new-at`/`new-text`; everything else as it was."""
    original = config.path.read_text(encoding="utf-8")
    doc = _yaml().load(original)
    before = _dump(doc)
    node = _posts_node(doc, group.id)
    if node is None:
        raise EditRefused("本群没有启用定时消息 / timed_posts is not enabled here")
    for index in range(len(node) - 1, -1, -1):
        post = node[index]
        if form.get(f"delete-{index}"):
            del node[index]
            continue
        if f"at-{index}" in form and "at" in post and form[f"at-{index}"] != str(post["at"]):
            post["at"] = DoubleQuotedScalarString(form[f"at-{index}"].strip())
        if f"text-{index}" in form and form[f"text-{index}"] != str(post.get("text") or ""):
            post["text"] = form[f"text-{index}"]
    new_at, new_text = form.get("new-at", "").strip(), form.get("new-text", "").strip()
    if new_at or new_text:
        post = CommentedMap()
        post["at"] = DoubleQuotedScalarString(new_at)
        post["text"] = new_text
        node.append(post)
    return _splice(original, before, _dump(doc))


# -- FAQ -----------------------------------------------------------------------------------------


def faq_file(config: LoadedConfig, group: GroupSetup, visible: set[str]) -> Path:
    """The group's (first) FAQ file; refused when it also serves a group the person does
    not run — an edit there would change that group's answers too."""
    qa = next((e for e in group.plugins if e.plugin.name == "qa"), None)
    names = list(getattr(qa.settings, "faq_files", [])) if qa else []
    if not names:
        raise EditRefused("本群没有 FAQ 文件 / this group has no FAQ file")
    name = str(names[0])
    for other in config.groups.values():
        other_qa = next((e for e in other.plugins if e.plugin.name == "qa"), None)
        if other_qa and name in map(str, other_qa.settings.faq_files) and \
                other.id not in visible:
            raise EditRefused(f"{name} 也用于你看不到的群，请在服务器上修改 / {name} is shared "
                              "with a group you do not run: edit it on the server")
    return config.base_dir / "config" / name


@dataclass
class FaqRow:
    index: int
    questions: str  # " | "-separated, as edited
    answer: str


def faq_entries(path: Path) -> list[FaqRow]:
    doc = _load(path) or {}
    return [FaqRow(i, " | ".join(map(str, e.get("questions", []))), str(e.get("answer", "")))
            for i, e in enumerate(doc.get("entries", []) or [])]


def edit_faq(path: Path, form: dict[str, str]) -> str:
    original = path.read_text(encoding="utf-8")
    doc = _yaml().load(original)
    if doc is None:
        doc = CommentedMap()
    before = _dump(doc)
    entries = doc.setdefault("entries", CommentedSeq())
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if form.get(f"delete-{index}"):
            del entries[index]
            continue
        questions = _questions(form.get(f"questions-{index}"))
        if questions is not None and questions != list(map(str, entry.get("questions", []))):
            entry["questions"] = _flow(questions)
        answer = form.get(f"answer-{index}")
        if answer is not None and answer != str(entry.get("answer", "")):
            entry["answer"] = answer
    new_questions = _questions(form.get("new-questions"))
    new_answer = form.get("new-answer", "").strip()
    if new_questions or new_answer:
        entry = CommentedMap()
        entry["questions"] = _flow(new_questions or [])
        entry["answer"] = new_answer
        entries.append(entry)
    return _splice(original, before, _dump(doc))


def _questions(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [q.strip() for q in text.replace("｜", "|").split("|") if q.strip()]


def _flow(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()  # [a, b, c] on one line, like the files are written
    return seq
