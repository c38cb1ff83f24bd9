"""Load bot.yaml into validated models; every problem names file, line and key path."""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
import threading
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.config import files
from bot.config.files import KeyProblem
from bot.config.models import BotConfig, GroupConfig, Operator, PluginBlocks
from bot.groups import EnabledPlugin, GroupSetup, build_command_table, group_setup
from bot.plugin import Plugin

Loc = tuple[str, ...]
log = logging.getLogger("bot.config")


@dataclass(frozen=True)
class ConfigIssue:
    file: Path
    line: int | None
    path: str
    message: str
    # A content file's problem: the bot.yaml blocks naming the file (who may be told).
    named_by: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.describe(self.file)

    def shown(self, base: Path) -> str:
        """As people see it, never a server path (see `shown_file`)."""
        return files.without_base(self.describe(self.shown_file(base)), base)

    def shown_file(self, base: Path) -> str:
        """A content file relative to config/ (as bot.yaml names it), bot.yaml relative to
        its own folder."""
        content_dir = base / "config"
        if self.file.absolute().is_relative_to(content_dir.absolute()) or \
                self.file.resolve().is_relative_to(content_dir.resolve()):
            return files.relative(self.file, content_dir)
        return files.relative(self.file, base)

    def describe(self, file: Path | str) -> str:
        if self.line is None and not self.path:  # about the whole file (missing, unreadable)
            return f"{file}: {self.message}"
        where = f"{file}:{self.line}" if self.line else f"{file}"
        return f"{where}: {self.path}: {self.message}" if self.path else \
            f"{where}: {self.message}"


class ConfigError(Exception):
    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))

    def shown(self, base: Path) -> str:
        """Every problem as people see it (paths relative, see ConfigIssue.shown)."""
        return "\n".join(issue.shown(base) for issue in self.issues)


# What a plugin's content check returns, one per problem (see `_content_issue`).
ContentProblem = str | ConfigIssue | KeyProblem


@dataclass
class LoadedConfig:
    """A validated configuration, ready to run: what each configured group runs."""

    config: BotConfig
    path: Path
    groups: dict[str, GroupSetup]
    default_plugins: tuple[EnabledPlugin, ...]
    prefixes: tuple[str, ...]
    _unlisted: dict[str, GroupSetup] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def setup_for(self, group_id: str, name: str | None = None) -> GroupSetup:
        """The group's setup; a group missing from the config gets built-ins and defaults."""
        if group_id in self.groups:
            return self.groups[group_id]
        if group_id not in self._unlisted:
            setup = group_setup(group_id, self.config, None, self.default_plugins, name)
            build_command_table(setup, {}, self.prefixes)
            self._unlisted[group_id] = setup
        return self._unlisted[group_id]

    def find_group(self, key: str) -> GroupSetup | None:
        """A configured group by id or by name."""
        return self.groups.get(key) or next(
            (g for g in self.groups.values() if g.name == key), None
        )

    @property
    def operator_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.config.operators)

    def operated_by(self, operator: Operator) -> list[GroupSetup]:
        """The groups an operator runs: those their `groups` name (id, name or tag:x), or all."""
        groups = list(self.groups.values())
        if not operator.groups:
            return groups
        return [g for g in groups
                if any(w in (g.id, g.name) or (w.startswith("tag:") and w[4:] in g.tags)
                       for w in operator.groups)]

    def operators_of(self, group_id: str) -> list[str]:
        """The ids of the operators who run this group (the others cannot fix it)."""
        return [op.id for op in self.config.operators
                if any(g.id == group_id for g in self.operated_by(op))]


class _MarkedLoader(files.FastLoader):  # type: ignore[misc,valid-type]
    """libyaml's parser and composer (CSafeLoader, where installed): the node tree keeps
    every mark, so lines and duplicate keys come from it (`_walk`), not from a second,
    pure-Python parse."""


