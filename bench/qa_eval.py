#!/usr/bin/env python3
"""Precision and recall of the FAQ matcher on the labelled questions in bench/data/.

    python bench/qa_eval.py [--threshold 0.5]

An answer counts as correct when the bot picks the labelled entry; a question labelled
null should get "I don't know yet". Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.qa.service import load_faq  # noqa: E402


def evaluate(threshold: float, labelled: Path = ROOT / "bench/data/qa_labelled.yaml") -> dict:
    data = yaml.safe_load(labelled.read_text(encoding="utf-8"))
    faq = load_faq([ROOT / "config" / data["faq"].removeprefix("config/")])
    first_question = {e.questions[0]: i for i, e in enumerate(faq.entries)}
    answered = correct = in_scope = 0
    misses = []
    for item in data["questions"]:
        expected = first_question[item["expect"]] if item["expect"] else None
        in_scope += expected is not None
        match = faq.index.best(item["ask"])
        chosen = match.entry if match and match.coverage >= threshold else None
        answered += chosen is not None
        correct += chosen is not None and chosen == expected
        if chosen != expected:
            misses.append({"ask": item["ask"], "expected": item["expect"],
                           "got": faq.entries[chosen].questions[0] if chosen is not None else None})
    return {"bench": "qa_eval", "questions": len(data["questions"]), "in_scope": in_scope,
            "threshold": threshold, "precision": round(correct / answered, 3) if answered else 0,
            "recall": round(correct / in_scope, 3) if in_scope else 0, "misses": misses}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    from bench.calibration import py_loop_us

    figures = evaluate(parser.parse_args().threshold)
    print(json.dumps({**figures, "py_loop_us": py_loop_us()}, ensure_ascii=False))
