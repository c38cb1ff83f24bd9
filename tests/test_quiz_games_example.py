"""examples/games.txt, played as users and CI play it: a quiz round, an idiom chain, a red
packet and a draw whose winners `bot verify-draw` recomputes from the posted values."""

from __future__ import annotations

import json
import re
import shlex

from tests.transcripts import run_bot


def test_the_games_example_plays_quiz_chain_red_packet_and_a_verifiable_draw() -> None:
    result = run_bot("run", "--script", "examples/games.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    said = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert any("erin 答对了" in t for t in said) and any("本轮问答结束" in t for t in said)
    assert not any("dan 答对了！答案：4" in t for t in said)  # neither list of candidates counted
    assert any("接上「谋事在人」" in t for t in said) and any("成语接龙结束" in t for t in said)
    done = next(t for t in said if "已被抢完" in t)
    shares = [int(n) for n in re.findall(r"：(\d+)$", done, re.M)]
    assert len(shares) == 5 and sum(shares) == 100 and min(shares) >= 1
    assert "手气最佳" in done
    assert said[said.index(done) + 1].startswith("🎁")  # the bare 抢 after it got no answer
    assert any("第 2 期抽奖（口令「抽书签」）已被管理员 bob 取消" in t for t in said)
    assert sum("抽奖开奖" in t for t in said) == 1  # the cancelled draw is never drawn
    draw = next(t for t in said if "抽奖开奖" in t)
    check = next(t for t in said if "bot verify-draw" in t)
    verified = run_bot("verify-draw", *shlex.split(check.split("bot verify-draw", 1)[1]))
    assert verified.returncode == 0 and "commitment OK" in verified.stdout
    for prize, member in (line.split("\t") for line in verified.stdout.splitlines()[1:]):
        assert re.search(rf"{re.escape(prize)}：[^\n]*{member}", draw)