def _read_yaml(path: Path) -> tuple[Any, dict[Loc, int], list[ConfigIssue]]:
    """The file's data, the line of every key path, and its duplicate keys (reported with
    the validation's problems, all at once). Raises ConfigError when it cannot be parsed."""
    try:
        text = files.read_text(path)
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(path, None, "", "找不到文件 (file not found)")]) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: over the size cap
        reason = str(exc) if isinstance(exc, files.TooLarge) else type(exc).__name__
        raise ConfigError([ConfigIssue(path, None, "", f"无法读取 (cannot read): {reason}")]
                          ) from None
    loader = _MarkedLoader(text)
    try:
        if (shape := files.shape_problem(text)) is not None:
            raise ConfigError([ConfigIssue(path, shape[1], "", shape[0])])
        node = loader.get_single_node()
        if node is None:
            return {}, {}, []
        if (problem := files.expanded_size_problem(node)) is not None:
            raise ConfigError([ConfigIssue(path, None, "", problem)])
        lines: dict[Loc, int] = {}
        duplicates: list[ConfigIssue] = []
        _walk(node, (), lines, duplicates, path)
        try:
            return loader.construct_document(node), lines, duplicates
        except ValueError as exc:  # a value YAML cannot build, e.g. the date 2026-13-40
            raise ConfigError(_unbuildable(loader, node, path) or [
                ConfigIssue(path, None, "", f"取值无效 (invalid value): {exc}")]) from None
    except RecursionError:
        raise ConfigError([ConfigIssue(path, None, "", "嵌套太深 (nested too deeply)")]) from None
    except ValueError as exc:  # from the parser itself: still a refusal with a reason
        raise ConfigError(
            [ConfigIssue(path, None, "", f"取值无效 (invalid value): {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [ConfigIssue(path, line, "", f"YAML 格式错误 (invalid YAML): {reason}")]
        ) from None
    finally:
        loader.dispose()


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _unbuildable(loader: _MarkedLoader, root: yaml.Node, path: Path) -> list[ConfigIssue]:
    """Each date YAML cannot build (2026-13-40, 2026-11-31), at its line and key path."""
    issues = []
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                stack += [(key_node, (*loc, key)), (value_node, (*loc, key))]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, (*loc, str(n))) for n, item in enumerate(node.value)]
        elif node.tag == _TIMESTAMP:
            try:
                loader.construct_yaml_timestamp(node)
            except ValueError as exc:
                issues.append(ConfigIssue(path, node.start_mark.line + 1, ".".join(loc),
                                          f"取值无效 (invalid value): {node.value}: {exc}"))
    return sorted(issues, key=lambda issue: issue.line or 0)


def _walk(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[ConfigIssue], path: Path
) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    ConfigIssue(
                        path,
                        key_node.start_mark.line + 1,
                        ".".join((*loc, key)),
                        "重复的键，前一个会被忽略 "
                        "(duplicate key: the earlier one would be silently ignored)",
                    )
                )
            seen.add(key)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), lines, problems, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, str(index)), lines, problems, path)


M = typing.TypeVar("M", bound=BaseModel)


def load_content(path: Path, model: type[M]) -> M:
    """A content file under config/ (FAQ, briefing items…) validated against `model`;
    raises ConfigError naming the file, line and key of every problem. Read once per
    version of the file: the content check, the game and /reload share it (a broken
    version too: its problems are kept, not found again on every message)."""
    try:
        stat = path.stat()
    except OSError:  # reading it says what is wrong, with the file's name
        stat = None
    key = (str(path.resolve()), model, stat.st_mtime_ns, stat.st_size,
           files.max_file_bytes()) if stat else None
    cached = _CONTENT.get(key) if key is not None else None
    if isinstance(cached, ConfigError):
        raise ConfigError(cached.issues)
    if cached is not None:
        return typing.cast(M, cached)
    try:
        loaded: M | ConfigError = _parse_content(path, model)
    except ConfigError as exc:
        loaded = exc
    if key is not None:
        if len(_CONTENT) >= CONTENT_CACHE:
            _CONTENT.pop(next(iter(_CONTENT)))  # the oldest version read
        _CONTENT[key] = loaded
    if isinstance(loaded, ConfigError):
        raise ConfigError(loaded.issues)
    _LAST_GOOD[(str(path.resolve()), model)] = loaded
    return loaded


def load_content_kept(path: Path, model: type[M]) -> tuple[M, list[ConfigIssue]]:
    """While the bot runs: the file's content, or — when an edit broke it or it was
    removed — the last version that loaded in this process, with the new version's
    problems (for the operators). Raises ConfigError when no version ever loaded."""
    try:
        return load_content(path, model), []
    except ConfigError as exc:
        kept = _LAST_GOOD.get((str(path.resolve()), model))
        if kept is None:
            raise
        return typing.cast(M, kept), exc.issues


