"""Check-in (打卡) through the fake chat, with the clock moved by hand."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot import ledger
from bot.testing import FakeChat, texts
from plugins.checkin.models import CheckinOffence, CheckinRecord
from plugins.checkin.service import normalize_note

SETTINGS = {"points": 5, "milestones": {3: 10, 7: 30, 15: 60, 21: 100}, "reminder_at": "21:00",
            "freezes_per_month": 0, "comeback": {"bonus": 0}}

@pytest.fixture
def on_both(make_chat, database_url):
    """Every test here runs once on SQLite and once on PostgreSQL."""

    async def start(config: dict, **options: object) -> FakeChat:
        return await make_chat(config, database_url=database_url, **options)

    return start



def config(**overrides: object) -> dict:
    return {"groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {
        "points": None, "checkin": {**SETTINGS, **overrides}}}}}


async def checkin(chat: FakeChat, member: str, note: str = "") -> str:
    [reply, *extra] = await chat.say(member, f"打卡 {note}".strip())
    return "\n".join([reply.text, *(e.text for e in extra)])


async def test_first_checkin_replies_with_rank_streak_total_points_and_progress(on_both):
    chat = await on_both(config())
    [reply] = await chat.say("alice", "打卡 读完第三章")
    assert reply.mentions == ("alice",)
    assert "今天第 1 位" in reply.text and "连续 1 天" in reply.text
    assert "累计 1 天" in reply.text and "+5 积分" in reply.text
    assert "还差 2 天 ▓▓▓░░░░░░░ 1/3" in reply.text
    second = await checkin(chat, "bob")
    assert "今天第 2 位" in second


async def test_streak_grows_day_by_day_and_a_missed_day_resets_it(on_both):
    chat = await on_both(config(reminder_at=None))
    assert "连续 1 天" in await checkin(chat, "alice")
    await chat.advance("1d")
    assert "连续 2 天" in await checkin(chat, "alice")
    await chat.advance("2d")  # one day missed
    reply = await checkin(chat, "alice")
    assert "连续 1 天" in reply and "累计 3 天" in reply


async def test_each_milestone_is_celebrated_with_its_reward(on_both):
    chat = await on_both(config(reminder_at=None))
    celebrated = {}
    for day in range(1, 22):
        replies = await chat.say("alice", "打卡")
        if len(replies) == 2:
            celebrated[day] = replies[1]
        await chat.advance("1d")
    assert sorted(celebrated) == [3, 7, 15, 21]
    assert "连续打卡 7 天" in celebrated[7].text and "奖励 30 积分" in celebrated[7].text
    assert celebrated[21].kind == "post" and celebrated[21].mentions == ("alice",)
    async with chat.runtime.db.transaction() as session:
        balance = await ledger.balance(session, "g", "alice")
    assert balance == 21 * 5 + 10 + 30 + 60 + 100


async def test_the_day_boundary_counts_night_owls_for_the_day_before(on_both):
    chat = await on_both(config(day_starts_at="04:00", reminder_at=None),
                           now="2026-11-23 23:30")
    assert "连续 1 天" in await checkin(chat, "alice")
    await chat.advance("2h")  # 01:30 on the 24th: still the 23rd's check-in day
    assert "已经打过卡" in await checkin(chat, "alice")
    await chat.advance("3h")  # 04:30: a new day
    assert "连续 2 天" in await checkin(chat, "alice")


async def test_two_simultaneous_checkins_count_once(on_both):
    chat = await on_both(config())
    events = [chat.chat.message("g", "alice", "打卡") for _ in range(2)]
    await asyncio.gather(*(chat.runtime.dispatcher.handle(e) for e in events))
    await chat.runtime.settle()
    replies = texts(chat.sent)
    assert sum("打卡成功" in r for r in replies) == 1
    assert sum("已经打过卡" in r for r in replies) == 1
    async with chat.runtime.db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(CheckinRecord))
        assert count == 1
        assert await ledger.balance(session, "g", "alice") == 5


async def test_makeup_repairs_an_existing_streak_at_a_cost(on_both):
    chat = await on_both(config(reminder_at=None, makeup={"cost": 20, "per_month": 1}),
                           now="2026-11-10 09:00")
    await chat.say("adam", "/加分 @alice 100 启动")
    await checkin(chat, "alice")
    await chat.advance("2d")  # missed the 11th
    assert "连续 1 天" in await checkin(chat, "alice")
    [made_up, milestone] = await chat.say("alice", "补签")
    assert "花费 20 积分" in made_up.text and "当前连续 3 天" in made_up.text
    assert "连续打卡 3 天" in milestone.text  # the 补签 carried the streak past 3
    [again] = await chat.say("alice", "补签")
    assert "不需要补签" in again.text
    await chat.advance("2d")  # missed the 13th: the per-month limit is used up
    [limit] = await chat.say("alice", "补签")
    assert "本月补签次数（1 次）已经用完了" in limit.text


async def test_makeup_needs_a_streak_to_repair_and_enough_points(on_both):
    chat = await on_both(config(reminder_at=None), now="2026-11-10 09:00")
    [nothing] = await chat.say("bob", "补签")
    assert "补签接不上" in nothing.text
    await checkin(chat, "bob")
    await chat.advance("2d")
    [poor] = await chat.say("bob", "补签")
    assert "补签需要 20 积分，你现在只有 5" in poor.text


async def test_the_reminder_mentions_only_those_who_should_be_reminded(on_both):
    chat = await on_both(config(), now="2026-11-23 08:00")
    for member in ("alice", "bob", "carol", "dave"):
        await checkin(chat, member)
    await chat.say("carol", "/免打扰")  # opted out
    await chat.advance("1d")  # day 2, 08:00
    await checkin(chat, "alice")  # already done today
    await chat.say("erin", "大家好")  # never checked in: not nagged
    [reminder] = await chat.advance("13h")  # 21:00
    assert set(reminder.mentions) == {"bob", "dave"}
    assert reminder.kind == "post" and "还没打卡" in reminder.text


async def test_opting_out_toggles_and_back(on_both):
    chat = await on_both(config(), now="2026-11-23 08:00")
    await checkin(chat, "bob")
    [on] = await chat.say("bob", "/免打扰")
    [still] = await chat.say("bob", "/免打扰")  # twice never turns nagging back on
    assert "已开启免打扰" in on.text and "已经是开启的" in still.text and "/免打扰 关" in still.text
    [state] = await chat.say("bob", "/免打扰 是什么")
    assert "免打扰现在是开启的" in state.text
    [off] = await chat.say("bob", "/免打扰 关")
    assert "已关闭免打扰，恢复打卡提醒" in off.text
    await chat.advance("1d")
    [reminder] = await chat.advance("13h")
    assert reminder.mentions == ("bob",)


async def test_large_groups_get_a_few_reminders_not_one_per_member(on_both):
    chat = await on_both(config(reminder_batch=20), now="2026-11-23 08:00")
    for i in range(45):
        await checkin(chat, f"m{i:02d}")
    await chat.advance("1d")
    reminders = await chat.advance("13h")
    assert [len(r.mentions) for r in reminders] == [20, 20, 5]


async def test_a_copied_note_is_refused_and_repeat_offences_escalate(on_both):
    chat = await on_both(config(anti_copy={"similarity": 85, "penalty_points": 3,
                                             "offences_before_blackroom": 2,
                                             "blackroom_days": 2}, reminder_at=None))
    await chat.say("adam", "/加分 @bob 50 初始")
    await checkin(chat, "alice", "今天读完了《人类简史》第三章，收获很大")
    copied = await checkin(chat, "bob", "今天读完了《人类简史》第三章，收获很大！！")
    assert "太像了" in copied and "已扣 3 积分" in copied
    # full-width punctuation, spaces and case do not hide a copy
    near = await checkin(chat, "bob", "今天 读完了 人类简史 第三章， 收获很大")
    assert "小黑屋 2 天" in near
    assert "小黑屋" in await checkin(chat, "bob", "我自己写的一句完全不同的话")
    await chat.advance("2d")
    assert "打卡成功" in await checkin(chat, "bob", "我自己写的一句完全不同的话")
    async with chat.runtime.db.transaction() as session:
        offences = (await session.scalars(select(CheckinOffence))).all()
    assert [o.copied_from for o in offences] == ["alice", "alice"]


async def test_repeating_your_own_habit_note_is_fine(on_both):
    chat = await on_both(config(reminder_at=None))
    assert "打卡成功" in await checkin(chat, "alice", "每天背单词三十个")
    await chat.advance("1d")
    assert "打卡成功" in await checkin(chat, "alice", "每天背单词三十个")


async def test_minimum_note_length(on_both):
    chat = await on_both(config(min_note_length=5, reminder_at=None))
    assert "至少 5 个字" in await checkin(chat, "alice", "好")
    assert "打卡成功" in await checkin(chat, "alice", "今天读了十页书")


async def test_freeze_days_keep_a_streak_alive(on_both):
    chat = await on_both(config(freezes_per_month=1, reminder_at=None), now="2026-11-20 09:00")
    await checkin(chat, "alice")
    await chat.advance("1d")
    await checkin(chat, "alice")
    await chat.advance("2d")  # the 22nd missed: one freeze covers it
    reply = await checkin(chat, "alice")
    assert "补给" in reply and "连续 4 天" in reply
    await chat.advance("2d")  # missed again: no freeze left this month
    assert "连续 1 天" in await checkin(chat, "alice")
    [mine] = await chat.say("alice", "/我的打卡")
    assert "本月补给 1/1" in mine.text and "❄" in mine.text


async def test_a_comeback_bonus_surprises_a_returning_member_once(on_both):
    chat = await on_both(config(comeback={"after_days": 3, "bonus": 10, "every_days": 30},
                                  reminder_at=None))
    await checkin(chat, "alice")
    await chat.advance("5d")
    assert "惊喜奖励 10 积分" in await checkin(chat, "alice")
    await chat.advance("5d")
    assert "惊喜" not in await checkin(chat, "alice")  # at most once per 30 days


async def test_my_checkins_and_the_boards(on_both):
    chat = await on_both(config(reminder_at=None), now="2026-11-23 08:00")
    for _ in range(3):
        await checkin(chat, "alice")
        await chat.advance("1d")
    await checkin(chat, "bob")
    await chat.advance("1m")
    await checkin(chat, "carol")
    [mine] = await chat.say("alice", "/我的打卡")
    assert "连续 3 天｜最长 3 天｜累计 3 天" in mine.text and "2026年11月" in mine.text
    assert mine.text.count("●") == 3 + 1  # three days plus the legend
    [board] = await chat.say("alice", "打卡榜")
    assert "今日打卡（2 人）" in board.text and "1. bob 08:00\n2. carol 08:01" in board.text
    assert "1. alice 3 天" in board.text


async def test_english_groups_get_english(on_both):
    chat = await on_both({"groups": {"g": {"name": "Corner", "language": "en",
                                             "plugins": {"checkin": SETTINGS}}}})
    assert "Checked in! #1 today" in await checkin(chat, "amy")


def test_note_normalization_ignores_width_spaces_punctuation_and_case():
    assert normalize_note("Ｈｅｌｌｏ， Ｗｏｒｌｄ！\u200b") == normalize_note("hello world")


async def test_quiet_takes_on_and_off_and_says_the_state(on_both):
    chat = await on_both(config(), now="2026-11-23 08:00")
    await checkin(chat, "bob")
    assert "已开启免打扰" in texts(await chat.say("bob", "/免打扰 开"))[0]
    assert "已经是开启的" in texts(await chat.say("bob", "/免打扰 开"))[0]
    await chat.advance("1d")
    assert await chat.advance("13h") == []  # 21:00: bob is not reminded
    assert "已关闭免打扰" in texts(await chat.say("bob", "/免打扰 off"))[0]
    assert "已经是关闭的" in texts(await chat.say("bob", "/免打扰 关"))[0]
    await chat.advance("11h")
    [reminder] = await chat.advance("13h")
    assert reminder.mentions == ("bob",)


async def test_members_who_left_are_not_reminded_until_they_come_back(on_both):
    chat = await on_both(config(), now="2026-11-23 08:00")
    for member in ("alice", "bob"):
        await checkin(chat, member)
    await chat.leave("bob")
    await chat.advance("1d")
    [reminder] = await chat.advance("13h")
    assert reminder.mentions == ("alice",)
    await chat.join("bob")
    await chat.advance("11h")
    [reminder] = await chat.advance("13h")
    assert set(reminder.mentions) == {"alice", "bob"}


async def test_members_inactive_for_n_days_are_no_longer_reminded(on_both):
    chat = await on_both(config(reminder_inactive_days=3), now="2026-11-23 08:00")
    await checkin(chat, "bob")
    reminded = []
    for _ in range(5):
        await chat.advance("11h")  # 19:00
        reminded += [d.at.date().day for d in await chat.advance("2h") if "bob" in d.mentions]
        await chat.advance("11h")  # 08:00 next day
    assert reminded == [24, 25, 26]  # the 23rd checked in; from the 27th on, inactive


async def test_a_freeze_that_carries_the_streak_past_a_milestone_pays_it_once(on_both):
    chat = await on_both(config(freezes_per_month=1, reminder_at=None), now="2026-11-20 09:00")
    await checkin(chat, "alice")
    await chat.advance("1d")
    await checkin(chat, "alice")
    await chat.advance("2d")  # the 22nd frozen: 2 → 4 passes the 3-day milestone
    replies = await chat.say("alice", "打卡")
    assert "连续 4 天" in replies[0].text and "+15 积分" in replies[0].text
    assert [r.text for r in replies[1:]] == ["🎉 恭喜连续打卡 3 天！奖励 10 积分，继续加油！"]
    await chat.advance("1d")
    assert len(await chat.say("alice", "打卡")) == 1  # streak 5: nothing paid again
    async with chat.runtime.db.transaction() as session:
        assert await ledger.balance(session, "g", "alice") == 4 * 5 + 10


async def test_a_makeup_joining_two_runs_pays_only_the_milestones_newly_passed(on_both):
    chat = await on_both(config(reminder_at=None, makeup={"cost": 0, "per_month": 5}),
                         now="2026-11-10 09:00")
    for _ in range(3):  # the 10th to the 12th: 3 days, the 3-day milestone paid
        await checkin(chat, "alice")
        await chat.advance("1d")
    await chat.advance("1d")  # the 13th missed
    for _ in range(3):  # the 14th to the 16th: a new run of 3, paid again
        await checkin(chat, "alice")
        await chat.advance("1d")
    await checkin(chat, "alice")  # the 17th: a run of 4
    await chat.advance("2d")  # the 18th missed, now the 19th
    await checkin(chat, "alice")  # the 19th: streak 1
    replies = await chat.say("alice", "补签")  # the 18th: 14th–17th (4) + 18th + 19th = 6
    assert "当前连续 6 天" in replies[0].text and len(replies) == 1  # 3 was paid, 7 not yet
    await chat.advance("1d")
    replies = await chat.say("alice", "打卡")  # streak 7: paid once
    assert any("连续打卡 7 天" in r.text for r in replies)


async def test_a_note_containing_anothers_note_is_a_copy(on_both):
    chat = await on_both(config(reminder_at=None))
    await chat.say("adam", "/加分 @bob 50 初始")
    await checkin(chat, "alice", "今天读完了《人类简史》第三章")
    copied = await checkin(chat, "bob", "今天读完了《人类简史》第三章。另外跑了五公里，很开心！")
    assert "太像了" in copied and "已扣 5 积分" in copied
    assert "打卡成功" in await checkin(chat, "carol", "今天读了书")  # too short to contain


async def test_the_original_author_is_never_the_copier(on_both):
    chat = await on_both(config(reminder_at=None, anti_copy={"window_days": 3}))
    await chat.say("adam", "/加分 @alice 50 初始")
    note = "每天坚持背三十个单词，今天也完成了"
    assert "打卡成功" in await checkin(chat, "alice", note)
    await chat.advance("5d")  # past the window: bob's copy goes unnoticed
    assert "打卡成功" in await checkin(chat, "bob", note)
    await chat.advance("1d")
    assert "打卡成功" in await checkin(chat, "alice", note)  # her own habit note, written first
    async with chat.runtime.db.transaction() as session:
        assert (await session.scalars(select(CheckinOffence))).all() == []
        assert await ledger.balance(session, "g", "alice") == 60


async def test_the_offence_that_opens_the_blackroom_is_fined_too(on_both):
    chat = await on_both(config(reminder_at=None, anti_copy={
        "penalty_points": 3, "offences_before_blackroom": 2, "blackroom_days": 2}))
    await chat.say("adam", "/加分 @bob 50 初始")
    await checkin(chat, "alice", "今天读完了《人类简史》第三章，收获很大")
    await checkin(chat, "bob", "今天读完了《人类简史》第三章，收获很大")
    boxed = await checkin(chat, "bob", "今天读完了《人类简史》第三章，收获很大！")
    assert "已扣 3 积分" in boxed and "小黑屋 2 天" in boxed
    async with chat.runtime.db.transaction() as session:
        assert await ledger.balance(session, "g", "bob") == 44


async def test_levels_from_history_shown_and_announced(on_both):
    chat = await on_both(config(reminder_at=None, levels=[1, 3, 5]))
    first = await checkin(chat, "alice")
    assert "升级啦！你现在是 Lv1 新芽" in first
    await chat.advance("1d")
    assert "升级" not in await checkin(chat, "alice")
    [mine] = await chat.say("alice", "/我的打卡")
    assert "等级：Lv1 新芽｜再打卡 1 天升到 Lv2 学徒" in mine.text
    await chat.advance("1d")
    assert "你现在是 Lv2 学徒" in await checkin(chat, "alice")
    [newcomer] = await chat.say("amy", "/mycheckin")
    assert "等级：还没有等级" in newcomer.text
