"""The console adapter's transcript mode, exactly as users and CI run it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from bot.adapters.console import ScriptError, parse_script
from bot.cli import app
from tests.transcripts import play, run_bot

ROOT = Path(__file__).resolve().parents[1]


RELOAD_REFUSED = "「/reload」只有 bot.yaml 里登记的管理员可以用哦（微信群自己的群主、管理员不算）。"

def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_bot("run", *args)


def test_the_core_example_runs_help_plugins_reload_and_a_timed_post():
    result = _run("--script", "examples/core.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    sent = [json.loads(line) for line in result.stdout.splitlines()]
    by_text = {m["text"].splitlines()[0]: m for m in sent}
    assert "「读书会」可用的命令：" in by_text and "「读书会」启用的功能：" in by_text
    assert by_text[RELOAD_REFUSED]["mentions"] == ["dave"]
    assert "配置已重新加载。" in by_text
    morning = next(m for m in sent if m["text"].startswith("早上好"))
    assert morning == {**morning, "kind": "post", "group": "demo-reading",
                       "at": "2026-11-23T08:30:00+08:00", "mentions": [], "to": None}
    assert "2026-11-23 星期一" in morning["text"]
    assert any(m["text"].startswith("Commands in “English Corner”") for m in sent)
    assert [m["kind"] for m in sent].count("post") == 1


def test_plain_output_shows_group_bot_name_and_mentions():
    result = _run("--script", "examples/core.txt")
    assert result.returncode == 0, result.stderr
    assert f"[读书会] 小助手: @dave {RELOAD_REFUSED}" in result.stdout.splitlines()


def test_a_malformed_line_stops_the_script_naming_its_line(tmp_path):
    script = tmp_path / "bad.txt"
    script.write_text("@group 读书会\nalice: /help\n@advance soon\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(ROOT / "bot.yaml"),
                                      "--script", str(script)])
    assert result.exit_code == 2
    assert f"{script}:3: invalid duration 'soon'" in result.output
    assert "可用的命令" not in result.output  # nothing ran before the error was found


def test_script_grammar():
    steps = parse_script(
        "# comment\n@group 读书会   # trailing comment\n@at 2026-11-23 08:59\n@advance 1d\n"
        "@join carol\n@leave carol\nalice: 打卡 今天读完第三章    # note\n"
        "bob：@小助手 怎么退群?\nchen: #话题 标签不是注释\n",
        "s.txt", lambda key: key == "读书会")
    assert [s.action for s in steps] == ["group", "at", "advance", "join", "leave", "say", "say",
                                         "say"]
    assert steps[0].subject == "读书会"
    assert steps[5].text == "打卡 今天读完第三章"
    assert steps[6].subject == "bob" and steps[6].text == "@小助手 怎么退群?"
    assert steps[7].text == "#话题 标签不是注释"


def test_script_errors_name_each_kind_of_mistake():
    cases = {
        "@group 不存在的群": "no group '不存在的群'",
        "@teleport now": "unknown directive @teleport",
        "@at tomorrow": "invalid time",
        "just some words": "expected `member: message`",
        "alice:": "expected `member: message`",
    }
    for line, message in cases.items():
        try:
            parse_script(f"# first\n{line}\n", "s.txt", lambda key: key == "读书会")
        except ScriptError as exc:
            assert exc.line == 2 and message in str(exc), line
        else:
            raise AssertionError(f"accepted {line!r}")


async def test_mentions_of_the_bot_are_stripped_and_others_become_ids(make_chat):
    chat = await make_chat({"bot": {"name": "小助手"}, "groups": {"g": {"name": "群"}}})
    event = chat.chat.message("g", "bob", "@小助手 请问 @alice 在吗")
    assert event.mentions_bot and event.text == "请问 @alice 在吗"
    assert event.mention_ids == ("alice",)


async def test_a_message_of_thousands_of_mentions_reads_a_rooms_worth_as_mentions(make_chat):
    """A room holds at most 500 members: the rest of an 80 KB run of @-mentions is text
    (bounded work per message, issue 14 point 6)."""
    from bot.adapters.simulated import MOST_MENTIONS

    chat = await make_chat({"bot": {"name": "小助手"}, "groups": {"g": {"name": "群"}}})
    text = " ".join(f"@m{i}" for i in range(5000))
    event = chat.chat.message("g", "bob", text)
    assert event.mention_ids == tuple(f"m{i}" for i in range(MOST_MENTIONS))
    assert event.text.startswith("@m0 @m1") and event.text.endswith("@m4999")


def test_the_checkin_example_shows_streaks_a_milestone_a_reminder_and_a_refused_copy():
    result = _run("--script", "examples/checkin.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    sent = [json.loads(line) for line in result.stdout.splitlines()]
    said = [m["text"] for m in sent]
    assert any("太像了" in t for t in said)  # carol's copied note
    assert any("连续 3 天" in t for t in said) and any("连续 5 天" in t for t in said)
    milestone = next(m for m in sent if "恭喜连续打卡 3 天" in m["text"])
    assert milestone["mentions"] == ["alice"] and milestone["kind"] == "post"
    reminders = [m for m in sent if "还没打卡" in m["text"]]
    assert reminders and all("carol" not in m["mentions"] for m in reminders)  # opted out
    assert any("❄" in t for t in said) and any("补签成功" in t for t in said)


def test_the_qa_example_answers_points_records_and_learns():
    result = _run("--script", "examples/qa.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    said = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert "删除并退出" in said[0] and "刚刚回答过" in said[3]
    assert "还不会回答" in said[4] and "关闭了 1 个待答问题" in said[6]
    assert said[7].startswith("周末户外活动见群公告") and said[-1] == "没有待答的问题。"


def test_the_moderation_example_welcomes_escalates_undoes_and_releases():
    result = _run("--script", "examples/moderation.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    sent = [json.loads(line) for line in result.stdout.splitlines()]
    said = [m["text"] for m in sent]
    assert sent[0]["mentions"] == ["carol", "dave"] and "群规" in said[0]  # one welcome
    assert "允许「个傻瓜」这个说法" in said[2]
    assert "兼职日结" in said[3] and sent[3]["kind"] == "notice"
    assert any("关小黑屋 3 天" in t for t in said) and any("1. dave" in t for t in said)
    assert said[-2].endswith("已把 dave 放出小黑屋。") and said[-1].startswith("你的积分")
    assert sum(t.startswith("你的积分") for t in said) == 1  # ignored while in the 小黑屋


def test_a_second_console_session_on_the_same_database_is_answered(tmp_path):
    """Handled message ids are remembered (bot/once.py): a new typed session must not reuse
    the last one's, or everything typed would be ignored as a replay."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    for _ in range(2):
        session = run_bot("run", "--database", database, typed="/群号\n/quit\n")
        assert session.returncode == 0, session.stderr
        assert "demo-reading" in session.stdout  # /群号 answered in 读书会