def _parse_content(path: Path, model: type[M]) -> M:
    data, lines, issues = _read_yaml(path)
    try:
        loaded = model.model_validate(_plain_keys(data if data is not None else {}))
    except ValidationError as exc:
        issues += _issues(exc, path, lines, (), model)
    if issues:
        raise ConfigError(_in_order(issues))
    return loaded


# Content files by (path, model, modification time, size, size cap): a changed file is a
# new key. A version that does not load is kept as its ConfigError.
CONTENT_CACHE = 256
_CONTENT: dict[tuple[str, type[BaseModel], int, int, int], BaseModel | ConfigError] = {}
# The last version of each (file, model) that loaded: what the bot keeps using while an
# edit leaves the file broken (one entry per content file the config names).
_LAST_GOOD: dict[tuple[str, type[BaseModel]], BaseModel] = {}


def _plain_keys(data: Any) -> Any:
    """YAML reads 2026-11-23 as a date; as a key, keep it text so errors name it as typed."""
    if isinstance(data, dict):
        return {k.isoformat() if isinstance(k, date) else k: _plain_keys(v)
                for k, v in data.items()}
    if isinstance(data, list):
        return [_plain_keys(v) for v in data]
    return data


def load_config(
    path: str | Path, plugins: Sequence[Plugin[Any]], builtins: Sequence[Plugin[Any]] = ()
) -> LoadedConfig:
    """Read and validate bot.yaml; raise ConfigError listing every problem found."""
    # absolute(), not resolve(): a bot.yaml that is a link keeps its own folder as the base
    # (the repository links bot.yaml and config/ to the starter the package ships).
    path = Path(path).absolute()
    data, lines, duplicates = _read_yaml(path)
    try:
        return _load_config(path, data, lines, plugins, builtins, duplicates)
    except ConfigError as exc:
        raise ConfigError(_in_order(exc.issues)) from None


def _in_order(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """Each file's problems by line (bot.yaml's first), each once: a content file named by
    several groups is reported once, naming every block that names it."""
    merged: dict[tuple[Path, int | None, str, str], ConfigIssue] = {}
    for issue in issues:
        key = (issue.file, issue.line, issue.path, issue.message)
        if key in merged:
            before = merged[key]
            issue = replace(before, named_by=tuple(dict.fromkeys(
                (*before.named_by, *issue.named_by))))
        merged[key] = issue
    files_first = list(dict.fromkeys(i.file for i in merged.values()))
    return sorted(merged.values(), key=lambda i: (files_first.index(i.file), i.line or 0))


def _load_config(
    path: Path, data: Any, lines: dict[Loc, int], plugins: Sequence[Plugin[Any]],
    builtins: Sequence[Plugin[Any]], duplicates: list[ConfigIssue],
) -> LoadedConfig:
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigIssue(
                    path,
                    1,
                    "",
                    "文件内容应是“键: 值”的映射 (the file must be a mapping of settings)",
                )
            ]
        )
    _apply_env(data)
    try:
        config = BotConfig.model_validate(data)
    except ValidationError as exc:
        issues = _issues(exc, path, lines, (), BotConfig)
        # Report the plugin blocks' problems in the same pass, not one round later.
        issues += _raw_plugin_issues(data, path, lines, {p.name: p for p in plugins})
        raise ConfigError(duplicates + issues) from None
    roots = [path.parent / root for root in config.bot.content_roots]
    with files.file_cap(config.limits.max_file_bytes, roots):  # content: this config's rules
        try:
            loaded = _assemble(config, path, lines, plugins, builtins)
        except ConfigError as exc:
            raise ConfigError(duplicates + exc.issues) from None
    if duplicates:
        raise ConfigError(duplicates)
    files.adopt_file_cap(config.limits.max_file_bytes, roots)
    return loaded


_reloading = threading.Lock()  # held by the thread while it parses, even past its time


