"""The payload parser on its own: every fixture a live gateway sends, and hostile input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.wechaty import payloads
from bot.adapters.wechaty.payloads import RawMessage
from bot.events import Link, Location, MessageKind, MiniProgram, Notice, Quote, SharedFile
from tests.wechaty import fixtures as fx


def parse(fixture: fx.MessageFixture) -> payloads.Parsed:
    return payloads.parse(RawMessage(type=fixture.type, text=fixture.text,
                                     filename=fixture.filename))


def test_every_fixture_names_the_puppet_source_of_its_shape():
    for name, fixture in fx.MESSAGE_FIXTURES.items():
        assert fixture.source.strip(), name


@pytest.mark.parametrize(("fixture", "kind", "content"), [
    (fx.STICKER, MessageKind.STICKER, None),
    (fx.ARTICLE, MessageKind.LINK, Link(title="读书会第十期：如何读一本书",
                                        description="一起读《如何阅读一本书》，资料见文末",
                                        url="https://mp.weixin.qq.com/s/AbCdEf123")),
    (fx.FILE, MessageKind.FILE, SharedFile(name="读书笔记.pdf", size=245760)),
    (fx.MINI_PROGRAM, MessageKind.MINI_PROGRAM, MiniProgram(title="拼团买书，低至五折",
                                                            app="当当购物")),
    (fx.PAT, MessageKind.PAT, Notice(text='"${wxid_alice}" 拍了拍我', actor_id="wxid_alice",
                                     target_id="wxid_bot")),
    (fx.RECALL, MessageKind.RECALL, Notice(text='"Alice" 撤回了一条消息',
                                           target_id="7425093021934")),
    (fx.SYSTEM_NOTICE, MessageKind.SYSTEM, Notice(text='"Alice"邀请"Carol"加入了群聊')),
    (fx.SYSTEM_TEMPLATE, MessageKind.SYSTEM, Notice(text='"Alice"邀请"Carol"加入了群聊')),
    (fx.LOCATION, MessageKind.LOCATION, Location(name="人民广场", address="上海市黄浦区人民大道")),
    (fx.IMAGE, MessageKind.IMAGE, None),
    (fx.VOICE, MessageKind.VOICE, None),
    (fx.VIDEO, MessageKind.VIDEO, None),
    (fx.CARD, MessageKind.CARD, None),
    (fx.POST, MessageKind.UNKNOWN, None),
    (fx.SYSTEM, MessageKind.SYSTEM, Notice(text="你已成为新群主")),
    (fx.RED_ENVELOPE, MessageKind.UNKNOWN, None),
    (fx.BROKEN_XML, MessageKind.UNKNOWN, None),
    (fx.ENTITY_BOMB, MessageKind.UNKNOWN, None),
])
def test_non_text_kinds_carry_structure_and_no_text(fixture, kind, content):
    parsed = parse(fixture)
    assert (parsed.kind, parsed.content, parsed.text) == (kind, content, "")


def test_a_quoted_reply_keeps_the_quote_apart_from_the_reply():
    parsed = parse(fx.QUOTE)
    assert parsed.kind is MessageKind.QUOTE and parsed.text == "/help"
    assert parsed.content == Quote(author="Bob", quoted="打卡 读完第一章 加我微信 wxid_spam")


def test_a_quote_of_a_quote_splits_at_the_last_separator():
    sep = "\n- - - - - - - - - - - - - - -\n"
    text = f"「Alice：「Bob：原话」{sep}第一层回复」{sep}打卡"
    parsed = payloads.parse(RawMessage(type=7, text=text))
    assert parsed.text == "打卡"
    assert parsed.content == Quote(author="Alice", quoted=f"「Bob：原话」{sep}第一层回复")


def test_a_quote_left_as_xml_by_other_puppets_is_a_quote_too():
    text = ('<msg><appmsg><title>同意</title><type>57</type><refermsg><type>1</type>'
            '<svrid>1</svrid><fromusr>room1@chatroom</fromusr><chatusr>wxid_bob</chatusr>'
            '<displayname>Bob</displayname><content>明天见</content></refermsg></appmsg></msg>')
    parsed = payloads.parse(RawMessage(type=0, text=text))
    assert (parsed.kind, parsed.text) == (MessageKind.QUOTE, "同意")
    assert parsed.content == Quote(author="Bob", quoted="明天见", author_id="wxid_bob")


def test_text_that_only_looks_like_a_quote_stays_text():
    for text in ("「书名」很好看", "「A：B」没有分隔线", "- - - - -\n只有线"):
        assert payloads.parse(RawMessage(type=7, text=text)) == payloads.Parsed(
            MessageKind.TEXT, text)


def test_a_type_number_never_seen_is_unknown_and_marked():
    parsed = parse(fx.NEVER_SEEN_TYPE)
    assert parsed.kind is MessageKind.UNKNOWN and not parsed.known_type


def test_a_recall_from_other_puppets_names_the_message_id():
    parsed = payloads.parse(RawMessage(type=13, text="7425093021934"))
    assert parsed.kind is MessageKind.RECALL and parsed.content == Notice(
        target_id="7425093021934")


def test_a_plain_text_pat_notice_is_a_pat():
    parsed = payloads.parse(RawMessage(type=0, text='"Alice" 拍了拍 "小助手"'))
    assert parsed.kind is MessageKind.PAT


def test_a_room_prefix_before_the_xml_is_tolerated():
    parsed = payloads.parse(RawMessage(type=14, text="wxid_alice:\n" + fx.ARTICLE.text))
    assert parsed.kind is MessageKind.LINK and parsed.content.url.startswith("https://mp.")


@given(st.integers(min_value=-5, max_value=40), st.text(max_size=300))
def test_any_payload_parses_without_raising(type_number, text):
    parsed = payloads.parse(RawMessage(type=type_number, text=text))
    if parsed.kind not in (MessageKind.TEXT, MessageKind.QUOTE):
        assert parsed.text == ""


@given(st.text(alphabet="<>/=\"'&;!?[]abc 消息", max_size=200))
def test_xml_like_garbage_never_raises(text):
    payloads.parse(RawMessage(type=14, text="<msg>" + text))


# -- mentions and time ---------------------------------------------------------------------

MEMBERS = ("wxid_bot", "wxid_alice", "wxid_bob")


def test_the_announcement_expansion_is_at_all_and_an_announcement():
    found = payloads.mentions(MEMBERS, "本周六改到线上", MEMBERS)
    assert found == payloads.Mentions((), mentions_all=True, announcement=True)


def test_notify_all_and_typed_at_all_are_at_all_but_no_announcement():
    assert payloads.mentions(("notify@all",), "开会", MEMBERS).mentions_all
    typed = payloads.mentions((), "@所有人 开会", MEMBERS)
    assert typed.mentions_all and not typed.announcement


def test_a_name_that_starts_like_all_is_not_at_all():
    assert not payloads.mentions(("wxid_allen",), "@Allen\u2005你好", MEMBERS).mentions_all
    assert not payloads.mentions((), "@所有人们好像都不在", MEMBERS).mentions_all


def test_a_mention_of_some_members_is_not_at_all():
    found = payloads.mentions(("wxid_bot", "wxid_bob"), "@小助手 你好", MEMBERS)
    assert found == payloads.Mentions(("wxid_bot", "wxid_bob"))


def test_the_bots_mention_is_stripped_wherever_it_is():
    assert payloads.strip_mentions("@小助手\u2005/help", ["小助手"]) == "/help"
    assert payloads.strip_mentions("打卡 @群助理\u2005", ["小助手", "群助理"]) == "打卡"
    assert payloads.strip_mentions("@Alice\u2005你好", ["小助手"]) == "@Alice\u2005你好"
    assert payloads.strip_mentions("@所有人\u2005开会", [], at_all=True) == "开会"


@pytest.mark.parametrize("stamp", [1764633600, 1764633600000])
def test_timestamps_in_seconds_or_milliseconds(stamp):
    assert payloads.sent_at(stamp) == datetime(2025, 12, 2, tzinfo=UTC)


def test_no_timestamp_or_a_garbled_one_is_no_time():
    for stamp in (0, None, -5, "", "soon", float("nan"), 10**30):
        assert payloads.sent_at(stamp) is None, stamp
    assert payloads.sent_at("1764633600") == datetime(2025, 12, 2, tzinfo=UTC)
