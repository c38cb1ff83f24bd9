"""Everything an English group sees is English (issue 13): every text key rendered in
English with sample values, command words, titles, help, lists and plurals."""

from __future__ import annotations

import re

import pytest

from bot.app import BUILTINS
from bot.app import PLUGINS as ALL
from bot.builtin import TEXTS as BUILTIN_TEXTS
from bot.digest.texts import TEXTS as DIGEST_TEXTS
from bot.dispatch import CORE_TEXTS
from bot.i18n import Texts, has_cjk, join_list
from bot.missed import TEXTS as MISSED_TEXTS
from bot.platform_state import TEXTS as PLATFORM_TEXTS

CATALOGS: dict[str, Texts] = {
    "core": CORE_TEXTS, "builtin": BUILTIN_TEXTS, "digest": DIGEST_TEXTS,
    "missed": MISSED_TEXTS, "platform": PLATFORM_TEXTS,
    **{p.name: p.texts for p in ALL if p.texts is not None},
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
# "1 days", "1 more points", "1 bonus points": a number of one before a plural noun; any
# word ending in s, so a noun `agree` does not know yet is found too ("1 groups").
_ONE_PLURAL = re.compile(r"(?<![-\w])1 (?:more |bonus )?(?!(?:has|was|is|wins|bonus)\b)([a-z]+s)\b")


def _rendered(texts: Texts, key: str, sample: str) -> str:
    template = texts.zh[key] if key in texts.zh else texts.en[key]
    values = {name: sample for name in _PLACEHOLDER.findall(texts.en.get(key, template))}
    return texts.get("en", key, **values)


def _keys(texts: Texts) -> list[str]:
    return sorted(set(texts.zh) | set(texts.en))


def test_the_scan_finds_what_it_looks_for():
    bad = Texts(zh={"a": "发「抢」", "b": "{n} 天", "c": "x"},
                en={"a": "Send 抢", "b": "{n} days", "c": "（x）"})
    assert [has_cjk(_rendered(bad, k, "1")) for k in "abc"] == [True, False, True]
    assert _ONE_PLURAL.search(_rendered(Texts(zh={"b": "{n} 天"}, en={"b": "{n} more points"}),
                                        "b", "2")) is None
    assert _rendered(Texts(zh={"b": "{n} 天"}, en={"b": "{n} more points"}), "b", "1") \
        == "1 more point"


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_every_english_text_is_english_with_sample_values(name: str) -> None:
    texts = CATALOGS[name]
    chinese = {key: text for key in _keys(texts)
               if has_cjk(text := _rendered(texts, key, "x"))}
    assert chinese == {}, f"{name}: English texts with Chinese in them"
    one = {key: text for key in _keys(texts)
           if _ONE_PLURAL.search(text := _rendered(texts, key, "1"))}
    assert one == {}, f"{name}: a plural noun after 1"


def test_every_command_has_an_english_word_title_and_help() -> None:
    for plugin in [*BUILTINS, *ALL]:
        assert plugin.title_en and not has_cjk(plugin.title_en), plugin.name
        for command in plugin.commands:
            words = [command.name, *command.aliases]
            assert any(not has_cjk(w) for w in words), f"{plugin.name}: {words} has no English"
            assert command.help_en and not has_cjk(command.help_en), (plugin.name, command.name)


def test_lists_are_joined_as_each_language_writes_them() -> None:
    assert join_list("en", ["a", "b"]) == "a, b"
    assert join_list("zh", ["甲", "乙"]) == "甲、乙"


ENGLISH_PLUGINS = {"activity": {}, "checkin": {"reminder_at": None}, "points": {},
                   "redpacket": {}, "lottery": {}, "minigames": {}, "moderation": {}}


async def test_help_in_an_english_group_shows_english_words_only(make_chat) -> None:
    chat = await make_chat({"groups": {
        "e": {"name": "Corner", "language": "en", "owner": "olga", "plugins": ENGLISH_PLUGINS},
        "z": {"name": "读书会", "owner": "olga", "plugins": {"points": {}}}}})
    [english] = await chat.say("olga", "/help", group="Corner")
    assert not has_cjk(english.text), english.text
    lines = english.text.splitlines()
    assert "/groupid — this group's id (for the config)" in lines
    assert "/addpoints — grant points: /addpoints @x 10 reason (admins)" in lines
    assert "[Points]" in lines and "/roll (🎲) — roll the dice" in lines
    [plugins] = await chat.say("olga", "/plugins", group="Corner")
    assert not has_cjk(plugins.text) and "· Points (points)" in plugins.text.splitlines()
    [chinese] = await chat.say("olga", "/help", group="读书会")  # Chinese groups: as before
    grant = "/加分（addpoints） — 给成员加积分：/加分 @x 10 理由（管理员）"
    assert grant in chinese.text.splitlines()
    [gid] = await chat.say("olga", "/groupid", group="Corner")
    assert gid.text.startswith("This group's id: e")


async def test_an_english_group_is_pointed_to_english_command_words(make_chat) -> None:
    chat = await make_chat({"groups": {"e": {"name": "Corner", "language": "en", "owner": "olga",
                                             "plugins": {"points": {}}}}})
    [typo] = await chat.say("olga", "/addpoint")
    assert "Did you mean /addpoints?" in typo.text and not has_cjk(typo.text)
    [off] = await chat.say("olga", "/grab")  # red packets are not enabled here
    assert off.text.startswith("“/grab” belongs to “Red packets”, which is not enabled")
    assert not has_cjk(off.text)
