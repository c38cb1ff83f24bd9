"""One 小黑屋 per group (issue 13): check-in cheaters and moderation offenders land in the
same one, listed by `小黑屋` and released by `放出` (core commands: they work where
moderation is off), and while inside nobody checks in, makes up, grabs, joins or wins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.testing import FakeChat, texts
from plugins.lottery.models import LotteryDraw
from plugins.lottery.service import entries
from tests.transcripts import play

CHECKIN = {"points": 5, "milestones": {3: 10}, "reminder_at": None, "freezes_per_month": 3,
           "comeback": {"bonus": 0}, "makeup": {"cost": 0, "per_month": 5},
           "anti_copy": {"similarity": 85, "penalty_points": 0,
                         "offences_before_blackroom": 1, "blackroom_days": 2}}
MODERATION = {"banned_words": ["傻瓜"], "escalation": ["blackroom:2"]}
NOTE = "今天读完了《人类简史》第三章，收获很大"


def config(*, moderation: bool = True, language: str = "zh", **extra: object) -> dict:
    plugins: dict[str, object] = {"points": {}, "checkin": CHECKIN, "redpacket": {},
                                  "lottery": {}, **extra}
    if moderation:
        plugins["moderation"] = MODERATION
    group = {"name": "读书会", "owner": "olivia", "admins": ["adam"], "plugins": plugins}
    if language != "zh":
        group["language"] = language
    return {"groups": {"g": group}}


@pytest.fixture
def on_both(make_chat, database_url):
    async def start(settings: dict, **options: object) -> FakeChat:
        return await make_chat(settings, database_url=database_url, **options)

    return start


async def said(chat: FakeChat, member: str, text: str) -> str:
    return "\n".join(texts(await chat.say(member, text)))


async def copy_note(chat: FakeChat, member: str) -> str:
    """`member` copies alice's note: one offence is enough to be put in (see CHECKIN)."""
    await chat.say("alice", f"打卡 {NOTE}")
    return await said(chat, member, f"打卡 {NOTE}！")


async def test_a_check_in_cheater_is_listed_released_and_cannot_make_up_the_banned_days(on_both):
    chat = await on_both(config(moderation=False), now="2026-11-20 09:00")
    for day in ("我读了第一章的一半", "第二章读完了", "第三章开了个头"):
        assert "打卡成功" in await said(chat, "carol", f"打卡 {day}")
        await chat.advance("1d")
    assert "小黑屋 2 天" in await copy_note(chat, "carol")  # 11-23
    assert "小黑屋里" in await said(chat, "carol", "打卡 我自己写的")
    listing = await said(chat, "adam", "小黑屋")
    assert "1. carol：多次抄袭打卡内容（每日打卡），到 11-25 09:00" in listing
    assert "只有管理员" in await said(chat, "carol", "小黑屋")
    await chat.advance("1d")
    assert "小黑屋里" in await said(chat, "carol", "补签")  # no 补签 from inside
    assert "已把 carol 放出小黑屋" in await said(chat, "adam", "放出 @carol")
    assert "不在小黑屋里" in await said(chat, "adam", "放出 @carol")
    assert await said(chat, "adam", "小黑屋") == "小黑屋是空的。"
    await chat.advance("1d")  # 11-25: 11-24 was spent (partly) inside
    assert "小黑屋的日子不能补签" in await said(chat, "carol", "补签")
    # The ban broke the streak: no freeze bridges it, 11-20..11-22 no longer count.
    back = await said(chat, "carol", "打卡 出来了，继续读第四章")
    assert "连续 1 天" in back and "累计 4 天" in back
    assert "连续 1 天｜" in await said(chat, "carol", "/我的打卡")


async def test_a_stay_breaks_the_streak_even_when_released_the_same_day(on_both):
    chat = await on_both(config(), now="2026-11-22 09:00")
    await said(chat, "carol", "打卡 第一天我读了二十页")
    await chat.advance("1d")
    assert "连续 2 天" in await said(chat, "carol", "打卡 第二天读了三十页")
    await chat.say("carol", "你个傻瓜")  # moderation puts her in, after her check-in
    await said(chat, "adam", "放出 @carol")
    await chat.advance("1d")
    assert "连续 1 天" in await said(chat, "carol", "打卡 今天重新开始")
    await chat.advance("1d")
    await chat.advance("1d")  # a missed day after the stay: a freeze bridges it as usual
    assert "连续 3 天" in await said(chat, "carol", "打卡 又读了一章")