async def load_config_off_loop(
    path: Path, plugins: Sequence[Plugin[Any]], builtins: Sequence[Plugin[Any]], timeout: float
) -> LoadedConfig:
    """load_config in a thread, given up after `timeout` seconds (the bot keeps answering
    meanwhile); one at a time — a load still running refuses the next."""
    if not _reloading.acquire(blocking=False):
        raise ConfigError([ConfigIssue(path, None, "", "上一次重载还没结束，请稍后再试 "
                                       "(the previous reload is still running; try later)")])

    def load() -> LoadedConfig:
        try:
            return load_config(path, plugins, builtins)
        except ConfigError:
            raise
        except Exception as exc:  # a plugin's check failed unexpectedly: still a refusal
            log.exception("reading %s failed", path)
            raise ConfigError([ConfigIssue(path, None, "", (
                f"读取配置时出错，详情见服务器日志 (could not read the configuration: "
                f"{type(exc).__name__}; the server log has the details)"))]) from None
        finally:
            _reloading.release()

    try:
        return await asyncio.wait_for(asyncio.to_thread(load), timeout)
    except TimeoutError:
        raise ConfigError([ConfigIssue(path, None, "", f"读取超过 {timeout:g} 秒，已放弃 "
                                       f"(reading took over {timeout:g} s: files too large?)")]
                          ) from None


def for_group(
    issues: Sequence[ConfigIssue], group_id: str, base: Path, others: Sequence[str]
) -> tuple[list[str], int]:
    """The problems a group may see, relative paths only, and how many were kept back:
    those about other groups, operators and bot-wide settings stay on the server."""
    shown, kept = [], 0
    mine = f"groups.{group_id}"
    for issue in issues:
        text = issue.shown(base)
        # A content file's problem concerns the groups whose blocks name the file.
        scope = [p for p in issue.named_by or (issue.path,) if p]
        if (scope and not any(p == mine or p.startswith(mine + ".") for p in scope)) or \
                any(other and other in text for other in others):
            kept += 1
        else:
            shown.append(text)
    return shown, kept


def _raw_plugin_issues(
    data: dict[str, Any], path: Path, lines: dict[Loc, int], known: dict[str, Plugin[Any]]
) -> list[ConfigIssue]:
    """Plugin blocks checked straight from the YAML, when the rest did not validate."""
    issues: list[ConfigIssue] = []
    places: list[tuple[Loc, Any]] = []
    defaults = data.get("defaults")
    if isinstance(defaults, dict):
        places.append((("defaults", "plugins"), defaults.get("plugins")))
    groups = data.get("groups")
    for group_id, group in groups.items() if isinstance(groups, dict) else []:
        if isinstance(group, dict):
            places.append((("groups", str(group_id), "plugins"), group.get("plugins")))
    limit, roots = _raw_file_rules(data, path)
    for loc, blocks in places:
        if isinstance(blocks, dict) and all(
            b is None or isinstance(b, dict) for b in blocks.values()
        ):
            enabled = _enable({str(k): v for k, v in blocks.items()}, loc, known, path, lines,
                              issues)
            with files.file_cap(limit, roots):  # their files too: every problem at once
                issues += _content_checks(enabled, loc, path, lines, roots)
    return issues


def _raw_file_rules(data: dict[str, Any], path: Path) -> tuple[int, list[Path]]:
    """The size cap and content roots as written, for content checked when bot.yaml did
    not validate (each falls back to its default when it is itself invalid)."""
    limits, bot = data.get("limits"), data.get("bot")
    limit = limits.get("max_file_bytes") if isinstance(limits, dict) else None
    named = bot.get("content_roots") if isinstance(bot, dict) else None
    roots = [path.parent / r for r in named if isinstance(r, str)] \
        if isinstance(named, list) else []
    valid = isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1_000
    return (limit if valid else files.DEFAULT_MAX_FILE_BYTES), roots


def _apply_env(data: dict[str, Any]) -> None:
    """Environment overrides for secrets and deployment, so they stay out of the YAML."""
    if url := os.environ.get("QUNBOT_DATABASE_URL"):
        data.setdefault("database", {})
        if isinstance(data["database"], dict):
            data["database"]["url"] = url


