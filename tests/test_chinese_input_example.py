"""examples/chinese-input.txt, played as users and CI play it: numbers, command forms,
deadlines, multipliers and 口令 as Chinese members type them."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_chinese_input_example_is_understood_throughout() -> None:
    result = _bot("run", "--script", "examples/chinese-input.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    said = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert sum(t.startswith("打卡成功") for t in said) == 4  # ：, #, 【】 and ～ forms
    for granted in ("加 100 积分", "加 1000 积分（组织线下活动）", "加 50 积分",
                    "加 1000 积分（赞助奖品）"):
        assert any(granted in t for t in said), granted
    assert "你的积分：0，还没有排名。打卡、答题都能赚积分哦。" in said
    assert any("100 积分，2 份" in t for t in said)
    assert "总积分要在 10 到 10000 之间（每份至少 1 积分）。" in said  # the 60-digit amount
    assert any("最先掷出 6 点" in t for t in said) and any("放了 5 个气球" in t for t in said)
    assert any("扎破了 3 号气球" in t for t in said)
    assert "截止时间 11-23 09:00 已经过去了，换一个以后的时间吧。" in said
    assert sum("已参与抽奖（第 1 期）" in t for t in said) == 5  # ～, 🙏, ！, [合十] and plain
    assert any("截止：11-30 20:00" in t and "书签 × 10" in t for t in said)
    assert any("截止：11-23 20:00" in t and "贴纸 × 2" in t for t in said)
    draw = next(t for t in said if "抽奖开奖（第 1 期）" in t)
    assert len(draw.split("５０积分：")[1].split("\n")[0].split("、")) == 2  # two winners
    check = next(t for t in said if "bot verify-draw" in t and "５０积分*2" in t)
    verified = _bot("verify-draw", *shlex.split(check.split("bot verify-draw", 1)[1]))
    assert verified.returncode == 0 and "commitment OK" in verified.stdout
    board = said[-1].splitlines()
    assert board[0] == "「读书会」积分榜："
    # 2150 granted + 4 check-ins of 5 + two 50-point prizes (the red packet only moved points)
    assert sum(int(line.rsplit("— ", 1)[1]) for line in board[1:]) == 2150 + 20 + 100