async def test_copying_from_inside_is_refused_and_the_day_cannot_be_made_up(on_both):
    chat = await on_both(config(), now="2026-11-22 09:00")
    await said(chat, "carol", "打卡 第一天我读了二十页")
    await chat.advance("1d")
    await copy_note(chat, "carol")  # 11-23: put in, released the same day
    await said(chat, "adam", "放出 @carol")
    await chat.advance("1d")
    assert "小黑屋的日子不能补签" in await said(chat, "carol", "补签")
    # Three freezes a month, yet none bridges the 小黑屋.
    assert "连续 1 天" in await said(chat, "carol", "打卡 今天重新开始")


async def test_a_moderation_offender_cannot_grab_join_or_win(on_both, tmp_path):
    quiz_dir = tmp_path / "config" / "quiz"
    quiz_dir.mkdir(parents=True)
    (quiz_dir / "one.yaml").write_text(
        "name: 一题\nquestions:\n  - q: 中国的首都是哪座城市？\n    answers: [北京]\n"
        "    difficulty: 1\n", encoding="utf-8")
    chat = await on_both(config(quiz={"banks": ["quiz"], "questions": 1,
                                      "time_limit": "45s", "hint_after": "20s"}),
                         now="2026-11-23 20:00")
    await chat.give("amy", 100)
    assert any(r.kind == "notice" for r in await chat.say("mallory", "你个傻瓜"))
    assert "mallory：使用违禁词（群规管理）" in await said(chat, "adam", "小黑屋")
    await chat.say("amy", "发红包 30 3")
    assert await chat.say("mallory", "抢") == []  # moderation: the bot ignores them
    await chat.say("adam", "发起抽奖 我要抽奖 1h 书*1")
    assert await chat.say("mallory", "我要抽奖") == []
    await chat.say("amy", "答题")
    assert await chat.say("mallory", "北京") == []
    assert "amy 答对了" in await said(chat, "amy", "北京")
    assert await chat.balance("mallory") == 0
    async with chat.runtime.db.transaction() as session:
        draw = await session.scalar(select(LotteryDraw))
        assert draw is not None and await entries(session, draw.id) == []


async def test_where_moderation_is_off_the_core_lists_releases_and_refuses(on_both):
    chat = await on_both(config(moderation=False, minigames={}), now="2026-11-23 09:00")
    await chat.give("amy", 100)
    await copy_note(chat, "carol")
    assert "1. carol：多次抄袭打卡内容" in await said(chat, "adam", "小黑屋")
    await chat.say("amy", "发红包 30 3")
    assert "你在小黑屋里（到 11-25 09:00），现在不能参加" in await said(chat, "carol", "抢")
    await chat.say("adam", "发起抽奖 我要抽奖 1h 书*1")
    assert "不能参与" in await said(chat, "carol", "我要抽奖")
    await chat.say("adam", "骰子 6 20积分")
    assert "小黑屋里" in await said(chat, "carol", "掷骰子")
    assert "已把 carol 放出小黑屋" in await said(chat, "adam", "放出 @carol")
    assert "抢到" in await said(chat, "carol", "抢")
    assert "已参与" in await said(chat, "carol", "我要抽奖")


async def test_a_member_jailed_after_joining_a_draw_does_not_win(on_both):
    chat = await on_both(config(), now="2026-11-23 20:00")
    created = await said(chat, "adam", "发起抽奖 我要抽奖 1h 100积分*1")
    assert "发送「我要抽奖」" in created
    for member in ("mallory", "amy"):
        assert "已参与" in await said(chat, member, "我要抽奖")
    await chat.say("mallory", "你个傻瓜")  # into the 小黑屋 after joining
    result = texts(await chat.advance("1h"))
    assert "100积分：amy" in result[0]
    assert await chat.balance("amy") == 100 and await chat.balance("mallory") == 0
    # The verification command names the members the draw picked from.
    assert "amy" in result[1] and "mallory" not in result[1]


async def test_english_groups_see_the_blackroom_in_english(on_both):
    chat = await on_both(config(language="en", moderation=False), now="2026-11-23 09:00")
    await chat.give("amy", 100)
    await copy_note(chat, "carol")
    listing = await said(chat, "adam", "/blackroom")
    assert "Penalty box (1):" in listing
    assert "1. carol: repeatedly copied check-in notes (Daily check-in), until 11-25 09:00" \
        in listing
    await chat.say("amy", "/redpacket 30 3")
    assert "You are in the penalty box until 11-25 09:00" in await said(chat, "carol", "/grab")
    assert "Released carol" in await said(chat, "adam", "/release @carol")


