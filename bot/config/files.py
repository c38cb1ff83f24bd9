"""What bot.yaml may point at, and how much of it the bot will read (issue 12 point 10,
issue 14 point 5).

A path in a plugin block names a file under config/ (or under a `bot.content_roots`
folder bot.yaml names): absolute paths, `..` and symlinks leading out are refused. Every
config and content file has a size cap, and YAML has caps on nesting, nodes and aliases
(a "billion laughs" expands aliases exponentially while the bot walks it). The loader
and the plugins' readers use these; nothing else should open a content file itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

DEFAULT_MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 40  # nesting levels; real files use fewer than ten
MAX_NODES = 100_000  # values, counted as often as aliases repeat them
MAX_ALIASES = 100

TEXT_SUFFIXES = {".yaml", ".yml", ".txt", ".xml", ".json", ".csv", ".tsv"}

# While a config loads: its own (cap, content roots); otherwise those of the running one.
_loading: ContextVar[tuple[int, tuple[Path, ...]] | None] = ContextVar("qunbot_loading",
                                                                       default=None)
_running: dict[str, Any] = {"max_file_bytes": DEFAULT_MAX_FILE_BYTES, "roots": ()}


class ContentPath(str):
    """A file or folder a plugin's settings name under config/ (an http(s) URL passes as
    it is); the loader checks where it leads before any plugin reads it."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(min_length=1, max_length=500),
            serialization=core_schema.to_string_ser_schema())


