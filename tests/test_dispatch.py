"""Routing, roles, duplicates, isolation and rate limits, end to end through the harness."""

from __future__ import annotations

from typing import Any

from bot.app import PLUGINS as ALL
from bot.context import Context
from bot.plugin import Plugin, Router
from bot.testing import texts

CONFIG = {
    "operators": [{"id": "op", "name": "运营"}],
    "groups": {
        "g1": {"name": "读书会", "owner": "olivia", "admins": ["adam"],
               "plugins": {"timed_posts": {"posts": [{"at": "09:00", "text": "早安"}]}}},
        "g2": {"name": "跑步群"},
    },
}


async def test_help_lists_only_the_plugins_the_group_enabled(make_chat):
    chat = await make_chat(CONFIG)
    [with_posts] = await chat.say("alice", "/help")
    [without] = await chat.say("alice", "帮助", group="跑步群")
    assert "/timed" in with_posts.text and "/help" in with_posts.text
    assert "/timed" not in without.text and "/help" in without.text


async def test_a_member_cannot_reload_but_admins_owner_and_operators_can(make_chat):
    chat = await make_chat(CONFIG)
    [refused] = await chat.say("mallory", "/reload")
    assert "只有 bot.yaml 里登记的管理员" in refused.text and refused.mentions == ("mallory",)
    for who in ("adam", "olivia", "op"):
        [ok] = await chat.say(who, "/reload")
        assert ok.text == "配置已重新加载。", who


async def test_a_duplicate_message_id_is_handled_once(make_chat):
    chat = await make_chat(CONFIG)
    first = await chat.say("alice", "/help", message_id="m-1")
    again = await chat.say("alice", "/help", message_id="m-1")
    assert len(first) == 1 and again == []


async def test_the_bot_ignores_its_own_messages(make_chat):
    chat = await make_chat(CONFIG)
    event = chat.chat.message("g1", "bot", "/help").model_copy(update={"from_self": True})
    await chat.runtime.dispatcher.handle(event)
    await chat.runtime.settle()
    assert chat.sent == []


def _plugins_with_a_crash() -> tuple[Plugin[Any], ...]:
    broken, healthy = Router(), Router()

    @broken.command("boom", "爆炸")
    async def boom(ctx: Context[Any]) -> None:
        raise RuntimeError("bug in a plugin")

    @broken.passive
    async def crash_on_everything(ctx: Context[Any]) -> bool:
        raise RuntimeError("passive bug")

    @healthy.passive
    async def echo(ctx: Context[Any]) -> bool:
        await ctx.reply("收到：" + ctx.message.text)
        return True

    return (*ALL, Plugin(name="broken", title="坏插件", routers=[broken]),
            Plugin(name="healthy", title="好插件", routers=[healthy]))


async def test_a_crashing_plugin_is_apologized_for_and_stops_nothing_else(make_chat, caplog):
    config = {"groups": {"g1": {"name": "读书会", "plugins": {"broken": None, "healthy": None}}}}
    chat = await make_chat(config, plugins=_plugins_with_a_crash())
    [apology] = await chat.say("alice", "/boom")
    assert "坏插件" in apology.text and "出了点问题" in apology.text
    assert "plugin broken failed (group g1, from alice: '/boom')" in caplog.text
    assert "RuntimeError: bug in a plugin" in caplog.text
    replies = await chat.say("alice", "你好")
    assert texts(replies)[-1] == "收到：你好"  # the healthy passive still ran
    [help_reply] = await chat.say("alice", "/help")
    assert "/boom" in help_reply.text


async def test_command_floods_are_slowed_with_one_notice(make_chat):
    chat = await make_chat({**CONFIG, "limits": {"commands_per_minute": 3}})
    for _ in range(3):
        assert len(await chat.say("alice", "/plugins")) == 1
    [notice] = await chat.say("alice", "/plugins")
    assert "太快" in notice.text
    assert await chat.say("alice", "/plugins") == []  # silence after the first notice
    assert len(await chat.say("bob", "/plugins")) == 1  # others are not affected
    await chat.advance("61s")
    assert len(await chat.say("alice", "/plugins")) == 1


async def test_an_unknown_slash_command_suggests_the_closest(make_chat):
    chat = await make_chat(CONFIG)
    [reply] = await chat.say("alice", "/hepl")
    assert "/hepl" in reply.text and "/help" in reply.text
    assert await chat.say("alice", "/") == []  # a lone slash is not a command


async def test_keyword_aliases_work_with_and_without_the_slash(make_chat):
    chat = await make_chat(CONFIG)
    assert "启用的功能" in (await chat.say("alice", "功能"))[0].text
    assert "启用的功能" in (await chat.say("alice", "/功能"))[0].text
    assert await chat.say("alice", "功能很多") == []  # a word inside chatter is not a command


async def test_a_command_word_may_end_with_punctuation_or_emoji(make_chat):
    chat = await make_chat(CONFIG)
    for typed in ("功能！", "功能!", "功能~~", "功能。", "/功能？", "功能👍🏻"):
        [reply] = await chat.say("alice", typed)
        assert "启用的功能" in reply.text, typed
    assert await chat.say("alice", "功能性") == []  # other characters still make another word


async def test_configured_aliases_add_command_words(make_chat):
    config = {"groups": {"g1": {"name": "读书会", "aliases": {"/help": ["说明书"]}}}}
    chat = await make_chat(config)
    [reply] = await chat.say("alice", "说明书")
    assert "可用的命令" in reply.text


async def test_a_group_in_english_gets_english_texts(make_chat):
    config = {"groups": {"g1": {"name": "Corner", "language": "en"}}}
    chat = await make_chat(config)
    [reply] = await chat.say("mallory", "/reload")
    assert reply.text == ("Only admins listed in bot.yaml can use “/reload” (the room's own "
                          "owner and admins don't count).")


async def test_a_group_missing_from_the_config_gets_built_ins_only(make_chat):
    chat = await make_chat(CONFIG)
    chat.chat.add_group("stranger", "陌生群", chat.chat.timezone)
    [reply] = await chat.say("alice", "/群号", group="stranger")
    assert "stranger" in reply.text
    assert await chat.say("alice", "/timed", group="stranger") == []  # not even "unknown"
    posts = await chat.advance("1d")
    assert {d.group_id for d in posts if d.kind == "post"} == {"g1"}  # none reach it


async def test_a_command_of_a_plugin_not_enabled_here_says_who_can_enable_it(make_chat):
    config = {"groups": {"g1": {"name": "读书会", "owner": "alice"},
                         "g2": {"name": "Corner", "language": "en"}}}
    chat = await make_chat(config)
    for typed in ("/打卡", "/checkin", "/打卡！"):
        [reply] = await chat.say("bob", typed)
        assert "这个命令" not in reply.text, reply.text  # not "no such command"
        assert "「每日打卡」" in reply.text and "没有开启" in reply.text
        assert "群主或运营" in reply.text and "bot.yaml" in reply.text and "checkin" in reply.text
    [english] = await chat.say("bob", "/checkin", group="Corner")
    assert english.text.startswith("“/checkin” belongs to “Daily check-in”, which is not enabled")
    assert "owner or an operator" in english.text and "bot.yaml" in english.text
    [typo] = await chat.say("bob", "/hepl")  # an unknown word is still unknown
    assert "没有「/hepl」这个命令" in typo.text
    assert await chat.say("bob", "打卡") == []  # the bare keyword is chatter where it is off
