#!/usr/bin/env python3
"""Precision and recall of the FAQ matcher on the labelled questions, per split.

    python bench/qa_eval.py [--threshold 0.45] [--misses tuning|heldout|none]

bench/data/qa_labelled.yaml holds questions as members of four communities write them,
each labelled with the FAQ entry that answers it (its first question) or null when the
bot should say it does not know yet. An answer counts as correct when the bot picks the
labelled entry. Precision = correct / answered, recall = correct / answerable. The
matcher is tuned on the `tuning` split only; the `heldout` split (written and committed
before any tuning, with an FAQ the tuning split never asks about) is what the README
reports as the expected quality. Prints one JSON line; misses are listed for the tuning
split unless asked otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.qa.service import Faq, load_faq  # noqa: E402
from plugins.qa.settings import QaSettings  # noqa: E402

LABELLED = ROOT / "bench/data/qa_labelled.yaml"
DEFAULT = QaSettings().threshold  # what a group gets unless its owner sets one
# Each community's group name, as the bot would know it from bot.yaml: the matcher
# weighs the name's words (跑团, 读书会) as the topic every question is about.
GROUP_NAMES = {"reading": "读书会", "running": "跑团", "parenting": "宝妈育儿群",
               "course": "Python入门课学员群"}


def score(faqs: dict[str, Faq], questions: dict[str, list[dict]], threshold: float) -> dict:
    """Precision and recall over every community of a split, then each community's."""
    # per community: questions, answerable, answered, answered right
    counts = {community: [0, 0, 0, 0] for community in questions}
    misses = []
    for community, items in questions.items():
        faq = faqs[community]
        first_question = {e.questions[0]: i for i, e in enumerate(faq.entries)}
        tally = counts[community]
        for item in items:
            expected = first_question[item["expect"]] if item["expect"] else None
            match = faq.index.best(item["ask"])
            chosen = match.entry if match and match.coverage >= threshold else None
            tally[0] += 1
            tally[1] += expected is not None
            tally[2] += chosen is not None
            tally[3] += chosen is not None and chosen == expected
            if chosen != expected:
                misses.append({"faq": community, "ask": item["ask"], "expected": item["expect"],
                               "got": faq.entries[chosen].questions[0] if chosen is not None
                               else None, "score": match.coverage if match else 0})
    total = [sum(column) for column in zip(*counts.values(), strict=True)]
    return {**_figures(total), "by_community": {c: _figures(n) for c, n in counts.items()},
            "misses": misses}


def _figures(counts: list[int]) -> dict:
    total, in_scope, answered, right = counts
    return {"questions": total, "in_scope": in_scope, "answered": answered,
            "precision": round(right / answered, 3) if answered else 0.0,
            "recall": round(right / in_scope, 3) if in_scope else 0.0}


def evaluate(threshold: float = DEFAULT, labelled: Path = LABELLED) -> dict:
    data = yaml.safe_load(labelled.read_text(encoding="utf-8"))
    faqs = {name: load_faq([ROOT / path], topic=GROUP_NAMES.get(name, ""))
            for name, path in data["faqs"].items()}
    return {"bench": "qa_eval", "threshold": threshold,
            **{split: score(faqs, data[split], threshold) for split in ("tuning", "heldout")}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT)
    parser.add_argument("--misses", choices=["tuning", "heldout", "none"], default="tuning")
    args = parser.parse_args()
    result = evaluate(args.threshold)
    for split in ("tuning", "heldout"):
        if args.misses != split:
            result[split]["misses"] = len(result[split]["misses"])
    from bench.calibration import py_loop_us

    print(json.dumps({**result, "py_loop_us": py_loop_us()}, ensure_ascii=False))
