"""The real Wechaty client against a fake puppet-service gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.adapters.base import AdapterError
from bot.adapters.wechaty import WechatyAdapter
from bot.cli import app
from bot.plugin import Role
from bot.testing import write_config
from tests.wechaty.live import ROOM, wait_until


async def test_a_room_message_gets_a_reply_with_mentions(gateway, start_bot):
    await start_bot()
    gateway.say_in_room(ROOM, "wxid_alice", "打卡 读完第一章")
    await wait_until(lambda: gateway.sent)
    [reply] = gateway.sent
    assert reply.conversation_id == ROOM and reply.mentions == ("wxid_alice",)
    assert "打卡成功" in reply.text and reply.text.startswith("@Alice")  # the SDK adds it
    # @-mentioning the bot: the SDK strips "@小助手" and the command still works
    gateway.say_in_room(ROOM, "wxid_bob", "/help", mentions=("wxid_bot",))
    await wait_until(lambda: len(gateway.sent) == 2)
    assert "可用的命令" in gateway.sent[1].text


async def test_stickers_and_quotes_from_a_live_gateway_are_not_offences(gateway, start_bot):
    """Issue 11's first examples, end to end: the sticker's XML (fromusername="wxid_…") and a
    quoted offence are no longer read as text; the command in the quote's reply part runs."""
    from tests.wechaty import fixtures as fx

    await start_bot(plugins={"moderation": None})
    gateway.post_fixture(ROOM, fx.STICKER)
    gateway.post(ROOM, "wxid_bob", fx.QUOTE.type, fx.QUOTE.text)
    await wait_until(lambda: gateway.sent)
    await asyncio.sleep(0.3)  # room for a wrong warning to show up
    [reply] = gateway.sent
    assert "可用的命令" in reply.text  # and no warning for the sticker or the quote


async def test_a_room_join_reaches_the_plugins(gateway, start_bot):
    await start_bot()
    gateway.join_room(ROOM, ["wxid_carol"], inviter="wxid_alice")
    await wait_until(lambda: gateway.sent)
    assert gateway.sent[0].text == "欢迎 Carol 加入！"


async def test_a_member_leaving_reaches_the_plugins(gateway, start_bot):
    await start_bot()
    gateway.leave_room(ROOM, ["wxid_bob"])
    await wait_until(lambda: gateway.sent)
    assert gateway.sent[0].text == "Bob 离开了群聊"


async def test_a_direct_message_goes_to_the_operator(gateway, start_bot):
    await start_bot()
    gateway.say_in_room(ROOM, "wxid_bob", "告诉运营 群里需要新书单")
    await wait_until(lambda: gateway.sent)
    [dm] = gateway.sent
    assert dm.conversation_id == "wxid_op" and dm.text == "Bob 说：群里需要新书单"


async def test_an_image_follows_its_text_as_a_file(gateway, start_bot, tmp_path):
    chart = tmp_path / "digest.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(32)))
    await start_bot()
    gateway.say_in_room(ROOM, "wxid_bob", f"图表给运营 {chart}")
    await wait_until(lambda: gateway.files)
    assert [(d.conversation_id, d.text) for d in gateway.sent] == [("wxid_op", "附图")]
    [(to, filebox)] = gateway.files
    assert to == "wxid_op" and filebox["name"] == "digest.png"
    assert base64.b64decode(filebox["base64"]) == chart.read_bytes()


async def test_room_owner_and_admins_come_from_the_platform(gateway, start_bot):
    runtime = await start_bot()
    info = await runtime.adapter.group_info(ROOM)
    assert info is not None and (info.name, info.owner_id) == ("读书会", "wxid_alice")
    assert info.admin_ids == ("wxid_bob",) and info.member_count == 3
    group = runtime.config.groups[ROOM]  # an admin on WeChat only: admin in this group…
    assert await runtime.services.roles.role_of(group, "wxid_bob") == Role.ADMIN
    gateway.say_in_room(ROOM, "wxid_bob", "/reload")  # …but not for the bot-wide /reload
    await wait_until(lambda: gateway.sent)
    assert "「/reload」只有 bot.yaml 里登记的管理员可以用哦" in gateway.sent[0].text


