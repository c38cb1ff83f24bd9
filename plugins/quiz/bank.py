"""Question banks: YAML files under config/quiz/, validated with pydantic.

A problem is reported with the file and the line of the offending question, so
`bot config check` points an owner straight at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

LETTERS = "ABCDEFGH"


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str = Field(min_length=1, max_length=500)
    answers: list[str] = Field(min_length=1)  # the first is shown; the rest are aliases
    choices: list[str] | None = Field(None, min_length=2, max_length=len(LETTERS))
    explanation: str = ""
    difficulty: int = Field(2, ge=1, le=3)
    tags: list[str] = Field(default_factory=list)
    image: str | None = None  # a file next to the bank, sent where the platform can
    hint: str | None = None  # default: the answer's first character, the rest masked

    @model_validator(mode="after")
    def _answers_usable(self) -> Question:
        if any(not str(a).strip() for a in self.answers):
            raise ValueError("an answer is empty")
        if self.choices is not None and not set(self.answers) & set(self.choices):
            raise ValueError("with `choices`, one of the `answers` must be one of the choices")
        return self

    @property
    def answer(self) -> str:
        if self.choices:
            right = next(c for c in self.choices if c in self.answers)
            return f"{LETTERS[self.choices.index(right)]}. {right}"
        return self.answers[0]

    def text(self) -> str:
        if not self.choices:
            return self.q
        options = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(self.choices))
        return f"{self.q}\n{options}"

    def masked_answer(self) -> str | None:
        """The written hint, or the answer's first character with the rest masked; None for
        multiple choice (the hint rules out a wrong option) and one-character answers (the
        hint gives the length)."""
        if self.hint:
            return self.hint
        first = self.answers[0]
        if self.choices or len(first) < 2:
            return None
        return first[0] + "＿" * (len(first) - 1)

    def wrong_letter(self) -> str:
        assert self.choices
        wrong = [LETTERS[i] for i, c in enumerate(self.choices) if c not in self.answers]
        return wrong[-1]


class Bank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=40)  # what members type: 答题 成语
    name_en: str = ""
    description: str = ""
    source: str = ""  # where the questions come from
    license: str = ""
    questions: list[Question] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedBank:
    key: str  # the file's stem: "idioms"
    path: Path
    bank: Bank

    def names(self) -> set[str]:
        return {n.casefold() for n in (self.key, self.bank.name, self.bank.name_en) if n}


def read_bank(path: Path) -> LoadedBank:
    """Raises ValueError naming the file and line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: 找不到题库文件 (file not found)") from None
    try:
        data = yaml.safe_load(text) or {}
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ValueError(f"{path}{line}: YAML 格式错误 (invalid YAML)") from None
    try:
        return LoadedBank(path.stem, path, Bank.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc)
        raise ValueError(f"{path}:{line_of(root, loc)}: {where}: {first['msg']}") from None


def line_of(node: Any, loc: Sequence[Any]) -> int:
    """The 1-based line of the deepest YAML node along a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


_cache: dict[tuple[str, int], LoadedBank] = {}


def load_bank(path: Path) -> LoadedBank:
    """Cached by modification time: banks are read once, re-read when edited."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _cache:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = read_bank(path)
    return _cache[key]


def bank_paths(config_dir: Path, files: Sequence[str]) -> list[Path]:
    """Entries are files or folders under config/ (a folder: every *.yaml in it)."""
    paths: list[Path] = []
    for name in files:
        path = config_dir / "config" / name
        paths += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return paths


def check_banks(config_dir: Path, files: Sequence[str]) -> list[str]:
    problems = []
    for path in bank_paths(config_dir, files):
        try:
            read_bank(path)
        except ValueError as exc:
            problems.append(str(exc))
    return problems