def test_a_room_id_missing_from_the_config_plays_as_an_unlisted_room():
    steps = parse_script("@group wx-room-9f3a\n@group 12345678@chatroom\n@config x.yaml\n",
                         "s.txt", lambda key: key == "读书会")
    assert [(s.action, s.subject) for s in steps] == [
        ("group", "wx-room-9f3a"), ("group", "12345678@chatroom"), ("config", "x.yaml")]


def test_the_onboarding_example_goes_from_the_group_id_to_a_set_up_group():
    sent = [m for m in play("onboarding.txt") if m["group"] == "wx-room-9f3a"]
    texts = [m["text"] for m in sent]
    # Unlisted: chatter and 打卡 get nothing; /群号 answers with the id to put in bot.yaml.
    assert texts[0] == "本群的 id：wx-room-9f3a\n把它写进 bot.yaml 的 groups 下即可为本群启用功能。"
    assert texts[1] == "配置已重新加载。" and sent[1]["mentions"] == ["op_wang"]
    assert texts[2].splitlines() == ["「新书友群」启用的功能：", "· 每日打卡（checkin）",
                                     "· 积分（points）"]
    assert texts[3].startswith("打卡成功！今天第 1 位") and sent[3]["mentions"] == ["carol"]
    assert texts[4].startswith("打卡成功！今天第 2 位") and sent[4]["mentions"] == ["dave"]
    assert texts[5] == "你的积分：5，本群第 1 名。"
    assert len(sent) == 6


def test_the_english_example_shows_english_only():
    from bot.i18n import has_cjk

    sent = [m for m in play("english.txt") if m["group"] == "demo-english"]
    by_start = {m["text"].splitlines()[0]: m for m in sent}
    assert [m["text"] for m in sent if has_cjk(m["text"])] == []
    assert "Reminders are already off. Send /quiet off to turn them back on." in by_start
    assert "Added 1 point for amy (welcome); balance 6." in by_start
    granted = by_start["Added 30 points for carol (host); balance 30."]
    assert granted["mentions"] == ["carol"]  # once, though she is sender and target
    assert "Send /grab to grab one!" in by_start["🧧 carol sent a red packet: 20 points in 2 "
                                                 "shares. “happy Monday”"]["text"]
    assert by_start["Question banks:"]["text"].splitlines()[1] == "· Emoji idioms (100 questions)"
    assert any(t.startswith("“/tag” belongs to “Member tags”") for t in by_start)
