"""Content files edited while the bot runs (issue 13): a FAQ, quiz bank or events file an
owner saves broken keeps its last good version in use (`load_content_kept`), and the
group's operators hear about it once per broken version — never silence, never nagging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.config import ConfigIssue
from bot.events import Outgoing, OutKind
from bot.i18n import Texts

if TYPE_CHECKING:
    from bot.context import Context, EventContext, JobContext

    AnyContext = Context[Any] | JobContext[Any] | EventContext[Any]

SHOWN_PROBLEMS = 5  # the rest: `bot config check` lists them all

TEXTS = Texts(
    zh={
        "broken": "「{group}」用的内容文件 {file} 有错误，机器人继续用上一次能读的版本：\n"
                  "{problems}\n改好保存即可生效，无需重启（`bot config check` 列出全部问题）。",
        "skipped": "「{group}」的定时内容没有发出：{file} 读不了：\n{problems}\n"
                   "改好保存即可，下次按时发出，无需重启。",
        "more": "…另有 {count} 处",
    },
    en={
        "broken": "A content file “{group}” uses, {file}, has errors; the bot keeps using the "
                  "last version that loaded:\n{problems}\nSaving a fixed file takes effect at "
                  "once, no restart needed (`bot config check` lists every problem).",
        "skipped": "A timed post in “{group}” was not sent: {file} cannot be read:\n"
                   "{problems}\nSaving a fixed file is enough; the next one goes out on time.",
        "more": "…and {count} more",
    },
)


def tell_operators_of_broken(ctx: AnyContext, issues: Sequence[ConfigIssue], *,
                             kept: bool = True) -> None:
    """DM the operators who run ctx's group about each broken file, once per operator and
    version of the file (in memory: a restart refuses a broken file anyway). `kept`: its
    last good version is in use; otherwise what needed it was skipped (a text file read
    when a post goes out has no parsed version to keep)."""
    if not issues:
        return
    loaded = ctx.services.config
    base = loaded.base_dir
    told: set[tuple[str, tuple[object, ...]]] = ctx.services.plugin_state.setdefault(
        "core.content", {}).setdefault("told", set())
    if len(told) > 10_000:  # bounded; at worst someone hears twice
        told.clear()
    by_file: dict[str, list[ConfigIssue]] = {}
    for issue in issues:
        by_file.setdefault(str(issue.file), []).append(issue)
    operators = loaded.operators_of(ctx.group.id)
    language = loaded.config.bot.language
    for file, problems in by_file.items():
        version = (file, *((p.line, p.path, p.message) for p in problems))
        if ("", version) not in told:  # the log, too, once per broken version
            told.add(("", version))
            ctx.log.error("content file %s is broken; its last good version stays in use:\n%s",
                          file, "\n".join(p.shown(base) for p in problems))
        shown = [p.shown(base) for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(TEXTS.get(language, "more", count=len(problems) - SHOWN_PROBLEMS))
        text = TEXTS.get(language, "broken" if kept else "skipped", group=ctx.group.name,
                         file=problems[0].shown_file(base),
                         problems="\n".join(shown))
        for operator in operators:
            if (operator, version) in told:
                continue
            told.add((operator, version))
            ctx.outbox.put(Outgoing(text=text, kind=OutKind.DM, to=operator))
