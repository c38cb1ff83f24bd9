"""Config files can't reach outside config/ and can't take the bot down (issue 12 point 10,
issue 14 point 5): the same refusals at start (`bot config check`) and on /reload."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import load
from bot.cli import app
from bot.config import ConfigError
from bot.testing import write_config

ROOT = Path(__file__).resolve().parents[1]
POST = {"at": "08:30", "text_file": "timed_posts/morning.txt"}


def config(**post: object) -> dict:
    return {"groups": {"g": {"name": "读书会", "owner": "olivia", "plugins": {
        "timed_posts": {"posts": [{**POST, **post}]}}}}}


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "timed_posts"
    folder.mkdir(parents=True)
    (folder / "morning.txt").write_text("早上好", encoding="utf-8")
    return folder


def problems(tmp_path: Path, data: dict | str) -> list[str]:
    if isinstance(data, str):
        (tmp_path / "bot.yaml").write_text(data, encoding="utf-8")
    else:
        write_config(tmp_path, data)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "bot.yaml")
    assert time.perf_counter() - started < 3, "refused, but not quickly"
    return [issue.shown(tmp_path) for issue in caught.value.issues]


@pytest.mark.parametrize("name, reason", [
    ("../../../../etc/passwd", "`..` is not allowed"),
    ("/etc/passwd", "write a path relative to config/"),
    ("timed_posts/../../bot.yaml", "`..` is not allowed"),
])
def test_a_path_leading_out_of_config_is_refused_with_its_line(tmp_path, content, name, reason):
    [problem] = problems(tmp_path, config(text_file=name))
    assert problem.startswith("bot.yaml:")
    assert "groups.g.plugins.timed_posts.posts.0.text_file" in problem and reason in problem


def test_a_symlink_out_of_config_is_refused(tmp_path, content):
    outside = tmp_path / "secret.txt"
    outside.write_text("token=abc", encoding="utf-8")
    os.symlink(outside, content / "evil.txt")
    [problem] = problems(tmp_path, config(text_file="timed_posts/evil.txt"))
    assert "a symlink leads outside config/" in problem


def test_every_plugins_file_settings_are_checked(tmp_path, content):
    data = {"groups": {"g": {"name": "读书会", "plugins": {
        "qa": {"faq_files": ["/etc/hosts"]},
        "quiz": {"banks": ["../quiz"]},
        "moderation": {"word_files": ["../../words.txt"]},
        "briefing": {"files": ["/etc/x.yaml"], "feeds": [{"url": "../feed.xml"}]},
        "timed_posts": {"posts": [POST], "pools": {"p": {"file": "/etc/passwd"}}},
    }}}}
    found = "\n".join(problems(tmp_path, data))
    for key in ("qa.faq_files.0", "quiz.banks.0", "moderation.word_files.0",
                "briefing.files.0", "briefing.feeds.0.url", "timed_posts.pools.p.file"):
        assert f"groups.g.plugins.{key}:" in found, key


def test_a_content_root_named_in_bot_yaml_is_allowed(tmp_path, content):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "evening.txt").write_text("晚安", encoding="utf-8")
    data = config(text_file=str(shared / "evening.txt"))
    data["bot"] = {"content_roots": ["shared"]}
    write_config(tmp_path, data)
    assert load(tmp_path / "bot.yaml").groups["g"]


def test_a_chart_dir_outside_the_bot_folder_is_refused(tmp_path, content):
    data = config()
    data["digest"] = {"chart_dir": "/var/www"}
    [problem] = problems(tmp_path, data)
    assert problem.startswith("bot.yaml:") and "digest.chart_dir" in problem


def test_an_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    [problem] = problems(tmp_path, "\n".join(lines) + "\n")
    assert problem.startswith("bot.yaml: ") and "aliases expand to more than" in problem


def test_too_many_aliases_are_refused(tmp_path):
    text = "a: &a x\nb: [" + ",".join(["*a"] * 500) + "]\n"
    [problem] = problems(tmp_path, text)
    assert "bot.yaml:2:" in problem and "aliases" in problem


def test_deep_nesting_is_refused(tmp_path):
    [problem] = problems(tmp_path, "x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.startswith("bot.yaml:1:") and "nest" in problem


def test_a_30_mb_file_is_refused_before_it_is_read(tmp_path):
    (tmp_path / "bot.yaml").write_bytes(b"# padding\n" * 3_000_000)
    [problem] = problems(tmp_path, (tmp_path / "bot.yaml").read_text())
    assert "file larger than the 1,000,000-byte cap" in problem


def test_a_600k_item_list_in_a_content_file_is_refused(tmp_path):
    (tmp_path / "config" / "faq").mkdir(parents=True)
    (tmp_path / "config" / "faq" / "huge.yaml").write_text(
        "entries: [" + ",".join(["1"] * 600_000) + "]\n", encoding="utf-8")
    data = {"limits": {"max_file_bytes": 5_000_000}, "groups": {"g": {"name": "读书会",
            "plugins": {"qa": {"faq_files": ["faq/huge.yaml"]}}}}}
    [problem] = problems(tmp_path, data)
    assert problem.startswith("faq/huge.yaml:1: ")  # relative to config/, as bot.yaml names it
    assert "more than 100,000 values" in problem


def test_a_content_file_over_the_cap_is_refused(tmp_path, content):
    (content / "morning.txt").write_text("早" * 400_000, encoding="utf-8")  # 1.2 MB
    [problem] = problems(tmp_path, config())
    assert "text_file" in problem and "cap" in problem


def test_config_check_refuses_the_same(tmp_path, content):
    write_config(tmp_path, config(text_file="../../../../etc/passwd"))
    result = CliRunner().invoke(app, ["config", "check", str(tmp_path / "bot.yaml")])
    assert result.exit_code != 0 and "`..` is not allowed" in result.output


# -- the same on /reload, with the bot still answering -----------------------------------

BAD_EDITS = {
    "passwd": lambda d: config(text_file="../../../../etc/passwd"),
    "absolute": lambda d: config(text_file="/etc/passwd"),
    "bomb": lambda d: "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
    "deep": lambda d: "x: " + "[" * 3000 + "]" * 3000 + "\n",
    "huge": lambda d: "# x\n" * 8_000_000,
    "long list": lambda d: "x: [" + ",".join(["1"] * 400_000) + "]\n",
}


async def test_reload_refuses_each_attack_quickly_and_keeps_answering(make_chat, tmp_path,
                                                                      content):
    chat = await make_chat(config())
    for name, edit in BAD_EDITS.items():
        data = edit(tmp_path)
        if isinstance(data, str):
            (tmp_path / "bot.yaml").write_text(data, encoding="utf-8")
        else:
            write_config(tmp_path, data)
        started = time.perf_counter()
        [refused] = await chat.say("olivia", "/reload")
        assert time.perf_counter() - started < 3, name
        assert refused.text.startswith("新配置有错误，已保留原配置继续运行"), name
        assert str(tmp_path) not in refused.text and "Traceback" not in refused.text, name
        [answer] = await chat.say("alice", "/群号")
        assert "本群的 id：g" in answer.text, name
    posts = await chat.advance_to("2026-11-23 08:31")
    assert [p.text for p in posts] == ["早上好"]  # the old config still runs


async def test_a_reload_over_its_time_limit_is_given_up(make_chat, tmp_path, content,
                                                         monkeypatch):
    import asyncio

    from bot.config import loader

    data = config()
    data["limits"] = {"reload_seconds": 0.2}
    chat = await make_chat(data)
    real = loader.load_config

    def slow(*args: object) -> object:
        time.sleep(0.6)  # a file that takes long to read
        return real(*args)

    monkeypatch.setattr(loader, "load_config", slow)
    [refused] = await chat.say("olivia", "/reload")
    assert "reading took over 0.2 s" in refused.text
    assert (await chat.say("alice", "/群号"))[0].text.startswith("本群的 id")
    [busy] = await chat.say("olivia", "/reload")  # the first one still reads
    assert "the previous reload is still running" in busy.text
    monkeypatch.setattr(loader, "load_config", real)
    await asyncio.sleep(0.8)
    assert (await chat.say("olivia", "/reload"))[0].text == "配置已重新加载。"


async def test_an_unexpected_failure_while_reading_is_a_refusal_too(make_chat, tmp_path,
                                                                    content):
    from plugins.timed_posts import plugin

    chat = await make_chat(config())

    def unreadable(settings: object, config_dir: Path) -> list[str]:
        raise PermissionError(f"{config_dir}/config/timed_posts/morning.txt")

    original = plugin.check_content
    object.__setattr__(plugin, "check_content", unreadable)  # the plugin value is frozen
    try:
        [refused] = await chat.say("olivia", "/reload")
    finally:
        object.__setattr__(plugin, "check_content", original)
    assert "could not read the configuration: PermissionError" in refused.text
    assert str(tmp_path) not in refused.text
    assert (await chat.say("alice", "/群号"))[0].text.startswith("本群的 id")


def test_a_large_picture_next_to_a_quiz_bank_is_fine_a_large_bank_is_not(tmp_path):
    shutil.copytree(ROOT / "config" / "quiz", tmp_path / "config" / "quiz")
    (tmp_path / "config" / "quiz" / "photo.png").write_bytes(b"\x89PNG" + b"0" * 2_000_000)
    data = {"groups": {"g": {"name": "读书会", "plugins": {"quiz": {"banks": ["quiz"]}}}}}
    write_config(tmp_path, data)
    assert load(tmp_path / "bot.yaml").groups["g"]
    (tmp_path / "config" / "quiz" / "huge.yaml").write_text("#" * 1_100_000, encoding="utf-8")
    [problem] = problems(tmp_path, data)
    assert "quiz/huge.yaml" in problem and "cap" in problem


async def test_a_symlink_swapped_in_after_loading_is_not_posted(make_chat, tmp_path, content):
    chat = await make_chat(config())
    (tmp_path / "secret.txt").write_text("token=abc", encoding="utf-8")
    (content / "morning.txt").unlink()
    os.symlink(tmp_path / "secret.txt", content / "morning.txt")
    assert await chat.advance_to("2026-11-23 08:31") == []  # skipped (and logged), not posted
