"""Content files under config/ (FAQs, quiz banks, briefing items, events, word lists) get
bot.yaml's checker (issue 13): every problem at once, each as `file:line` relative to config/,
duplicate keys refused — at start, in `bot config check` and on /reload. A file an owner
breaks while the bot runs keeps its last good version in use and the group's operators
are told once (issue 13); each file is parsed once per version, by libyaml (issue 16)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.app import load
from bot.cli import app
from bot.config import ConfigError
from bot.config import files as config_files
from bot.testing import write_config

FAQ = """\
entries:
  - questions: [会费多少, 要交会费吗]
    answer: 会费一年 100 元。
  - questions: [几点活动]
    answer: 每周六下午两点。
"""

BROKEN_FAQ = """\
entries:
  - questions: [会费多少]
    answer: 会费一年 100 元。
    answer: 会费一年 200 元。
  - questions: []
    answer: x
  - questions: [几点活动]
    anwser: 每周六
"""


def _qa_config(**extra: object) -> dict:
    return {**extra, "groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {
        "qa": {"faq_files": ["faq/club.yaml"]}}}}}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "config" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "bot.yaml")
    return [issue.shown(tmp_path) for issue in caught.value.issues]


# -- the same checker as bot.yaml ---------------------------------------------------------

def test_every_problem_of_a_faq_file_at_once_with_its_line(tmp_path):
    _write(tmp_path, "faq/club.yaml", BROKEN_FAQ)
    write_config(tmp_path, _qa_config())
    assert _problems(tmp_path) == [
        "faq/club.yaml:4: entries.0.answer: 重复的键，前一个会被忽略 "
        "(duplicate key: the earlier one would be silently ignored)",
        "faq/club.yaml:5: entries.1.questions: 取值无效 (invalid value): "
        "List should have at least 1 item after validation, not 0",
        "faq/club.yaml:7: entries.2.answer: 缺少必填项 (required key is missing)",
        "faq/club.yaml:8: entries.2.anwser: 未知的配置项 (unknown key); "
        "是不是 'answer'？(did you mean 'answer'?)",
    ]


@pytest.mark.parametrize("block, name, text, first, second", [
    ({"quiz": {"banks": ["quiz/mine.yaml"]}}, "quiz/mine.yaml",
     "name: 我的题库\nname: 又一个名字\nquestions:\n  - {q: 一加一, answers: [二], extra: 1}\n",
     "quiz/mine.yaml:2: name: 重复的键", "quiz/mine.yaml:4: questions.0"),
    ({"briefing": {"files": ["briefing/club.yaml"]}}, "briefing/club.yaml",
     "days:\n  2026-11-23:\n    items: [a]\n    items: [b]\n  2026-11-24:\n    itemz: [c]\n",
     "briefing/club.yaml:4: days.2026-11-23.items: 重复的键",
     "briefing/club.yaml:6: days.2026-11-24.itemz: 未知的配置项"),
    ({"recap": {"events_file": "events.yaml"}}, "events.yaml",
     "events:\n  - date: 2026-11-23\n    date: 2026-11-24\n    time: '19:00'\n"
     "  - {date: 2026-11-25, time: '25:00', title: x}\n",
     "events.yaml:3: events.0.date: 重复的键", "events.yaml:5: events.1.time"),
])
def test_each_kind_of_content_file_reports_duplicates_with_its_other_problems(
        tmp_path, block, name, text, first, second):
    _write(tmp_path, name, text)
    write_config(tmp_path, {"groups": {"g": {"name": "读书会", "plugins": block}}})
    problems = _problems(tmp_path)
    assert any(p.startswith(first) for p in problems), problems
    assert any(p.startswith(second) for p in problems), problems
    assert not any(str(tmp_path) in p for p in problems)


def test_a_bad_word_list_entry_is_named_by_its_file_and_line(tmp_path):
    _write(tmp_path, "moderation/words.txt", "# 词表\n广告\n刷单 | 刷卡\n")
    write_config(tmp_path, {"groups": {"g": {"name": "读书会", "plugins": {
        "moderation": {"word_files": ["moderation/words.txt"]}}}}})
    [problem] = _problems(tmp_path)
    assert problem.startswith("moderation/words.txt:3: 例外词「刷卡」不包含「刷单」")


def test_a_file_two_groups_name_is_reported_once(tmp_path):
    _write(tmp_path, "faq/club.yaml", "entries:\n  - questions: [a]\n")
    block = {"plugins": {"qa": {"faq_files": ["faq/club.yaml"]}}}
    write_config(tmp_path, {"groups": {"g": {"name": "一群", **block},
                                       "h": {"name": "二群", **block}}})
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "bot.yaml")
    [issue] = caught.value.issues
    assert issue.shown(tmp_path).startswith("faq/club.yaml:2: entries.0.answer: 缺少必填项")
    assert issue.named_by == ("groups.g.plugins.qa", "groups.h.plugins.qa")


def test_config_check_lists_content_problems_with_bot_yaml_ones(tmp_path):
    _write(tmp_path, "faq/club.yaml", BROKEN_FAQ)
    config = _qa_config()
    config["groups"]["g"]["plugins"]["quiz"] = {"rounds": "many"}
    write_config(tmp_path, config)
    result = CliRunner().invoke(app, ["config", "check", str(tmp_path / "bot.yaml")])
    assert result.exit_code == 2
    assert "(5 problem(s))" in result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("bot.yaml:") and \
        ": groups.g.plugins.quiz.rounds: 未知的配置项" in lines[1]
    assert [line.split(": ")[0] for line in lines[2:]] == [
        "faq/club.yaml:4", "faq/club.yaml:5", "faq/club.yaml:7", "faq/club.yaml:8"]
    assert str(tmp_path) not in result.output


def test_a_missing_text_file_is_reported_at_its_own_line(tmp_path):
    _bot_yaml(tmp_path, "groups:\n  g:\n    name: 读书会\n    plugins:\n      timed_posts:\n"
                           "        posts:\n          - at: '08:00'\n"
                           "            text_file: timed_posts/nope.txt\n"
                           "        pools:\n          话题:\n            file: topics/nope.txt\n")
    assert _problems(tmp_path) == [
        "bot.yaml:8: groups.g.plugins.timed_posts.posts.0.text_file: 找不到文本文件 "
        "(text file not found): timed_posts/nope.txt",
        "bot.yaml:11: groups.g.plugins.timed_posts.pools.话题.file: 找不到话题文件 "
        "(topic file not found): topics/nope.txt",
    ]


def _bot_yaml(tmp_path: Path, text: str) -> None:
    (tmp_path / "bot.yaml").write_text(text, encoding="utf-8")  # as typed: lines kept


@pytest.mark.parametrize("post, key, words", [
    ({"at": "'08:00'", "text": "早", "text_file": "a.txt"}, "text_file", "只能写一个"),
    ({"cron": "'0 21 * * 0-8'", "text": "早"}, "cron", "“星期”段"),
    ({"cron": "'0 25 * * *'", "text": "早"}, "cron", "“小时”段"),
    ({"cron": "'0 21 * *'", "text": "早"}, "cron", "要写 5 段"),
    ({"text": "早", "cron": "'0 9 * * 1'", "weekdays": "[mon]"}, "weekdays", "cron 自带星期段"),
    ({"text": "早", "between": "['21:00', '19:00']"}, "between", "开始要早于结束"),
    ({"at": "'08:00'", "pool": "nope"}, "pool", "没有话题池"),
    ({"text": "早", "at": "'08:00'", "cron": "'0 9 * * *'"}, "cron", "只能写一个"),
])
def test_a_timed_posts_problem_names_the_line_of_its_key(tmp_path, post, key, words):
    keys = [f"            {k}: {v}\n" for k, v in post.items()]
    keys[0] = "          - " + keys[0].lstrip()
    _bot_yaml(tmp_path, "groups:\n  g:\n    name: 读书会\n    plugins:\n      timed_posts:\n"
                        "        posts:\n" + "".join(keys))
    line = 7 + list(post).index(key)  # the post's first key is on line 7
    [problem] = _problems(tmp_path)
    assert problem.startswith(f"bot.yaml:{line}: groups.g.plugins.timed_posts.posts.0.{key}: "), \
        problem
    assert words in problem


def test_a_quiz_naming_a_missing_bank_is_reported_at_that_key(tmp_path):
    _write(tmp_path, "quiz/mine.yaml",
           "name: 我的题库\nquestions:\n  - {q: 一加一, answers: [二]}\n")
    _bot_yaml(tmp_path, "groups:\n  g:\n    name: 读书会\n    plugins:\n      quiz:\n"
                        "        banks: [quiz/mine.yaml]\n        daily:\n"
                        "          - at: '20:00'\n            bank: 诗词\n")
    [problem] = _problems(tmp_path)
    assert problem.startswith("bot.yaml:9: groups.g.plugins.quiz.daily.0.bank: 没有这个题库")


# -- issue 16: libyaml, one read per file and version -------------------------------------

def test_yaml_is_parsed_by_libyaml_keeping_lines():
    from bot.config.loader import _MarkedLoader

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")
    assert issubclass(_MarkedLoader, yaml.CSafeLoader)


def test_start_reads_each_content_file_once(tmp_path, monkeypatch):
    from bot.app import PLUGINS
    from bot.config import load_config, loader

    monkeypatch.setattr(loader, "_CONTENT", {})  # as at start: earlier tests filled the cache
    root = Path(__file__).resolve().parents[1]
    reads: list[str] = []
    real = config_files.read_text
    monkeypatch.setattr(config_files, "read_text", lambda p: reads.append(str(p)) or real(p))
    load_config(root / "bot.yaml", PLUGINS)
    content = [r for r in reads if "/config/" in r and r.endswith(".yaml")]
    assert content and len(content) == len(set(content)), content
    reads.clear()
    load_config(root / "bot.yaml", PLUGINS)  # /reload of an unchanged tree: nothing re-parsed
    assert [r for r in reads if r.endswith(".yaml") and "/config/" in r] == []


# -- broken while the bot runs ---------------------------------------------------------------

def _touch_later(path: Path, text: str) -> None:
    """Save `text` as a new version (a later modification time, as an editor would)."""
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_faq_broken_while_running_keeps_answering_and_operators_hear_once(
        make_chat, tmp_path, database_url):
    faq = _write(tmp_path, "faq/club.yaml", FAQ)
    config = _qa_config(operators=[{"id": "op_wang"}, {"id": "op_li", "groups": ["别的群"]}])
    config["groups"]["other"] = {"name": "别的群"}
    chat = await make_chat(config, database_url=database_url)
    [answer] = await chat.say("carol", "@小助手 会费多少")
    assert "100 元" in answer.text

    _touch_later(faq, FAQ.replace("  - questions: [几点活动]", "  - questions: [几点活动\n"))
    await chat.advance("5m")  # past the repeat window: each question gets its answer
    sent = await chat.say("dave", "@小助手 要交会费吗")
    [reply] = [d for d in sent if d.kind != "dm"]
    assert "100 元" in reply.text  # the last good version still answers
    [dm] = [d for d in sent if d.kind == "dm"]
    assert dm.to == "op_wang"  # op_li does not run 读书会
    assert dm.text.startswith(
        "「读书会」用的内容文件 faq/club.yaml 有错误，机器人继续用上一次能读的版本")
    assert "faq/club.yaml:6:" in dm.text and str(tmp_path) not in dm.text

    again = await chat.say("erin", "@小助手 几点活动")
    assert [d.kind for d in again] != [] and all(d.kind != "dm" for d in again)  # told once
    assert "周六" in again[0].text

    [refused] = await chat.say("adam", "/reload")  # the owner tries a reload: refused…
    assert "已保留原配置" in refused.text and "faq/club.yaml:6" in refused.text
    await chat.advance("5m")
    [still] = await chat.say("carol", "@小助手 会费多少")  # …and answers go on
    assert "100 元" in still.text

    _touch_later(faq, FAQ.replace("100 元", "120 元"))  # fixed: the new version at once
    await chat.advance("5m")
    [fixed] = await chat.say("carol", "@小助手 会费多少")
    assert "120 元" in fixed.text and fixed.kind != "dm"


async def test_a_faq_removed_while_running_keeps_answering(make_chat, tmp_path):
    faq = _write(tmp_path, "faq/club.yaml", FAQ)
    chat = await make_chat(_qa_config(operators=[{"id": "op_wang"}]))
    faq.unlink()
    sent = await chat.say("carol", "@小助手 会费多少")
    assert "100 元" in next(d for d in sent if d.kind != "dm").text
    [dm] = [d for d in sent if d.kind == "dm"]
    assert "faq/club.yaml: 找不到文件 (file not found)" in dm.text


async def test_a_quiz_bank_broken_while_running_still_plays_its_last_version(make_chat, tmp_path):
    bank = _write(tmp_path, "quiz/mine.yaml",
                  "name: 我的题库\nquestions:\n  - {q: 一加一等于几, answers: [二]}\n")
    chat = await make_chat({"operators": [{"id": "op_wang"}], "groups": {"g": {
        "name": "读书会", "plugins": {"points": {}, "quiz": {"banks": ["quiz/mine.yaml"]}}}}})
    _touch_later(bank, "name: 我的题库\nname: 重名\nquestions: [\n")
    sent = await chat.say("carol", "答题")
    assert any("一加一等于几" in d.text for d in sent if d.kind != "dm"), sent
    [dm] = [d for d in sent if d.kind == "dm"]
    assert dm.to == "op_wang" and "quiz/mine.yaml:" in dm.text


@pytest.mark.parametrize("block, key", [
    ("      quiz:\n        banks: []\n        time_limit: 30s\n        hint_after: 40s\n",
     "groups.g.plugins.quiz.hint_after"),
    ("      redpacket:\n        scheduled:\n          - at: '20:00'\n            count: 10\n"
     "            total: 5\n", "groups.g.plugins.redpacket.scheduled.0.total"),
])
def test_a_check_across_keys_names_the_line_of_the_key_to_change(tmp_path, block, key):
    text = "groups:\n  g:\n    name: 读书会\n    plugins:\n" + block
    _bot_yaml(tmp_path, text)
    [problem] = _problems(tmp_path)
    line = 1 + text.splitlines().index(next(
        row for row in text.splitlines() if row.strip().startswith(key.rsplit(".", 1)[1] + ":")))
    assert problem.startswith(f"bot.yaml:{line}: {key}: 取值无效 (invalid value): "), problem


def test_every_impossible_date_is_named_by_its_line(tmp_path):
    _write(tmp_path, "events.yaml", "events:\n  - {date: 2026-11-31, time: '19:00', title: a}\n"
                                    "  - {date: 2026-11-30, time: '19:00', title: b}\n"
                                    "  - {date: 2026-02-30, time: '19:00', title: c}\n")
    write_config(tmp_path, {"groups": {"g": {"name": "读书会", "plugins": {"recap": {}}}}})
    assert [p.split(": 取值无效")[0] for p in _problems(tmp_path)] == [
        "events.yaml:2: events.0.date", "events.yaml:4: events.2.date"]


def test_content_problems_come_with_bot_yaml_ones_even_when_bot_yaml_is_invalid(tmp_path):
    _write(tmp_path, "faq/club.yaml", BROKEN_FAQ)
    write_config(tmp_path, _qa_config(adapter="telegram"))
    problems = _problems(tmp_path)
    assert problems[0].startswith("bot.yaml:") and ": adapter: " in problems[0]
    assert [p.split(": ")[0] for p in problems[1:]] == [
        "faq/club.yaml:4", "faq/club.yaml:5", "faq/club.yaml:7", "faq/club.yaml:8"]
