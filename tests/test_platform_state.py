"""Issue 11, the core's side: the account logged out and back, the bot removed from a group
and added back, a group renamed — what members and operators see, across restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.platform_state import TEXTS, AccountOutage
from bot.testing import texts


def _group(name: str, *posts: tuple[str, str], **extra: object) -> dict:
    return {"name": name, "plugins": {"timed_posts": {
        "posts": [{"at": at, "text": text} for at, text in posts]}}, **extra}


CONFIG = {
    "operators": [{"id": "op_wang"}, {"id": "op_li", "groups": ["技术群"]}],
    "digest": {"at": "08:30", "outage_note_after": "30m"},
    "groups": {
        "g": _group("读书会", ("09:00", "早安读书会"), admins=["adam"]),
        "t": _group("技术群", ("09:00", "早安技术群")),
    },
}


def _dms(sent: list, to: str) -> list[str]:
    return [d.text for d in sent if d.kind == "dm" and d.to == to]


def _posts(sent: list) -> list[str]:
    return [d.text for d in sent if d.kind != "dm"]


# -- logged out and back ----------------------------------------------------------------------

async def test_logged_out_holds_every_send_and_operators_hear_how_long_it_lasted(
        make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-23 08:40", database_url=database_url)
    assert await chat.logout("session expired") == []
    sent = await chat.advance("1h")  # 09:00's posts come due while logged out
    assert sent == [] and chat.runtime.outbox.stats.retried == 0
    await chat.advance("65m")
    back = await chat.login()
    assert sorted(_posts(back)) == ["早安技术群", "早安读书会"]  # held, not lost
    for operator in ("op_wang", "op_li"):
        [dm] = _dms(back, operator)
        assert "微信账号已重新登录" in dm and "离线了 2 小时 5 分钟" in dm and "11-23 08:40" in dm
    assert chat.runtime.outbox.stats.failed == 0
    assert await chat.login() == []  # already logged in: nothing more to say


async def test_messages_while_logged_out_are_handled_when_back_if_still_fresh(make_chat):
    chat = await make_chat({"groups": {"g": {"name": "读书会"}}}, now="2026-11-23 10:00")
    await chat.logout()
    assert await chat.say("alice", "/alice") == []  # unknown commands: answered when run
    await chat.advance("3m")
    assert await chat.say("bob", "/bob") == []
    await chat.advance("9m")
    back = await chat.login()  # alice's /help is 12 minutes old now, bob's 9
    [reply] = back
    assert reply.mentions == ("bob",) and "没有「/bob」这个命令" in reply.text
    assert chat.runtime.outbox.stats.retried == 0


async def test_an_outage_survives_a_restart_and_long_ones_are_in_the_digest(
        make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-23 14:00", database_url=database_url)
    await chat.logout()
    chat = await chat.restart("2h")  # stopped while logged out; the adapter logs in again
    [dm] = _dms(await chat.login(), "op_wang")
    assert "离线了 2 小时 0 分钟" in dm and "11-23 14:00" in dm
    await chat.advance("1h")
    await chat.logout()
    await chat.advance("10m")
    await chat.login()  # too short to note
    async with chat.runtime.db.transaction() as session:
        outages = (await session.scalars(select(AccountOutage))).all()
    assert [o.ended_at - o.started_at for o in outages] == [timedelta(hours=2),
                                                            timedelta(minutes=10)]
    sent = await chat.advance_to("2026-11-24 09:00")
    [digest] = _dms(sent, "op_wang")
    assert "📴 微信账号离线：11-23 14:00 起，共 2 小时 0 分钟" in digest
    assert "11-23 17:00" not in digest and digest.count("📴") == 1


# -- removed from a group and back --------------------------------------------------------------

async def test_removed_from_a_group_stops_its_posts_and_tells_its_operators_once(
        make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-23 08:00", database_url=database_url)
    removed = await chat.remove_bot(group="技术群")
    assert _dms(removed, "op_li") == [_dms(removed, "op_wang")[0]]  # both run 技术群
    assert "机器人已被移出群「技术群」" in _dms(removed, "op_li")[0]
    assert await chat.remove_bot(group="技术群") == []  # the platform said it twice: once
    assert await chat.remove_bot(group="读书会") != []
    assert _dms(chat.sent[-1:], "op_wang") and not _dms(chat.sent[-1:], "op_li")
    assert _posts(await chat.advance("2h")) == []  # 09:00 skipped in both
    stats = chat.runtime.outbox.stats
    assert stats.retried == 0 and stats.failed == 0
    chat = await chat.restart("1d")  # the removal is remembered
    assert _posts(await chat.advance("1d")) == []
    # A member writes in 读书会: the bot was added back; its posts resume.
    assert await chat.say("adam", "大家好", group="读书会") == []
    assert _posts(await chat.advance("1d")) == ["早安读书会"]


async def test_queued_posts_to_a_removed_group_are_dropped_not_retried(make_chat):
    chat = await make_chat(CONFIG, now="2026-11-23 08:50")
    await chat.logout()
    await chat.advance("20m")  # 09:00's posts are held
    await chat.remove_bot(group="技术群")
    back = await chat.login()
    assert _posts(back) == ["早安读书会"]
    stats = chat.runtime.outbox.stats
    assert stats.dropped == 1 and stats.retried == 0 and stats.failed == 0


async def test_the_digest_lists_a_removed_group_as_removed_not_silent(make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-16 10:00", database_url=database_url)
    for _ in range(5):
        await chat.say("adam", "早", group="读书会")
        await chat.say("tom", "早", group="技术群")
        await chat.advance("1d")
    await chat.remove_bot(group="技术群")
    for _ in range(4):
        await chat.say("adam", "早", group="读书会")
        sent = await chat.advance("1d")
    [digest] = _dms(sent, "op_wang")
    assert "🚪 机器人已移出：技术群（11-21 起）" in digest
    assert "■ 技术群（已移出）" in digest
    assert "✅ 没有风险群" in digest and "沉默" not in digest


# -- renamed ----------------------------------------------------------------------------------

async def test_a_renamed_group_is_called_by_its_new_name_at_once(make_chat):
    chat = await make_chat({"groups": {"g": {"name": "读书会"}}}, now="2026-11-23 10:00")
    unlisted = chat.chat.add_group("x", "老名字", chat.chat.timezone)
    roles = chat.runtime.services.roles
    assert (await roles.platform_info("x")).name == "老名字"  # cached now
    assert "新名字" not in texts(await chat.say("amy", "/help", group="x"))[0]
    await chat.rename("新名字", group="x")
    assert (await roles.platform_info("x")).name == "新名字"
    assert "新名字" in texts(await chat.say("amy", "/help", group="x"))[0]
    assert unlisted.name == "新名字"
    await chat.rename("读书会二群")  # a configured group keeps the operators' own name
    assert "读书会" in texts(await chat.say("amy", "/help"))[0]


async def test_operators_are_told_in_the_bots_language(make_chat):
    config = {**CONFIG, "bot": {"language": "en"}}
    chat = await make_chat(config, now="2026-11-23 10:00")
    assert TEXTS.missing_translations() == set()
    [removed] = _dms(await chat.remove_bot(group="技术群"), "op_li")
    assert removed.startswith("⚠️ The bot was removed from the group “技术群”")
    await chat.logout()
    await chat.advance("45m")
    [back] = _dms(await chat.login(), "op_li")
    assert "logged in again after 45 min offline (since 11-23 10:00)" in back
