#!/usr/bin/env python3
"""Catch rate and false-positive rate of moderation's content rules on the labelled corpus
in bench/data/moderation/ (tuning.yaml and heldout.yaml).

    python bench/moderation_eval.py [--split tuning|heldout] [--show-misses]

The detector runs as shipped (config/moderation/banned-words.txt, phones, WeChat ids and
cards on) with links blocked, so every link counts. A spam line is caught when any rule
flags it; an ordinary line is a false positive when any rule does. --show-misses lists
the tuning split's misses and false positives only: the held-out split is never tuned
against, so its lines are not printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.events import IncomingMessage, Link, MessageKind, MiniProgram  # noqa: E402
from plugins.moderation.detect import Detector, load_words  # noqa: E402
from plugins.moderation.settings import ModerationSettings  # noqa: E402

DATA = ROOT / "bench/data/moderation"
SPLITS = ("tuning", "heldout")
SETTINGS = ModerationSettings(word_files=["moderation/banned-words.txt"], block_links=True)


def load(split: str) -> dict[str, Any]:
    """The split as written: every scalar a string (BaseLoader keeps "+1" and "1" as typed)."""
    return yaml.load((DATA / f"{split}.yaml").read_text(encoding="utf-8"),
                     Loader=yaml.BaseLoader)


def as_typed(entry: str | dict[str, str]) -> str | dict[str, str]:
    """A plain line with ": " in it reads as a one-key mapping in YAML; put it back."""
    if isinstance(entry, dict) and "kind" not in entry and len(entry) == 1:
        [(key, value)] = entry.items()
        return f"{key}: {value}"
    return entry


def message(entry: str | dict[str, Any]) -> IncomingMessage:
    base = {"id": "m", "group_id": "g", "sender_id": "x", "sender_name": "x",
            "at": datetime.now(UTC)}
    if isinstance(entry, str):
        return IncomingMessage(text=entry, **base)
    kind = MessageKind(entry["kind"])
    content: Link | MiniProgram | None = None
    if kind is MessageKind.LINK:
        content = Link(title=entry.get("title", ""), url=entry.get("url", ""))
    elif kind is MessageKind.MINI_PROGRAM:
        content = MiniProgram(title=entry.get("title", ""), app=entry.get("app", ""))
    return IncomingMessage(text="", kind=kind, content=content, **base)


def flagged(detector: Detector, entry: str | dict[str, Any]) -> str | None:
    msg = message(as_typed(entry))
    found = detector.check(msg)
    if found:
        return found.rule
    return "link" if Detector.link_in(msg) else None


def evaluate(detector: Detector, split: str, show: bool) -> dict[str, Any]:
    data = load(split)
    per_rule: dict[str, list[int]] = {}
    misses: list[str] = []
    for rule, lines in data["spam"].items():
        caught = 0
        for entry in lines:
            hit = flagged(detector, entry)
            caught += hit is not None
            if hit is None:
                misses.append(f"  missed [{rule}] {entry}")
        per_rule[rule] = [caught, len(lines)]
    false_by_rule: Counter[str] = Counter()
    per_community: dict[str, list[int]] = {}
    for community, lines in data["ordinary"].items():
        wrong = 0
        for entry in lines:
            hit = flagged(detector, entry)
            if hit:
                wrong += 1
                false_by_rule[hit] += 1
                misses.append(f"  false positive [{hit}] ({community}) {entry}")
        per_community[community] = [wrong, len(lines)]
    spam_total = sum(t for _, t in per_rule.values())
    caught_total = sum(c for c, _ in per_rule.values())
    ordinary_total = sum(t for _, t in per_community.values())
    flagged_total = sum(w for w, _ in per_community.values())
    print(f"{split}: {caught_total}/{spam_total} evasion lines caught "
          f"({100 * caught_total / spam_total:.1f}%), {flagged_total}/{ordinary_total} "
          f"ordinary lines flagged ({100 * flagged_total / ordinary_total:.2f}%)")
    for rule, (caught, total) in per_rule.items():
        print(f"  {rule:<12} caught {caught:>3}/{total:<3} {100 * caught / total:5.1f}%   "
              f"false positives {false_by_rule.get(rule, 0):>2}/{ordinary_total} "
              f"{100 * false_by_rule.get(rule, 0) / ordinary_total:.2f}%")
    for community, (wrong, total) in per_community.items():
        print(f"  ordinary {community:<10} flagged {wrong}/{total}")
    if show and split == "tuning":
        print("\n".join(misses))
    return {"caught": caught_total / spam_total, "flagged": flagged_total / ordinary_total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true",
                        help="list the tuning split's misses and false positives")
    parser.add_argument("--split", choices=SPLITS, help="score one split only")
    args = parser.parse_args()
    show = args.show_misses
    from bench.calibration import line

    print(line())
    detector = Detector(SETTINGS, load_words(SETTINGS, ROOT))
    started = time.perf_counter()
    for split in [args.split] if args.split else SPLITS:
        evaluate(detector, split, show)
    print(f"({time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main()