async def test_where_moderation_runs_everyone_inside_is_ignored(on_both):
    chat = await on_both(config(), now="2026-11-23 09:00")
    await copy_note(chat, "carol")  # put in by check-in, ignored like moderation's own
    assert await chat.say("carol", "打卡 我自己写的") == []
    assert "1. carol：多次抄袭打卡内容" in await said(chat, "adam", "小黑屋")


async def test_the_tags_read_the_one_blackroom_and_its_broken_streaks(on_both):
    chat = await on_both(config(moderation=False, tags={"streak_days": 3}),
                         now="2026-11-21 09:00")
    for note in ("第一天读了二十页", "第二天读了三十页", "第三天读完一章"):
        await said(chat, "carol", f"打卡 {note}")
        await chat.advance("1d")
    assert "carol" in await said(chat, "adam", "/标签 连续打卡")
    await copy_note(chat, "carol")  # 11-24: put in by check-in
    assert "carol" in await said(chat, "adam", "/标签 小黑屋")
    assert "carol" not in await said(chat, "adam", "/标签 连续打卡")


async def test_a_stay_survives_a_restart_and_ends_on_time(on_both):
    chat = await on_both(config(), now="2026-11-23 09:00")
    await chat.say("mallory", "你个傻瓜")
    chat = await chat.restart("1h")
    assert await chat.say("mallory", "/积分") == []
    await chat.advance(timedelta(days=2))
    assert await chat.say("mallory", "/积分") != []


def test_the_blackroom_example_lists_both_and_releases():
    sent = [m for m in play("blackroom.txt") if m["group"] == "demo-reading"]
    said_ = [m["text"] for m in sent]
    listing = next(t for t in said_ if t.startswith("小黑屋（2 人）"))
    assert "carol：多次抄袭打卡内容（每日打卡）" in listing
    assert "dave：使用违禁词（群规管理）" in listing
    assert "已把 carol 放出小黑屋。" in said_
    assert any("小黑屋的日子不能补签" in t for t in said_)
    assert next(t for t in said_ if t.startswith("小黑屋（1 人）")).count("dave") == 1


