"""Question banks: YAML files under config/quiz/, validated with pydantic.

Read with the core's `load_content`, so every problem is reported with the file and the
line of the offending question (or key written twice), and `bot config check` points an
owner straight at each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.config import ConfigError, ConfigIssue, load_content, load_content_kept
from bot.config.files import FastLoader, read_text

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

    def title(self, language: str) -> str:
        """The bank's name as the group reads it: `name_en` for English groups, when set."""
        return self.bank.name_en if language == "en" and self.bank.name_en else self.bank.name


class BankError(ValueError):
    """Every problem of a bank file, each naming the file, line and key."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(issue) for issue in issues))
        self.issues = issues


def read_bank(path: Path) -> LoadedBank:
    """Raises BankError listing every problem: invalid YAML, a key written twice (YAML
    would silently keep the last), each question that does not validate."""
    try:
        return LoadedBank(path.stem, path, load_content(path, Bank))
    except ConfigError as exc:
        raise BankError(exc.issues) from None


def image_file(loaded: LoadedBank, image: str) -> Path | None:
    """The picture a question names, if it is a file in the bank's folder (or below it)."""
    folder = loaded.path.parent.resolve()
    path = (folder / image).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None


def image_problems(loaded: LoadedBank) -> list[ConfigIssue]:
    root: yaml.Node | None = None
    issues = []
    for index, question in enumerate(loaded.bank.questions):
        if question.image is None or image_file(loaded, question.image) is not None:
            continue
        root = root or yaml.compose(read_text(loaded.path), Loader=FastLoader)
        loc = ("questions", index, "image")
        issues.append(ConfigIssue(
            loaded.path, line_of(root, loc), ".".join(map(str, loc)),
            f"题库文件夹里没有这张图片 (no such image next to the bank): {question.image}"))
    return issues


def line_of(node: Any, loc: Sequence[Any]) -> int:
    """The 1-based line of the deepest YAML node along a key path."""
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


def load_bank_kept(path: Path) -> tuple[LoadedBank, list[ConfigIssue]]:
    """While the bot runs: the bank, or its last good version and the new one's problems
    when an edit broke it (raises BankError if no version of it ever loaded)."""
    try:
        return load_bank(path), []
    except (ValueError, OSError):
        try:
            bank, problems = load_content_kept(path, Bank)
        except ConfigError as exc:
            raise BankError(exc.issues) from None
        return LoadedBank(path.stem, path, bank), problems


def bank_paths(config_dir: Path, files: Sequence[str]) -> list[Path]:
    """Entries are files or folders under config/ (a folder: every *.yaml in it)."""
    paths: list[Path] = []
    for name in files:
        path = config_dir / "config" / name
        paths += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return paths


def check_banks(config_dir: Path, files: Sequence[str]
                ) -> tuple[list[ConfigIssue], list[LoadedBank] | None]:
    """Every problem of every bank, each at its file and line; and the banks read on the way
    (None if one cannot be read), so nothing reads them twice."""
    problems: list[ConfigIssue] = []
    banks: list[LoadedBank] | None = []
    for path in bank_paths(config_dir, files):
        try:
            loaded = read_bank(path)
        except BankError as exc:
            problems += exc.issues
            banks = None
            continue
        problems += image_problems(loaded)
        if banks is not None:
            banks.append(loaded)
    return problems, banks


def readable_banks(config_dir: Path, files: Sequence[str]) -> list[LoadedBank] | None:
    """The banks, or None if one cannot be read."""
    try:
        return [load_bank(path) for path in bank_paths(config_dir, files)]
    except (ValueError, OSError):
        return None
