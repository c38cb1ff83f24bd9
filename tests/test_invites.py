"""Invitations (issue 17, point 2): inviters from the platform or an admin, /邀请榜 counting
only invitees who stayed, rewards and thresholds through the ledger, reversal when an
invitee leaves early, silent invitees counted as half or not at all, the digest."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot import ledger
from bot.plugin import DigestQuery
from bot.testing import texts
from plugins.invites.digest import contribute


def _config(**invites: object) -> dict:
    settings = {"points": 10, "thresholds": {2: 50}, **invites}
    return {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"],
                             "plugins": {"points": {}, "invites": settings, "tags": {}}}}}



async def _reasons(chat, member: str) -> list[tuple[int, str]]:
    async with chat.runtime.services.db.transaction() as session:
        rows = await session.execute(select(ledger.PointsEntry.amount, ledger.PointsEntry.reason)
                                     .where(ledger.PointsEntry.member_id == member)
                                     .order_by(ledger.PointsEntry.id))
        return [tuple(row) for row in rows]


async def test_invitees_who_stay_and_speak_count_and_reward_their_inviter(make_chat,
                                                                         database_url):
    chat = await make_chat(_config(), database_url=database_url)
    [thanks] = await chat.join("carol", inviter="alice")
    assert thanks.mentions == ("alice",)
    assert thanks.text == "欢迎 carol！感谢 alice 的邀请，+10 积分（carol 留群满 3 天才算数）。"
    await chat.join("dave", inviter="alice")
    await chat.say("carol", "大家好")
    await chat.say("dave", "我也来了")
    assert await chat.balance("alice") == 20
    board = texts(await chat.say("erin", "/邀请榜"))[0]
    assert "本月：\n（暂无）" in board  # nobody has stayed 3 days yet
    sent = await chat.advance("73h")  # the hourly settlement after the third day
    assert texts(sent) == ["🎉 alice 已邀请 2 位成员留群，奖励 50 积分！"]
    assert await chat.balance("alice") == 70
    board = texts(await chat.say("erin", "/邀请榜"))[0]
    assert "本月：\n1. alice 2 人" in board and "总榜：\n1. alice 2 人" in board
    assert texts(await chat.say("bob", "/标签 邀请达人")) == ["标签「邀请达人」共 1 人：alice"]
    # A rejoin never pays twice; an invitee gone after stay_days leaves the board.
    await chat.leave("dave")
    await chat.join("dave", inviter="alice")
    assert await chat.balance("alice") == 70
    await chat.leave("dave")
    assert "1. alice 1 人" in texts(await chat.say("erin", "/邀请榜"))[0]
    await chat.advance("32d")  # next month: the month's board starts empty, the total stays
    board = texts(await chat.say("erin", "/邀请榜"))[0]
    assert "本月：\n（暂无）" in board and "总榜：\n1. alice 1 人" in board


async def test_an_invitee_leaving_early_is_not_counted_and_the_reward_is_reversed(
        make_chat, database_url):
    chat = await make_chat(_config(), database_url=database_url)
    await chat.join("fake1", inviter="mallory")
    await chat.say("mallory", "/积分")
    assert await chat.balance("mallory") == 10
    await chat.advance("1d")
    await chat.leave("fake1")
    assert await chat.balance("mallory") == 0
    assert await _reasons(chat, "mallory") == [
        (10, "邀请 fake1"), (-10, "邀请 fake1（未留满 3 天，收回）")]
    await chat.advance("5d")
    assert "总榜：\n（暂无）" in texts(await chat.say("erin", "/邀请榜"))[0]


async def test_silent_invitees_count_half_or_not_at_all(make_chat, database_url):
    chat = await make_chat(_config(thresholds={}), database_url=database_url)
    await chat.join("quiet", inviter="alice")
    await chat.join("talky", inviter="alice")
    await chat.say("talky", "你好")
    await chat.advance("4d")
    assert "1. alice 1.5 人" in texts(await chat.say("erin", "/邀请榜"))[0]
    assert await chat.balance("alice") == 15  # 10 for talky, 5 of quiet's 10 taken back
    await chat.stop()  # one bot per database
    strict = await make_chat(_config(thresholds={}, silent="none"), database_url=database_url,
                             now="2026-12-01 08:00")
    await strict.join("quiet2", inviter="bob")
    await strict.advance("4d")
    assert await strict.balance("bob") == 0
    assert "未发言的新成员按0 人计" in texts(await strict.say("erin", "/邀请榜"))[0]


async def test_an_admin_names_the_inviter_the_platform_did_not(make_chat, database_url):
    chat = await make_chat(_config(), database_url=database_url)
    await chat.join("carol")  # the platform did not say who invited her
    assert texts(await chat.say("carol", "邀请人 @carol @alice")) == [
        "「邀请人」只有管理员可以用哦。"]
    assert texts(await chat.say("bob", "邀请人 @carol @alice")) == ["已登记：carol 由 alice 邀请。"]
    assert texts(await chat.say("bob", "邀请人 @carol @erin")) == ["carol 的邀请人已经是 alice。"]
    assert texts(await chat.say("bob", "邀请人 @zed @alice")) == [
        "没有 zed 的入群记录，无法登记邀请人。"]
    assert texts(await chat.say("bob", "邀请人 @alice @alice"))[0].startswith("用法：")
    assert await chat.balance("alice") == 10


async def test_digest_shows_invitations_per_group(make_chat, database_url):
    chat = await make_chat(_config(), database_url=database_url, now="2026-11-23 10:00")
    await chat.join("carol", inviter="alice")
    await chat.join("dave")  # no inviter: not an invitation
    await chat.say("carol", "hi")
    await chat.advance_to("2026-11-26 12:00")
    async with chat.runtime.services.db.transaction() as session:
        found = await contribute(session, DigestQuery(
            ("g",), (date(2026, 11, 23), date(2026, 11, 26)),
            timezones={"g": chat.chat.groups["g"].timezone}))
    figures = {m.key: m.values for m in found.metrics}
    assert figures["invites.joins"] == {("g", date(2026, 11, 23)): 1}
    assert figures["invites.counted"] == {("g", date(2026, 11, 26)): 1.0}