async def test_the_migration_moves_both_old_blackrooms_into_the_one_and_back(database_url,
                                                                             tmp_path):
    """Rows kept by moderation (blackroom_until) and check-in (banned_until) before the
    core's 小黑屋 existed come out as its stays, with the offence that put them there."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from bot.storage import Database
    from bot.storage.database import alembic_config

    revision = "b1ac4200e013"
    db = Database(database_url, tmp_path)

    def run(sync, target: str, down: bool = False) -> None:
        config = alembic_config(sync)
        (command.downgrade if down else command.upgrade)(config, target)

    def before(sync) -> str:
        return ScriptDirectory.from_config(alembic_config(sync)).get_revision(
            revision).down_revision

    until = "2026-11-26 10:00:00.000000"  # UTC, as UTCDateTime keeps it
    try:
        async with db.engine.begin() as connection:
            previous = await connection.run_sync(before)
            await connection.run_sync(run, previous)
            for statement in (
                "INSERT INTO moderation_members (group_id, member_id, name, blackroom_until) "
                f"VALUES ('g', 'dave', 'Dave', '{until}')",
                "INSERT INTO moderation_actions (group_id, member_id, rule, evidence, action, "
                "points, by, at, undone) VALUES ('g', 'dave', 'banned_word', '刷单', "
                "'blackroom:3', 0, 'bot', '2026-11-23 10:00:00.000000', false)",
                "INSERT INTO checkin_members (group_id, member_id, name, best_streak, quiet, "
                f"offences, banned_until) VALUES ('g', 'carol', 'Carol', 3, false, 0, '{until}')",
                "INSERT INTO checkin_offences (group_id, member_id, at, note, copied_from, "
                "similarity) VALUES ('g', 'carol', '2026-11-23 09:00:00.000000', 'x', 'alice', 99)",
            ):
                await connection.execute(text(statement))
            await connection.run_sync(run, "heads")
            rows = (await connection.execute(text(
                "SELECT member_id, name, reason, source FROM blackroom_stays "
                "ORDER BY member_id"))).all()
            assert [tuple(r) for r in rows] == [
                ("carol", "Carol", "blackroom.reason", "checkin"),
                ("dave", "Dave", "rule.banned_word", "moderation")]
            await connection.run_sync(run, previous, True)
            kept = (await connection.execute(text(
                "SELECT blackroom_until FROM moderation_members"))).scalar()
            assert kept is not None
    finally:
        await db.close()


async def test_a_put_whose_transaction_fails_leaves_nobody_inside(database_url, tmp_path):
    from datetime import UTC, datetime

    from bot.blackroom import Blackroom
    from bot.storage import Database

    db = Database(database_url, tmp_path)
    await db.migrate()
    room, now = Blackroom(db), datetime(2026, 11, 23, 9, tzinfo=UTC)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                await room.put(session, "g", "carol", now + timedelta(days=1), "x", "checkin",
                               now=now)
                assert await room.is_in("g", "carol", now, session=session)
                raise RuntimeError("the plugin's own write failed")
        assert not await room.is_in("g", "carol", now)
        async with db.transaction() as session:
            await room.put(session, "g", "carol", now + timedelta(days=1), "x", "checkin",
                           now=now)
            await room.put(session, "g", "carol", now + timedelta(hours=1), "y", "moderation",
                           now=now)  # shorter: the longer stay is kept
        async with db.transaction() as session:
            [stay] = await room.list(session, "g", now)
        assert (stay.until, stay.reason) == (now + timedelta(days=1), "x")
        assert await Blackroom(db).is_in("g", "carol", now)  # a new process reads it back
    finally:
        await db.close()


async def test_a_room_served_elsewhere_meanwhile_is_read_again_when_gained(database_url,
                                                                          tmp_path):
    """Issue 18: a room moved to another account's process and back; who went in there
    is inside here too (the in-memory copy, and the check-in's list of past stays)."""
    from datetime import UTC, datetime

    from bot.blackroom import Blackroom
    from bot.storage import Database

    db = Database(database_url, tmp_path)
    await db.migrate()
    here, there = Blackroom(db), Blackroom(db)
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    try:
        assert not await here.is_in("g", "carol", now)  # read while this process served g
        async with db.transaction() as session:
            assert await here.spans(session, "g", "carol", now - timedelta(days=3)) == []
            await there.put(session, "g", "carol", now + timedelta(days=1), "x", "checkin",
                            now=now)  # the other process, while it held the room
        here.forget({"g"})  # the lease came back
        assert await here.is_in("g", "carol", now)
        async with db.transaction() as session:
            assert len(await here.spans(session, "g", "carol", now - timedelta(days=3))) == 1
    finally:
        await db.close()


async def test_the_warm_up_reads_every_group_at_once(database_url, tmp_path):
    """Issue 16.4: every check-in at 09:00 is its group's first of the day; the 小黑屋 is
    read for all groups ahead, so none of them reads it then — and it reads the same."""
    from datetime import UTC, datetime

    from sqlalchemy import event

    from bot.blackroom import Blackroom
    from bot.storage import Database

    db = Database(database_url, tmp_path)
    await db.migrate()
    writer, now = Blackroom(db), datetime(2026, 11, 23, 9, tzinfo=UTC)
    try:
        async with db.transaction() as session:
            await writer.put(session, "g1", "carol", now + timedelta(days=1), "x", "checkin",
                             now=now)
            await writer.put(session, "g1", "erin", now - timedelta(days=1), "x", "checkin",
                             now=now - timedelta(days=2))  # over by now
            await writer.put(session, "g2", "dave", now + timedelta(hours=1), "x", "moderation",
                             now=now)
            await writer.release(session, "g2", "dave", now, by="owner")
        room = Blackroom(db)
        await room.preload(["g1", "g2", "g3"], now)
        statements: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        assert await room.members("g1", now) == {"carol"}
        assert not await room.is_in("g1", "erin", now)
        assert not await room.is_in("g2", "dave", now)  # released
        assert await room.members("g3", now) == set()
        async with db.transaction() as session:
            assert await room.spans(session, "g3", "frank", now - timedelta(days=3)) == []
            assert statements == []  # all from what the warm-up read
            # a released stay still breaks a streak: its span is read when asked for
            assert len(await room.spans(session, "g2", "dave", now - timedelta(days=3))) == 1
    finally:
        await db.close()