def _assemble(
    config: BotConfig,
    path: Path,
    lines: dict[Loc, int],
    plugins: Sequence[Plugin[Any]],
    builtins: Sequence[Plugin[Any]],
) -> LoadedConfig:
    known = {p.name: p for p in plugins}
    issues: list[ConfigIssue] = _place_checks(config, path, lines)
    roots = [path.parent / root for root in config.bot.content_roots]
    builtin_enabled = tuple(EnabledPlugin(p, p.settings()) for p in builtins)
    defaults = builtin_enabled + _enable(
        config.defaults.plugins, ("defaults", "plugins"), known, path, lines, issues
    )
    issues += _content_checks(defaults, ("defaults", "plugins"), path, lines, roots)
    groups: dict[str, GroupSetup] = {}
    for group_id, group in config.groups.items():
        loc = ("groups", group_id)
        enabled = builtin_enabled + _enable(
            group.plugins, (*loc, "plugins"), known, path, lines, issues
        )
        setup = group_setup(group_id, config, group, enabled)
        issues += _group_checks(setup, group, config, loc, path, lines, roots)
        groups[group_id] = setup
    issues += _duplicate_names(config, path, lines)
    issues += _operator_groups(config, path, lines)
    if issues:
        raise ConfigError(issues)
    return LoadedConfig(config, path, groups, defaults, tuple(config.bot.command_prefixes))


def _group_checks(
    setup: GroupSetup,
    group: GroupConfig,
    config: BotConfig,
    loc: Loc,
    path: Path,
    lines: dict[Loc, int],
    roots: Sequence[Path],
) -> list[ConfigIssue]:
    issues = [
        ConfigIssue(path, _line(lines, (*loc, "aliases")), ".".join((*loc, "aliases")), problem)
        for problem in build_command_table(setup, group.aliases, config.bot.command_prefixes)
    ]
    return issues + _content_checks(setup.plugins, (*loc, "plugins"), path, lines, roots)


def _content_checks(
    plugins: Sequence[EnabledPlugin],
    loc: Loc,
    path: Path,
    lines: dict[Loc, int],
    roots: Sequence[Path],
) -> list[ConfigIssue]:
    """Files the plugin blocks name under config/ (FAQ, word lists, briefing items…):
    first where each path leads, then — only if all stay inside — what the files hold."""
    issues = []
    for enabled in plugins:
        where = (*loc, enabled.plugin.name)
        outside = [
            ConfigIssue(path, _line(lines, (*where, *key)), ".".join((*where, *key)), problem)
            for key, name in files.content_paths(enabled.settings)
            if (problem := files.path_problem(name, path.parent / "config", roots)) is not None
        ]
        issues += outside
        if outside or enabled.plugin.check_content is None:
            continue
        for problem in enabled.plugin.check_content(enabled.settings, path.parent):
            issues.append(_content_issue(problem, where, path, lines))
    return issues


def _content_issue(problem: ContentProblem, where: Loc, path: Path,
                   lines: dict[Loc, int]) -> ConfigIssue:
    """A plugin's content check's finding: a content file's own problem (file:line there),
    a problem at one key of the plugin's block (that key's line), or text (the block's)."""
    named_by = ".".join(where)
    if isinstance(problem, ConfigIssue):
        return replace(problem, named_by=(*problem.named_by, named_by))
    if isinstance(problem, KeyProblem):
        loc = (*where, *problem.key)
        return ConfigIssue(path, _line(lines, loc), ".".join(loc), problem.message)
    return ConfigIssue(path, _line(lines, where), named_by,
                       files.without_base(problem, path.parent))


def _place_checks(config: BotConfig, path: Path, lines: dict[Loc, int]) -> list[ConfigIssue]:
    """Folders bot.yaml names for the bot itself: content roots exist; charts stay inside."""
    issues = []
    for n, root in enumerate(config.bot.content_roots):
        if not (path.parent / root).is_dir():
            loc = ("bot", "content_roots", str(n))
            issues.append(ConfigIssue(path, _line(lines, loc), ".".join(loc),
                                      f"不是文件夹 (not a folder): {root}"))
    chart_dir = Path(config.digest.chart_dir)
    if chart_dir.is_absolute() or ".." in chart_dir.parts:
        loc = ("digest", "chart_dir")
        issues.append(ConfigIssue(path, _line(lines, loc), ".".join(loc),
                                  "请写 bot.yaml 所在文件夹下的相对路径 (write a path relative "
                                  "to bot.yaml's folder, without `..`)"))
    return issues


