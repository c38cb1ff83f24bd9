"""What a live gateway sends, end to end: python-wechaty's puppet-service client against the
fake gateway, and what arrives at the adapter's sink (issue 11)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.base import SendError
from bot.adapters.wechaty import WechatyAdapter
from bot.adapters.wechaty.adapter import terminal_qr
from bot.events import (
    BotRemoved,
    GroupRenamed,
    IncomingMessage,
    Link,
    LoginChanged,
    MemberLeft,
    MessageKind,
    MiniProgram,
    Notice,
    Outgoing,
    Quote,
    SharedFile,
)
from tests.wechaty import fixtures as fx
from tests.wechaty.fake_puppet import FakePuppet
from tests.wechaty.live import wait_until

ROOM = "room1@chatroom"


@pytest.fixture
async def gateway() -> AsyncIterator[FakePuppet]:
    fake = FakePuppet()
    for contact, name in [("wxid_alice", "Alice"), ("wxid_bob", "Bob"), ("wxid_carol", "Carol")]:
        fake.add_contact(contact, name)
    fake.add_room(ROOM, "读书会", owner="wxid_alice", members=["wxid_alice", "wxid_bob"])
    await fake.start()
    yield fake
    await fake.stop()


class Connected:
    def __init__(self, adapter: WechatyAdapter, events: list[Any]) -> None:
        self.adapter, self.events = adapter, events

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def messages(self) -> list[IncomingMessage]:
        return self.of(IncomingMessage)


@pytest.fixture
async def connect(tmp_path, gateway) -> AsyncIterator[Callable[..., Any]]:
    """connect(**timeouts) → a running adapter and the events its sink received."""
    running: list[tuple[WechatyAdapter, asyncio.Task[None]]] = []

    async def start(*, wait_login: bool = True, **options: Any) -> Connected:
        settings = {"call_timeout": 2.0, "probe_every": 30.0, "stall_after": 60.0, **options}
        adapter = WechatyAdapter(endpoint=gateway.endpoint, token="secret",
                                 data_dir=tmp_path / "data",
                                 reconnect_delays=(0.05,), **settings)
        events: list[Any] = []

        async def sink(event: Any) -> None:
            events.append(event)

        running.append((adapter, asyncio.create_task(adapter.run(sink))))
        if wait_login:
            await adapter.ready(10)
        return Connected(adapter, events)

    yield start
    for adapter, task in running:
        await adapter.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- point 1: typed kinds ------------------------------------------------------------------

EXPECTED = [
    (fx.STICKER, MessageKind.STICKER, None, ""),
    (fx.ARTICLE, MessageKind.LINK, Link(title="读书会第十期：如何读一本书",
                                        description="一起读《如何阅读一本书》，资料见文末",
                                        url="https://mp.weixin.qq.com/s/AbCdEf123"), ""),
    (fx.FILE, MessageKind.FILE, SharedFile(name="读书笔记.pdf", size=245760), ""),
    (fx.MINI_PROGRAM, MessageKind.MINI_PROGRAM, MiniProgram(title="拼团买书，低至五折",
                                                            app="当当购物"), ""),
    (fx.QUOTE, MessageKind.QUOTE, Quote(author="Bob", quoted="打卡 读完第一章 加我微信 wxid_spam"),
     "/help"),
    (fx.PAT, MessageKind.PAT, Notice(text='"${wxid_alice}" 拍了拍我', actor_id="wxid_alice",
                                     target_id="wxid_bot"), ""),
    (fx.RECALL, MessageKind.RECALL, Notice(text='"Alice" 撤回了一条消息',
                                           target_id="7425093021934"), ""),
    (fx.SYSTEM_NOTICE, MessageKind.SYSTEM, Notice(text='"Alice"邀请"Carol"加入了群聊'), ""),
    (fx.LOCATION, MessageKind.LOCATION, None, ""),
    (fx.IMAGE, MessageKind.IMAGE, None, ""),
    (fx.VOICE, MessageKind.VOICE, None, ""),
    (fx.VIDEO, MessageKind.VIDEO, None, ""),
    (fx.CARD, MessageKind.CARD, None, ""),
    (fx.POST, MessageKind.UNKNOWN, None, ""),
    (fx.SYSTEM, MessageKind.SYSTEM, Notice(text="你已成为新群主"), ""),
    (fx.BROKEN_XML, MessageKind.UNKNOWN, None, ""),
    (fx.NEVER_SEEN_TYPE, MessageKind.UNKNOWN, None, ""),
]


async def test_every_kind_arrives_typed_with_only_typed_words_as_text(gateway, connect, caplog):
    bot = await connect()
    for fixture, *_ in EXPECTED:
        gateway.post_fixture(ROOM, fixture)
    await wait_until(lambda: len(bot.messages()) == len(EXPECTED))
    for message, (fixture, kind, content, text) in zip(bot.messages(), EXPECTED, strict=True):
        assert (message.kind, message.text) == (kind, text), fixture.source
        if content is not None:
            assert message.content == content, fixture.source
        assert "<" not in message.text and "wxid_" not in message.sender_name
    system = next(m for m in bot.messages() if m.kind is MessageKind.SYSTEM)
    assert not system.from_self  # WeChat's notice, "sent" by the bot's own account
    assert bot.messages()[0].sender_name == "Alice"
    unknown_type_lines = [r for r in caplog.records if "unknown message type 17" in r.message]
    assert len(unknown_type_lines) == 1  # Post (16) and System (18) are known: no error
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_type_never_seen_is_logged_once_however_often_it_comes(gateway, connect, caplog):
    bot = await connect()
    for _ in range(3):
        gateway.post_fixture(ROOM, fx.NEVER_SEEN_TYPE)
    await wait_until(lambda: len(bot.messages()) == 3)
    assert len([r for r in caplog.records if "unknown message type 17" in r.message]) == 1


@pytest.mark.parametrize("stamp", [1764633600, 1764633600000])
async def test_the_message_time_is_the_platforms_in_seconds_or_milliseconds(
        gateway, connect, stamp):
    bot = await connect()
    gateway.say_in_room(ROOM, "wxid_alice", "打卡", timestamp=stamp)
    await wait_until(lambda: bot.messages())
    [message] = bot.messages()
    assert message.sent_at == datetime(2025, 12, 2, tzinfo=UTC) == message.time
    assert message.at > message.sent_at  # arrival is kept apart


# -- point 2: @所有人 ------------------------------------------------------------------------

async def test_an_announcement_to_all_is_not_a_mention_of_the_bot(gateway, connect):
    for member in ("wxid_carol", "wxid_dave", "wxid_erin"):  # a bigger room
        gateway.rooms[ROOM].members.append(member)
    bot = await connect()
    gateway.post_fixture(ROOM, fx.AT_ALL_ANNOUNCEMENT)
    gateway.post_fixture(ROOM, fx.AT_ALL_NOTIFY)
    await wait_until(lambda: len(bot.messages()) == 2)
    announcement, notify = bot.messages()
    assert announcement.mentions_all and announcement.announcement
    assert not announcement.mentions_bot and announcement.mention_ids == ()
    assert notify.mentions_all and not notify.announcement and not notify.mentions_bot
    assert notify.text == "今晚八点开会"
    assert announcement.text == "本周六的读书会改到线上，链接稍后发"
    # no lookup per mentioned member: one room payload, the sender's member payload
    assert gateway.calls.count("RoomMemberPayload") <= 2
    assert gateway.calls.count("ContactPayload") <= 1  # the bot's own name at login


async def test_the_bots_mention_is_stripped_by_its_group_nickname(gateway, connect):
    gateway.set_alias(ROOM, "wxid_bot", "读书会助手")
    bot = await connect()
    gateway.say_in_room(ROOM, "wxid_bob", "/help", mentions=("wxid_bot",))
    gateway.say_in_room(ROOM, "wxid_bob", "你好", mentions=("wxid_alice",))
    await wait_until(lambda: len(bot.messages()) == 2)
    to_bot, to_alice = bot.messages()
    assert to_bot.mentions_bot and to_bot.text == "/help"
    assert not to_alice.mentions_bot and to_alice.text == "@Alice\u2005你好"


# -- point 3: one WeChat session --------------------------------------------------------------

async def test_connect_reconnect_and_close_never_stop_the_session(gateway, connect):
    bot = await connect()
    gateway.drop_connections()  # the network breaks; the gateway keeps running
    await wait_until(lambda: gateway.streams == 2 and bot.adapter.logged_in.is_set())
    gateway.say_in_room(ROOM, "wxid_alice", "还在吗")
    await wait_until(lambda: bot.messages())
    await bot.adapter.close()
    await asyncio.sleep(0.1)
    assert "Stop" not in gateway.calls and "Logout" not in gateway.calls
    assert gateway.logins == 1 and gateway.logged_in  # still the same WeChat session
    assert [e.logged_in for e in bot.of(LoginChanged)] == [True]


async def test_a_second_event_stream_is_refused_by_the_gateway_like_the_real_one(gateway,
                                                                                 connect):
    await connect()
    from bot.adapters.wechaty.session import Session

    other = Session(gateway.endpoint, "secret", 2.0)
    with pytest.raises(Exception, match="can not call twice"):
        async for _ in other.events():
            pass
    await other.close()
    assert gateway.streams == 1


async def test_the_sdk_start_would_have_logged_the_account_out(gateway, connect):
    """Why session.py exists: the shipped client sends Stop, and Stop ends the session."""
    from wechaty_puppet_service import PuppetService

    bot = await connect()
    stock = PuppetService.start  # Stop, then Start, then listen
    from bot.adapters.wechaty.session import SessionPuppet

    puppet = SessionPuppet(gateway.endpoint, "secret")
    puppet._init_puppet()
    listening = asyncio.create_task(stock(puppet))
    await wait_until(lambda: gateway.logins == 2)  # relogged in: what the fake catches
    listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)
    await puppet.stop()
    assert "Stop" in gateway.calls
    await wait_until(lambda: not bot.adapter.logged_in.is_set() or gateway.streams >= 2)


# -- point 4: login state ----------------------------------------------------------------------

async def test_a_qr_scan_is_shown_and_login_state_reaches_the_sink(gateway, connect, caplog):
    gateway.needs_scan = True
    bot = await connect(wait_login=False)
    await wait_until(lambda: bot.of(LoginChanged))
    qr_lines = [r for r in caplog.records if fx.SCAN_WAITING["qrcode"] in r.getMessage()]
    assert qr_lines and qr_lines[0].levelno == logging.WARNING
    assert "Scan this QR code" in qr_lines[0].getMessage() and "█" in qr_lines[0].getMessage()
    with pytest.raises(SendError) as refused:
        await bot.adapter.send(Outgoing(text="hi", group_id=ROOM))
    assert not refused.value.permanent
    gateway.confirm_scan()
    await bot.adapter.ready(5)
    assert [(e.logged_in, e.reason) for e in bot.of(LoginChanged)] == [
        (False, "waiting for a QR scan"), (True, "")]
    await bot.adapter.send(Outgoing(text="hi", group_id=ROOM))
    assert gateway.sent[-1].text == "hi"


async def test_a_logout_pauses_sends_until_the_account_is_back(gateway, connect, caplog):
    bot = await connect()
    gateway.log_out()
    await wait_until(lambda: len(bot.of(LoginChanged)) == 2)
    assert bot.of(LoginChanged)[1].reason == fx.LOGOUT_KICKOUT["data"]
    assert any("LOGGED OUT" in r.message for r in caplog.records)
    with pytest.raises(SendError) as refused:
        await bot.adapter.send(Outgoing(text="hi", to="wxid_alice"))
    assert not refused.value.permanent and not gateway.sent
    gateway.ask_for_scan()
    gateway.confirm_scan()
    await wait_until(lambda: len(bot.of(LoginChanged)) == 3)
    assert [e.logged_in for e in bot.of(LoginChanged)] == [True, False, True]


def test_the_terminal_qr_is_drawn_with_blocks():
    art = terminal_qr("https://login.weixin.qq.com/l/abc")
    assert len(art.splitlines()) > 10 and set(art) <= set("█▀▄ \n")


# -- point 5: errors keep the connection -----------------------------------------------------

async def test_error_events_of_both_shapes_and_unknown_events_keep_the_connection(
        gateway, connect, caplog):
    bot = await connect()
    gateway.emit(16, fx.ERROR_DATA)
    gateway.emit(16, fx.ERROR_GERROR)
    gateway.emit(99, {"what": "a future event"})
    gateway.emit(99, {"what": "again"})
    gateway.emit(2, "not json")
    gateway.emit(1, fx.HEARTBEAT)
    gateway.say_in_room(ROOM, "wxid_alice", "还在")
    await wait_until(lambda: bot.messages())
    assert gateway.streams == 1 and gateway.logins == 1
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "padlocal request timeout" in text and "getContact timeout" in text
    assert text.count("unknown event type 99") == 1


# -- point 6: liveness -----------------------------------------------------------------------

async def test_a_stalled_stream_is_reopened_without_a_relogin(gateway, connect, caplog):
    bot = await connect(probe_every=0.1, stall_after=0.5)
    gateway.stall()
    await wait_until(lambda: gateway.streams >= 2)
    gateway.resume()
    gateway.say_in_room(ROOM, "wxid_alice", "回来了")
    await wait_until(lambda: bot.messages())
    assert "Ding" in gateway.calls  # probed before giving up
    assert gateway.logins == 1 and "Stop" not in gateway.calls
    assert any("reconnecting without a relogin" in r.getMessage() for r in caplog.records)
    assert [e.logged_in for e in bot.of(LoginChanged)] == [True]


async def test_a_quiet_but_healthy_gateway_is_not_reconnected(gateway, connect):
    await connect(probe_every=0.1, stall_after=0.5)
    await asyncio.sleep(1.2)  # real time: nothing but answers to our own Ding
    assert gateway.streams == 1 and gateway.calls.count("Ding") >= 2


async def test_a_send_that_gets_no_answer_fails_in_time_and_can_be_retried(gateway, connect):
    bot = await connect(call_timeout=0.3)
    gateway.unanswered.add("MessageSendText")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SendError, match=r"within 0\.3 s") as failed:
        await bot.adapter.send(Outgoing(text="hi", group_id=ROOM))
    assert loop.time() - started < 2 and not failed.value.permanent
    gateway.unanswered.clear()
    await bot.adapter.send(Outgoing(text="hi", group_id=ROOM))
    assert gateway.sent[-1].text == "hi"


async def test_a_payload_lookup_that_hangs_costs_one_message_not_the_stream(gateway, connect):
    bot = await connect(call_timeout=0.3)
    gateway.unanswered.add("MessagePayload")
    gateway.say_in_room(ROOM, "wxid_alice", "丢了")
    await wait_until(lambda: gateway.calls.count("MessagePayload") == 1)
    await asyncio.sleep(0.4)
    gateway.unanswered.clear()
    gateway.say_in_room(ROOM, "wxid_bob", "到了")
    await wait_until(lambda: bot.messages())
    assert [m.text for m in bot.messages()] == ["到了"] and gateway.streams == 1
    gateway.unanswered.add("RoomList")
    with pytest.raises(Exception, match=r"within 0\.3 s"):
        await bot.adapter.list_groups()


# -- point 7: room lifecycle -----------------------------------------------------------------

async def test_the_bot_removed_from_a_room_is_told_and_stops_posting_there(gateway, connect):
    bot = await connect()
    gateway.leave_room(ROOM, ["wxid_bot"], remover="wxid_alice")
    await wait_until(lambda: bot.of(BotRemoved))
    [removed] = bot.of(BotRemoved)
    assert (removed.group_id, removed.remover_id) == (ROOM, "wxid_alice")
    assert not bot.of(MemberLeft)
    with pytest.raises(SendError) as refused:
        await bot.adapter.send(Outgoing(text="定时推送", group_id=ROOM))
    assert refused.value.permanent


async def test_a_renamed_room_shows_its_new_name_at_once(gateway, connect):
    bot = await connect()
    assert (await bot.adapter.group_info(ROOM)).name == "读书会"
    gateway.rename_room(ROOM, "读书会（2027）", changer="wxid_alice")
    await wait_until(lambda: bot.of(GroupRenamed))
    assert bot.of(GroupRenamed)[0].name == "读书会（2027）"
    assert (await bot.adapter.group_info(ROOM)).name == "读书会（2027）"


# -- point 8: group nicknames ------------------------------------------------------------------

async def test_mentions_and_sender_names_use_the_group_nickname(gateway, connect):
    gateway.set_alias(ROOM, "wxid_alice", "爱丽丝（组长）")
    bot = await connect()
    await bot.adapter.send(Outgoing(text="打卡成功", group_id=ROOM, mentions=("wxid_alice",)))
    assert gateway.sent[-1].text == "@爱丽丝（组长）\u2005打卡成功"
    assert gateway.sent[-1].mentions == ("wxid_alice",)
    await bot.adapter.send(Outgoing(text="你好", group_id=ROOM, mentions=("wxid_bob",)))
    assert gateway.sent[-1].text == "@Bob\u2005你好"  # no nickname: the WeChat name
    gateway.say_in_room(ROOM, "wxid_alice", "收到")
    await wait_until(lambda: bot.messages())
    assert bot.messages()[0].sender_name == "爱丽丝（组长）"


# -- `bot groups` and `bot logout`: no second event stream -------------------------------------

def _config(tmp_path, gateway) -> Any:
    from bot.app import load
    from bot.testing import write_config

    return load(write_config(tmp_path, {
        "adapter": "wechaty", "wechaty": {"endpoint": gateway.endpoint, "token": "secret"}}))


async def test_groups_beside_a_running_bot_reads_what_it_recorded(tmp_path, gateway, connect):
    from bot.app import list_platform_groups

    bot = await connect()
    await wait_until(lambda: (tmp_path / "data" / "wechaty-state.json").exists()
                     and "读书会" in (tmp_path / "data" / "wechaty-state.json").read_text("utf-8"))
    calls_before = len(gateway.calls)
    groups, source = await list_platform_groups(_config(tmp_path, gateway), None)
    assert [(g.id, g.name, g.member_count) for g in groups] == [(ROOM, "读书会", 3)]
    assert source.startswith("read from the running bot") and "logged in" in source
    assert len(gateway.calls) == calls_before and gateway.streams == 1  # gateway untouched
    gateway.rename_room(ROOM, "读书会（新）", changer="wxid_alice")
    await wait_until(lambda: bot.of(GroupRenamed))
    groups, _ = await list_platform_groups(_config(tmp_path, gateway), None)
    assert groups[0].name == "读书会（新）"


async def test_groups_after_the_bot_stopped_asks_the_gateway_without_a_stream(
        tmp_path, gateway, connect):
    from bot.app import list_platform_groups

    bot = await connect()
    await bot.adapter.close()
    groups, source = await list_platform_groups(_config(tmp_path, gateway), None)
    assert [g.id for g in groups] == [ROOM]
    assert source.startswith("asked the gateway") and "no bot is running" in source
    assert gateway.streams == 1 and "Stop" not in gateway.calls and gateway.logins == 1


async def test_bot_logout_is_the_one_way_to_end_the_session(tmp_path, gateway, connect, caplog):
    from typer.testing import CliRunner

    from bot.cli import app

    bot = await connect()
    config = tmp_path / "bot.yaml"
    _config(tmp_path, gateway)
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["logout", "--yes", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "logged out" in result.output and "Logout" in gateway.calls
    await wait_until(lambda: len(bot.of(LoginChanged)) == 2)
    assert not bot.of(LoginChanged)[1].logged_in
    await wait_until(lambda: any("Scan this QR code" in r.getMessage() for r in caplog.records))
    assert "Stop" not in gateway.calls
