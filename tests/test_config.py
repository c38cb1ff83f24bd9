"""Config errors must say file, line, key path and what is wrong — owners edit YAML by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import load
from bot.cli import app
from bot.config import ConfigError
from bot.testing import write_config

ROOT = Path(__file__).resolve().parents[1]


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bot.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [str(issue) for issue in caught.value.issues]


def test_the_shipped_config_is_valid_and_enables_every_plugin():
    from bot.app import PLUGINS as ALL

    loaded = load(ROOT / "bot.yaml")
    enabled = {e.plugin.name for g in loaded.groups.values() for e in g.plugins}
    assert {p.name for p in ALL} <= enabled


def test_an_unknown_plugin_lists_the_known_ones_with_its_line(tmp_path):
    [problem] = _problems(tmp_path, "groups:\n  g1:\n    name: 读书会\n    plugins:\n"
                                    "      timed_post: {}\n")
    assert "bot.yaml:5: groups.g1.plugins.timed_post: 未知插件 (unknown plugin) 'timed_post'" \
        in problem
    assert "是不是 'timed_posts'" in problem
    from bot.app import PLUGINS as ALL

    assert f"可用插件 (known plugins): {', '.join(sorted(p.name for p in ALL))}" in problem


def test_a_typo_in_a_key_suggests_the_closest_valid_one(tmp_path):
    [problem] = _problems(tmp_path, "bot:\n  name: 小助手\n  timezon: Asia/Shanghai\n")
    assert "bot.yaml:3: bot.timezon: 未知的配置项 (unknown key); 是不是 'timezone'？" in problem


def test_a_typo_inside_a_plugin_block_is_found_too(tmp_path):
    [problem] = _problems(tmp_path, "groups:\n  g1:\n    name: x\n    plugins:\n"
                                    "      timed_posts:\n        post: []\n")
    assert "bot.yaml:6: groups.g1.plugins.timed_posts.post: 未知的配置项" in problem
    assert "did you mean 'posts'?" in problem


def test_a_bad_value_names_its_path(tmp_path):
    problems = _problems(tmp_path, "groups:\n  g1:\n    name: x\n    plugins:\n"
                                   "      timed_posts:\n        posts:\n"
                                   "          - at: '25:99'\n            text: hi\n"
                                   "          - at: '09:00'\n            cron: '0 9 * * *'\n"
                                   "            text: both\n")
    assert any("bot.yaml:7: groups.g1.plugins.timed_posts.posts.0.at" in p for p in problems)
    assert any("posts.1" in p and "either `at`" in p for p in problems)


def test_an_unknown_timezone_is_refused(tmp_path):
    [problem] = _problems(tmp_path, "bot:\n  timezone: Mars/Olympus\n")
    assert "bot.yaml:2: bot.timezone" in problem and "unknown timezone" in problem


def test_broken_yaml_names_the_line(tmp_path):
    [problem] = _problems(tmp_path, "bot:\n  name: [unclosed\ngroups: {}\n")
    assert problem.startswith(f"{tmp_path / 'bot.yaml'}:") and "invalid YAML" in problem


def test_a_duplicate_key_is_an_error_not_a_silent_override(tmp_path):
    [problem] = _problems(tmp_path, "groups:\n  g1:\n    name: a\n  g1:\n    name: b\n")
    assert "bot.yaml:4: groups.g1: 重复的键" in problem and "duplicate key" in problem


def test_two_plugins_claiming_one_command_word_is_an_error(tmp_path):
    [problem] = _problems(tmp_path, "groups:\n  g1:\n    name: a\n"
                                    "    aliases:\n      /plugins: [帮助]\n")
    assert "command word '帮助' is claimed by both core.help and core.plugins" in problem


def test_a_missing_file_is_reported_plainly(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.yaml")


def test_config_check_command_exits_non_zero_with_the_problems(tmp_path):
    bad = tmp_path / "bot.yaml"
    bad.write_text("groups:\n  g1:\n    name: a\n    plugins:\n      nope: {}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 2
    assert "未知插件 (unknown plugin) 'nope'" in result.output
    good = CliRunner().invoke(app, ["config", "check", str(ROOT / "bot.yaml")])
    assert good.exit_code == 0 and "OK" in good.output


def test_run_refuses_to_start_on_an_invalid_config(tmp_path):
    bad = tmp_path / "bot.yaml"
    bad.write_text("adapter: telegram\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "bot.yaml:1: adapter" in result.output


async def test_reload_keeps_the_running_config_when_the_new_one_is_invalid(make_chat):
    config = {"groups": {"g1": {"name": "读书会", "admins": ["adam"], "plugins": {
        "timed_posts": {"posts": [{"at": "09:00", "text": "早安"}]}}}}}
    chat = await make_chat(config)
    (chat.directory / "bot.yaml").write_text("groups:\n  g1:\n    name: 读书会\n    plugins:\n"
                                             "      nope: {}\n", encoding="utf-8")
    [refused] = await chat.say("adam", "/reload")
    assert "已保留原配置" in refused.text and "(unknown plugin) 'nope'" in refused.text
    assert "bot.yaml:5: groups.g1.plugins.nope" in refused.text and "/tmp" not in refused.text
    posts = await chat.advance("1h")
    assert [d.text for d in posts] == ["早安"]  # the old config still runs

    config["groups"]["g1"]["plugins"]["timed_posts"]["posts"] = [{"at": "10:00", "text": "上午好"}]
    chat.write_config(config)
    [ok] = await chat.say("adam", "/reload")
    assert ok.text == "配置已重新加载。"
    assert [d.text for d in await chat.advance("1h")] == ["上午好"]


def test_every_text_catalog_has_both_languages():
    from bot.app import BUILTINS, PLUGINS
    from bot.dispatch import CORE_TEXTS

    for name, texts in [("core", CORE_TEXTS)] + [(p.name, p.texts) for p in (*BUILTINS, *PLUGINS)]:
        assert texts.missing_translations() == set(), name


def test_plugin_problems_are_reported_together_with_the_rest(tmp_path):
    problems = _problems(tmp_path, "bot:\n  timezon: Asia/Shanghai\ngroups:\n  g1:\n    name: a\n"
                                   "    plugins:\n      chekin: {}\n")
    assert any("bot.timezon" in p for p in problems)
    assert any("groups.g1.plugins.chekin" in p and "是不是 'checkin'" in p for p in problems)


def test_an_operator_naming_an_unknown_group_or_tag_is_an_error(tmp_path):
    path = write_config(tmp_path, {
        "operators": [{"id": "op",
                       "groups": ["读书会", "tag:reading", "没有这个群", "tag:nosuch"]}],
        "groups": {"g": {"name": "读书会", "tags": ["reading"]}}})
    with pytest.raises(ConfigError) as raised:
        load(path)
    problems = [str(i) for i in raised.value.issues]
    assert len(problems) == 2
    assert "operators.0.groups.2" in problems[0] and "'没有这个群'" in problems[0]
    assert "operators.0.groups.3" in problems[1] and "'tag:nosuch'" in problems[1]


def test_silence_longer_than_the_chart_is_refused(tmp_path):
    path = write_config(tmp_path, {"digest": {"risk_silent_days": 20, "chart_days": 14}})
    with pytest.raises(ConfigError, match=r"risk_silent_days \(20\) must not exceed chart_days"):
        load(path)


def test_an_impossible_date_in_a_content_file_names_the_file(tmp_path):
    (tmp_path / "config" / "briefing").mkdir(parents=True)
    (tmp_path / "config/briefing/bad.yaml").write_text(
        "days:\n  2026-13-40:\n    items: [x]\n", encoding="utf-8")
    path = write_config(tmp_path, {"groups": {"g": {"name": "群", "plugins": {
        "briefing": {"files": ["briefing/bad.yaml"]}}}}})
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert "bad.yaml:2: days.2026-13-40: 取值无效 (invalid value): 2026-13-40: month must be " \
        "in 1..12" in str(raised.value)