class KeyProblem(ValueError):
    """A problem with one key of a block, reported at that key's own line rather than the
    block's: raise it from a pydantic validator, or return it from a plugin's content check.
    `key` is the path below the validated model (or the plugin's block)."""

    def __init__(self, key: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.key = tuple(str(part) for part in key)
        self.message = message


def is_url(name: str) -> bool:
    return name.startswith(("http://", "https://"))


# -- size --------------------------------------------------------------------------------

def max_file_bytes() -> int:
    loading = _loading.get()
    return loading[0] if loading else int(_running["max_file_bytes"])


def content_roots() -> tuple[Path, ...]:
    loading = _loading.get()
    return loading[1] if loading else tuple(_running["roots"])


@contextmanager
def file_cap(limit: int, roots: Sequence[Path] = ()) -> Iterator[None]:
    """Content read while a config loads follows that config's own cap and roots."""
    token = _loading.set((limit, tuple(roots)))
    try:
        yield
    finally:
        _loading.reset(token)


def adopt_file_cap(limit: int, roots: Sequence[Path] = ()) -> None:
    """The running config's cap and content roots: for content read while the bot runs."""
    _running["max_file_bytes"] = limit
    _running["roots"] = tuple(roots)


def content_file(base_dir: Path, name: str) -> Path:
    """The file `name` under config/, checked again when it is read: a symlink swapped in
    after the config was loaded still may not lead out. Raises ValueError."""
    path = base_dir / "config" / name
    if (problem := path_problem(name, base_dir / "config", content_roots())) is not None:
        raise ValueError(problem)
    return path


class TooLarge(ValueError):
    pass


def read_text(path: Path) -> str:
    """A config or content file's text, refused above the size cap before it is read."""
    limit = max_file_bytes()
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise TooLarge(_too_large(limit))
        data = handle.read(limit + 1)  # a file that grew (or a pipe) is still cut off
    if len(data) > limit:
        raise TooLarge(_too_large(limit))
    return data.decode("utf-8")


def _too_large(limit: int) -> str:
    return (f"文件太大，上限 {limit:,} 字节 (file larger than the {limit:,}-byte cap; "
            "raise limits.max_file_bytes)")


# -- YAML shape --------------------------------------------------------------------------

# libyaml parses in C (about five times faster); PyYAML's own parser where it is missing.
FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def shape_problem(text: str) -> tuple[str, int] | None:
    """(problem, line) when the YAML nests too deep or holds too many values or aliases —
    found from the parser's events, stopping at the first cap, before anything is built."""
    depth = nodes = aliases = 0
    for event in yaml.parse(text, Loader=FastLoader):
        if isinstance(event, _CLOSES):
            depth -= 1
            continue
        problem = None
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                problem = f"YAML 别名太多 (more than {MAX_ALIASES} aliases)"
        if isinstance(event, (*_OPENS, yaml.ScalarEvent, yaml.AliasEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                problem = f"条目太多 (more than {MAX_NODES:,} values)"
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                problem = f"嵌套太深 (nested more than {MAX_DEPTH} levels)"
        if problem is not None:
            return problem, event.start_mark.line + 1
    return None


def expanded_size_problem(node: yaml.Node) -> str | None:
    """Aliases reuse nodes: count what a reader would walk, stopping at the cap."""
    budget = [MAX_NODES]

    def visit(item: yaml.Node) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        children: Sequence[Any] = ()
        if isinstance(item, yaml.MappingNode):
            children = [part for pair in item.value for part in pair]
        elif isinstance(item, yaml.SequenceNode):
            children = item.value
        return all(visit(child) for child in children)

    if visit(node):
        return None
    return f"别名展开后条目太多 (aliases expand to more than {MAX_NODES:,} values)"


# -- where paths lead --------------------------------------------------------------------

def _is_path_field(name: str) -> bool:
    # A plugin that forgot ContentPath still gets its `*_file(s)` fields checked.
    return name in ("file", "files") or name.endswith(("_file", "_files"))


def content_paths(value: Any, loc: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every content path in a plugin's settings, with its key path."""
    if isinstance(value, ContentPath):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            field = getattr(value, name)
            if _is_path_field(name) and isinstance(field, str):
                yield (*loc, name), field
            elif _is_path_field(name) and isinstance(field, list | tuple):
                yield from (((*loc, name, str(i)), f) for i, f in enumerate(field)
                            if isinstance(f, str))
            else:
                yield from content_paths(field, (*loc, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from content_paths(item, (*loc, str(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from content_paths(item, (*loc, str(key)))


def path_problem(name: str, content_dir: Path, roots: Sequence[Path]) -> str | None:
    """Why `name` may not be read (None: it stays under config/ or a content root)."""
    if is_url(name):
        return None
    path = Path(name)
    allowed = [content_dir.resolve(), *(root.resolve() for root in roots)]
    if ".." in path.parts:
        return f"路径不能含 “..” (`..` is not allowed): {name}"
    if path.is_absolute() and not any(path.resolve().is_relative_to(r) for r in allowed[1:]):
        return (f"请写 config/ 下的相对路径 (write a path relative to config/, or list its "
                f"folder under bot.content_roots): {name}")
    target = (content_dir / path).resolve()
    if not any(target.is_relative_to(root) for root in allowed):
        return f"链接指向 config/ 以外 (a symlink leads outside config/): {name}"
    files = [target] if target.is_file() else _folder_files(target)
    for file in files:
        if not any(file.resolve().is_relative_to(root) for root in allowed):
            return f"链接指向 config/ 以外 (a symlink leads outside config/): {name}"
        # In a folder only what the bot reads as text counts (quiz pictures may be large).
        if (file is target or file.suffix.lower() in TEXT_SUFFIXES) and \
                file.stat().st_size > max_file_bytes():
            shown = file.relative_to(content_dir) if file.is_relative_to(content_dir) else name
            return f"{shown}: {_too_large(max_file_bytes())}"
    return None


def _folder_files(folder: Path, limit: int = 1000) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            found.append(path)
            if len(found) >= limit:
                break
    return found


def relative(path: Path, base: Path) -> str:
    """A path as shown to people: relative to bot.yaml's folder when it is under it."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return path.name


def without_base(text: str, base: Path) -> str:
    """A problem a plugin wrote with full paths, shown relative to bot.yaml's folder."""
    for prefix in {str(base), str(base.resolve())}:
        text = text.replace(prefix + os.sep, "")
    return text