async def test_after_the_gateway_drops_the_bot_reconnects_and_handles_nothing_twice(
    gateway, start_bot
):
    runtime = await start_bot()
    adapter = runtime.adapter
    first = gateway.say_in_room(ROOM, "wxid_alice", "/help")
    await wait_until(lambda: len(gateway.sent) == 1)
    await gateway.stop()
    await wait_until(lambda: not adapter.logged_in.is_set())
    await gateway.start(gateway.port)
    await adapter.ready(10)
    assert adapter.connections == 2
    gateway.say_in_room(ROOM, "wxid_alice", "/help", message_id=first)  # a replay
    gateway.say_in_room(ROOM, "wxid_bob", "/plugins")
    await wait_until(lambda: len(gateway.sent) == 2)
    await asyncio.sleep(0.2)  # give a wrongly handled replay the chance to show up
    assert len(gateway.sent) == 2 and "启用的功能" in gateway.sent[1].text


async def test_the_outbox_budget_is_observed_at_the_gateway(gateway, start_bot):
    await start_bot(per_minute=600, burst=2)  # 10 a second
    for member in ("wxid_alice", "wxid_bob", "wxid_carol", "wxid_op"):
        # Not 打卡: check-in confirmations held by the budget go out merged (issue 16.5).
        gateway.say_in_room(ROOM, member, "我的打卡")
    await wait_until(lambda: len(gateway.sent) == 4)
    # A burst of 2, then one per 0.1 s: the 4th send comes 0.2 s after the 1st. Measured
    # end to end, so one send's network jitter on a busy machine cannot fake a breach.
    at = [sent.at for sent in gateway.sent]
    assert at[3] - at[0] >= 0.18 and at[2] - at[0] >= 0.08


async def test_merged_check_ins_put_each_mention_at_the_start_of_its_line(gateway, start_bot):
    await start_bot(per_minute=60, burst=1)  # one a second: the last three wait, and merge
    for member in ("wxid_alice", "wxid_bob", "wxid_carol", "wxid_op"):
        gateway.say_in_room(ROOM, member, "打卡")
    await wait_until(lambda: sum(len(sent.mentions) for sent in gateway.sent) == 4)
    merged = gateway.sent[-1]
    assert len(merged.mentions) > 1
    starts = [line for line in merged.text.split("\n") if line.startswith("@")]
    assert len(starts) == len(merged.mentions)
    assert all(line.split("\u2005", 1)[1].startswith("打卡成功") for line in starts)


async def test_an_unreachable_endpoint_fails_fast_and_clearly(tmp_path):
    adapter = WechatyAdapter(endpoint="127.0.0.1:9", token="t", data_dir=tmp_path, probe_timeout=2)

    async def sink(event: Any) -> None:
        return None

    with pytest.raises(AdapterError, match="cannot reach the puppet-service gateway"):
        await asyncio.wait_for(adapter.run(sink), 10)


def test_run_without_an_endpoint_exits_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    path = write_config(tmp_path, {"adapter": "wechaty", "wechaty": {"token": "t"}})
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "needs a puppet-service endpoint" in result.output


async def test_the_rooms_the_account_is_in_are_listed_with_their_ids(tmp_path, gateway):
    from bot.app import list_platform_groups, load

    gateway.started = gateway.logged_in = True  # a bot ran before; the session stays
    gateway.add_room("room2@chatroom", "跑步群", owner="wxid_bob", members=["wxid_bob"])
    path = write_config(
        tmp_path,
        {
            "adapter": "wechaty",
            "wechaty": {"endpoint": gateway.endpoint, "token": "t"},
            "groups": {ROOM: {"name": "读书会"}},
        },
    )
    groups, _ = await list_platform_groups(load(path), None)
    assert {(g.id, g.name, g.member_count) for g in groups} == {
        (ROOM, "读书会", 3),
        ("room2@chatroom", "跑步群", 2),
    }
    assert gateway.streams == 0 and not {"Start", "Stop"} & set(gateway.calls)


def test_the_groups_command_lists_configured_groups_on_the_console():
    result = CliRunner().invoke(app, ["groups", "--config", "bot.yaml"])
    assert result.exit_code == 0
    assert "demo-reading\t读书会" in result.output