def _duplicate_names(config: BotConfig, path: Path, lines: dict[Loc, int]) -> list[ConfigIssue]:
    seen: dict[str, str] = {}
    issues = []
    for group_id, group in config.groups.items():
        if group.name in seen:
            loc = ("groups", group_id, "name")
            issues.append(
                ConfigIssue(
                    path,
                    _line(lines, loc),
                    ".".join(loc),
                    f"群名 {group.name!r} 已被群 {seen[group.name]!r} 使用 "
                    f"(name {group.name!r} is also used by group {seen[group.name]!r})",
                )
            )
        seen[group.name] = group_id
    return issues


def _operator_groups(config: BotConfig, path: Path, lines: dict[Loc, int]) -> list[ConfigIssue]:
    """Each name in an operator's `groups:` must match a group's id or name, or a tag;
    each of its `accounts:` must be listed under `accounts:`."""
    known = {*config.groups, *(g.name for g in config.groups.values())}
    tags = {tag for g in config.groups.values() for tag in g.tags}
    accounts = {account.name for account in config.accounts}
    issues = []
    for n, operator in enumerate(config.operators):
        for k, name in enumerate(operator.accounts):
            if name not in accounts:  # at the name's own line, like a group's mistakes
                loc = ("operators", str(n), "accounts", str(k))
                issues.append(ConfigIssue(path, _line(lines, loc), ".".join(loc),
                                          f"{name} not in `accounts:`"))
        for k, wanted in enumerate(operator.groups):
            if wanted in known or (wanted.startswith("tag:") and wanted[4:] in tags):
                continue
            loc = ("operators", str(n), "groups", str(k))
            issues.append(ConfigIssue(
                path, _line(lines, loc), ".".join(loc),
                f"没有这个群或标签 (no group id, name or tag:x matches) {wanted!r}"))
    return issues


def _enable(
    blocks: PluginBlocks,
    loc: Loc,
    known: dict[str, Plugin[Any]],
    path: Path,
    lines: dict[Loc, int],
    issues: list[ConfigIssue],
) -> tuple[EnabledPlugin, ...]:
    enabled = []
    for name, block in blocks.items():
        where = (*loc, name)
        plugin = known.get(name)
        if plugin is None:
            issues.append(
                ConfigIssue(
                    path, _line(lines, where), ".".join(where), _unknown_plugin(name, sorted(known))
                )
            )
            continue
        try:
            enabled.append(EnabledPlugin(plugin, plugin.settings.model_validate(block or {})))
        except ValidationError as exc:
            issues += _issues(exc, path, lines, where, plugin.settings)
    return tuple(enabled)


def _unknown_plugin(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"，是不是 {close[0]!r}？(did you mean {close[0]!r}?)" if close else ""
    return f"未知插件 (unknown plugin) {name!r}{hint}; 可用插件 (known plugins): {', '.join(known)}"


def _issues(
    exc: ValidationError, path: Path, lines: dict[Loc, int], prefix: Loc, model: type[BaseModel]
) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        cause = error.get("ctx", {}).get("error")
        message = f"取值无效 (invalid value): {error['msg'].removeprefix('Value error, ')}"
        if isinstance(cause, KeyProblem):  # a model's check about one of its keys
            loc, message = (*loc, *cause.key), f"取值无效 (invalid value): {cause.message}"
        if error["type"] == "extra_forbidden":
            message = "未知的配置项 (unknown key)" + _suggest(model, loc)
        elif error["type"] == "missing":
            message = "缺少必填项 (required key is missing)"
        issues.append(
            ConfigIssue(path, _line(lines, (*prefix, *loc)), ".".join((*prefix, *loc)), message)
        )
    return issues


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _suggest(model: type[BaseModel], loc: Loc) -> str:
    parent = _model_at(model, loc[:-1])
    if parent is None:
        return ""
    valid = list(parent.model_fields)
    close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.5)
    if close:
        return f"; 是不是 {close[0]!r}？(did you mean {close[0]!r}?)"
    return f"; 可用的项 (valid keys): {', '.join(valid)}"


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc` (to list its valid keys)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field_info = current.model_fields.get(part)
            if field_info is None:
                return None
            current = field_info.annotation
        elif typing.get_origin(current) in (dict, list, tuple):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / X | None / Annotated[X, ...] → X (the first model arm of a union)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            arms = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in arms if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = (models or arms)[0]
        else:
            return annotation
