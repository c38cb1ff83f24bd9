"""Issue 11 end to end: the whole bot, python-wechaty's client and the fake gateway sending
what a live one sends — @所有人, late deliveries, logouts and removals, as members and
operators see them."""

from __future__ import annotations

import asyncio
import time

from bot.events import Outgoing, OutKind
from tests.wechaty import fixtures as fx
from tests.wechaty.live import ROOM, wait_until

QA = {"qa": {"mention_admins_when_unsure": False}}


async def quiet_for(seconds: float = 0.3) -> None:
    """Room for a wrong reply to show up at the gateway (network, not simulated time)."""
    await asyncio.sleep(seconds)


async def test_an_at_all_announcement_is_never_a_question(gateway, start_bot):
    await start_bot(plugins=QA)
    gateway.post_fixture(ROOM, fx.AT_ALL_ANNOUNCEMENT)
    gateway.post_fixture(ROOM, fx.AT_ALL_NOTIFY)
    await quiet_for()
    assert gateway.sent == []  # not "这个问题我还不会回答"
    # The same Q&A does answer a real question to the bot, and 待答 holds only that one.
    gateway.say_in_room(ROOM, "wxid_alice", "周六几点开始？", mentions=("wxid_bot",))
    await wait_until(lambda: gateway.sent)
    assert "还不会回答" in gateway.sent[0].text
    gateway.say_in_room(ROOM, "wxid_bob", "/待答")
    await wait_until(lambda: len(gateway.sent) == 2)
    assert "周六几点开始" in gateway.sent[1].text and "线上" not in gateway.sent[1].text


async def test_a_backlog_command_runs_only_within_the_grace(gateway, start_bot):
    await start_bot()
    a_day_and_a_half_ago = int(time.time()) - 36 * 3600
    gateway.say_in_room(ROOM, "wxid_alice", "打卡 昨天的", timestamp=a_day_and_a_half_ago)
    await quiet_for()
    assert gateway.sent == []  # never counted for today
    gateway.say_in_room(ROOM, "wxid_bob", "打卡 刚才的", timestamp=int(time.time()) - 300)
    await wait_until(lambda: gateway.sent)
    assert "打卡成功" in gateway.sent[0].text and gateway.sent[0].mentions == ("wxid_bob",)


async def test_a_logout_holds_the_outbox_and_operators_hear_when_it_is_back(gateway, start_bot):
    runtime = await start_bot()
    gateway.log_out()
    await wait_until(lambda: runtime.outbox.held)
    runtime.outbox.put(Outgoing(text="定时消息", kind=OutKind.POST, group_id=ROOM))
    await quiet_for()
    assert gateway.sent == [] and runtime.outbox.stats.retried == 0  # held, no retry burnt
    assert not runtime.health().working  # /healthz answers 503 meanwhile
    gateway.ask_for_scan()
    gateway.confirm_scan()
    await wait_until(lambda: len(gateway.sent) == 2)
    by_target = {sent.conversation_id: sent.text for sent in gateway.sent}
    assert by_target[ROOM] == "定时消息"
    assert "微信账号已重新登录，离线了" in by_target["wxid_op"]
    assert gateway.logins == 2  # the scan the operator did; the bot never relogged itself
    assert runtime.health().working


async def test_removed_from_a_room_the_operators_are_told_and_nothing_more_goes_there(
    gateway, start_bot
):
    runtime = await start_bot()
    gateway.leave_room(ROOM, ["wxid_bot"], remover="wxid_alice")
    await wait_until(lambda: gateway.sent)
    [notice] = gateway.sent
    assert notice.conversation_id == "wxid_op" and "机器人已被移出群「读书会」" in notice.text
    runtime.outbox.put(Outgoing(text="早报", kind=OutKind.POST, group_id=ROOM))
    await quiet_for()
    assert len(gateway.sent) == 1 and runtime.platform.is_removed(ROOM)


async def test_a_renamed_room_is_called_by_its_new_name_at_once(gateway, start_bot):
    runtime = await start_bot()
    roles = runtime.services.roles
    assert (await roles.platform_info(ROOM)).name == "读书会"  # cached for ten minutes
    gateway.rename_room(ROOM, "读书会·冬季", changer="wxid_alice")
    renamed = False

    async def check() -> None:
        nonlocal renamed
        renamed = (await roles.platform_info(ROOM)).name == "读书会·冬季"

    for _ in range(100):
        await check()
        if renamed:
            break
        await asyncio.sleep(0.05)
    assert renamed


async def test_a_mass_join_welcome_mentions_twenty_with_their_group_nicknames(gateway, start_bot):
    newcomers = [f"wxid_new{n:02d}" for n in range(25)]
    for member in newcomers:
        gateway.add_contact(member, f"新人{member[-2:]}")
    gateway.set_alias(ROOM, newcomers[0], "小雨妈妈")  # her 群昵称
    await start_bot(plugins={"moderation": {"rules_text": "请先看群公告", "welcome_within": "1s",
                                             "flood": None, "repeat": None}})
    gateway.join_room(ROOM, newcomers, inviter="wxid_alice")
    await wait_until(lambda: any("请先看群公告" in sent.text for sent in gateway.sent))
    [welcome] = [sent for sent in gateway.sent if "请先看群公告" in sent.text]
    assert len(welcome.mentions) == 20 and welcome.mentions == tuple(newcomers[:20])
    assert welcome.text.startswith("@小雨妈妈\u2005")  # the group nickname, not the name
    assert "等 25 位新朋友" in welcome.text
