"""Nothing private leaves the server (issue 12 point 2): every refusal and error a group
can provoke goes through one checker — no server paths, no other group's id, name or
files, no token, no stack trace."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import BUILTINS
from bot.app import PLUGINS as ALL
from bot.plugin import Plugin, Router
from bot.testing import write_config
from tests.shipped import copy_content, leaks, shipped_plugins

TOKEN = "puppet_service_token_7f3a9c"


def config(secret_faq: str = "faq/secret-plans.yaml") -> dict[str, Any]:
    plugins = shipped_plugins()
    plugins["moderation"].update(flood=None, repeat=None)
    return {
        "wechaty": {"token": TOKEN},
        "operators": [{"id": "op"}],
        "limits": {"commands_per_minute": 100_000},
        "groups": {
            "g-open": {"name": "读书会", "owner": "olivia", "admins": ["adam"],
                       "plugins": plugins},
            "g-hidden-4711": {"name": "机密项目群", "owner": "hugo",
                              "plugins": {"qa": {"faq_files": [secret_faq]}}},
        },
    }


@pytest.fixture
async def chat(make_chat, tmp_path):
    copy_content(tmp_path)
    (tmp_path / "config" / "faq" / "secret-plans.yaml").write_text(
        "entries:\n  - questions: [计划]\n    answer: 保密\n", encoding="utf-8")
    return await make_chat(config())


def secrets(chat: Any) -> list[str]:
    base = chat.directory
    return [TOKEN, "g-hidden-4711", "机密项目群", "secret-plans", str(base), str(base.resolve()),
            "hugo"]


def check(chat: Any, since: int) -> list[str]:
    problems = []
    for delivery in chat.sent[since:]:
        if delivery.group_id is None:
            continue  # a direct message to an operator may say more
        for leak in leaks(delivery.text, secrets(chat)):
            problems.append(f"{leak} in: {delivery.text[:200]!r}")
    return problems


ARGUMENTS = ["", "x", "-1", "0", "9" * 60, "@nobody 10 理由", "abc def ghi", "{0} {name.__class__}",
             "'; DROP TABLE points; --", "../../etc/passwd"]  # (a path a member types is theirs)


async def test_every_command_refusal_and_usage_error_is_clean(chat):
    start = len(chat.sent)
    prefix = chat.runtime.config.prefixes[0]
    for plugin in (*BUILTINS, *ALL):
        for command in plugin.commands:
            if command.name == "reload":
                continue  # below, with broken files
            for args in ARGUMENTS:
                for who in ("alice", "adam"):
                    await chat.say(who, f"{prefix}{command.name} {args}".strip())
    for text in ["/nosuchcommand", "/" + "x" * 500, "／helpp", "@小助手 计划", "@小助手 密码"]:
        await chat.say("alice", text)
    assert len(chat.sent) > start + 100
    found = check(chat, start)
    assert found == [], "\n".join(found)


def broken_edits(tmp_path: Any) -> dict[str, Any]:
    faq = tmp_path / "config" / "faq"
    return {
        "broken YAML": lambda: (tmp_path / "bot.yaml").write_text(
            "groups:\n  g-open:\n    name: [unclosed\n", encoding="utf-8"),
        "another group's broken FAQ": lambda: (
            write_config(tmp_path, config()),
            (faq / "secret-plans.yaml").write_text("entries:\n  - questions: []\n",
                                                   encoding="utf-8")),
        "another group's missing FAQ": lambda: write_config(
            tmp_path, config(secret_faq="faq/secret-gone.yaml")),
        "another group's path out": lambda: write_config(
            tmp_path, config(secret_faq="../../secret-plans.yaml")),
        "this group's broken FAQ": lambda: (
            (faq / "secret-plans.yaml").write_text("entries: []\n", encoding="utf-8"),
            (faq / "reading-club.yaml").write_text("entries:\n  - questions: [x]\n",
                                                   encoding="utf-8")),
        "an unknown key in another group": lambda: write_config(tmp_path, {
            **config(), "groups": {**config()["groups"], "g-hidden-4711": {
                "name": "机密项目群", "ownr": "hugo"}}}),
        "a wrong token type": lambda: write_config(tmp_path, {**config(), "wechaty": {
            "token": [TOKEN]}}),
    }


async def test_reload_refusals_name_files_relative_and_keep_other_groups_private(
        chat, tmp_path):
    original = {p: p.read_bytes() for p in (tmp_path / "config" / "faq").iterdir()}
    for name, edit in broken_edits(tmp_path).items():
        for path, data in original.items():
            path.write_bytes(data)
        edit()
        start = len(chat.sent)
        [refused] = [d for d in await chat.say("adam", "/reload") if d.group_id]
        assert refused.text.startswith("新配置有错误"), name
        assert check(chat, start) == [], name
    # This group's own content problem is named relative to config/, with its line.
    assert any(d.text.splitlines()[1:2] == [
        "faq/reading-club.yaml:2: entries.0.answer: 缺少必填项 (required key is missing)"]
        for d in chat.sent if d.group_id)


async def test_an_operator_gets_the_whole_list_privately(chat, tmp_path):
    write_config(tmp_path, config(secret_faq="faq/secret-gone.yaml"))
    replies = await chat.say("op", "/reload")
    [public] = [d for d in replies if d.group_id]
    [private] = [d for d in replies if d.to == "op"]
    assert "另有 1 处问题" in public.text and "secret-gone" not in public.text
    assert private.text.startswith("faq/secret-gone.yaml: 找不到文件")  # relative to config/
    assert str(tmp_path) not in private.text


async def test_a_failing_plugin_apologizes_without_details(make_chat, tmp_path):
    router = Router()

    @router.command("boom", "爆炸")
    async def boom(ctx: Any) -> None:
        raise RuntimeError(f"{tmp_path}/data/qunbot.db is locked; token={TOKEN}; g-hidden-4711")

    failing = Plugin(name="failing", title="会失败的", routers=[router])
    chat = await make_chat({"wechaty": {"token": TOKEN}, "groups": {
        "g-open": {"name": "读书会", "plugins": {"failing": {}}}}}, plugins=[*ALL, failing])
    [apology] = await chat.say("alice", "爆炸")
    assert "出了点问题" in apology.text
    assert check(chat, 0) == []
