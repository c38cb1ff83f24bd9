"""Chinese input through the whole bot (issue 13): every form members type is understood,
by every plugin, through bot/input.py."""

from __future__ import annotations

import re

import pytest

from bot.testing import FakeChat
from plugins.checkin.models import CheckinRecord

NOW = "2026-11-23 15:00"  # a Monday
CONFIG = {"groups": {
    "g": {"name": "读书会", "owner": "alice", "admins": ["bob"], "plugins": {
        "checkin": {"reminder_at": None, "comeback": {"bonus": 0}},
        "points": {}, "redpacket": {}, "lottery": {}, "minigames": {}}},
}}



async def grant(chat: FakeChat, member: str, amount: int) -> None:
    await chat.say("bob", f"/加分 @{member} {amount}")


@pytest.mark.parametrize("message", ["打卡：今天读了10页", "打卡:今天读了10页",
                                     "打卡，今天读了10页", "打卡,今天读了10页",
                                     "打卡~今天读了10页", "打卡～今天读了10页",
                                     "#打卡 今天读了10页", "＃打卡：今天读了10页",
                                     "【打卡】今天读了10页", "【打卡】 今天读了10页"])
async def test_keyword_command_forms_are_commands(make_chat, message: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [reply] = await chat.say("amy", message)
    assert reply.text.startswith("打卡成功")
    async with chat.runtime.db.transaction() as session:
        record = await session.get(CheckinRecord, 1)
    assert record is not None and record.note == "今天读了10页"


@pytest.mark.parametrize("message", ["#打卡", "【打卡】", "＃打卡"])
async def test_wrapped_command_words_alone(make_chat, message: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [reply] = await chat.say("amy", message)
    assert reply.text.startswith("打卡成功")


async def test_chat_that_merely_starts_like_a_command_word_is_not_one(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert await chat.say("amy", "打卡片：在哪里买") == []
    assert await chat.say("amy", "#读书 今天") == []
    assert await chat.say("amy", "【公告】今晚停电") == []


@pytest.mark.parametrize(("amount", "points"), [("十", 10), ("一百", 100), ("两", 2),
                                                 ("1千", 1000), ("５０", 50), ("1,000", 1000),
                                                 ("10积分", 10), ("二十分", 20)])
async def test_points_adjustments_in_any_number_form(make_chat, amount: str, points: int) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [reply] = await chat.say("bob", f"/加分 @amy {amount} 分享干货")
    assert f"加 {points} 积分（分享干货）" in reply.text
    assert await chat.balance("amy") == points


async def test_red_packets_in_chinese_numerals(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await grant(chat, "amy", 500)
    [sent] = await chat.say("amy", "发红包 一百 十 周末快乐")
    assert "100 积分，10 份" in sent.text and "周末快乐" in sent.text
    [again] = await chat.say("amy", "发红包 １００积分 两个")
    assert "100 积分，2 份" in again.text
    assert await chat.balance("amy") == 300
    [pool] = await chat.say("bob", "红包池 充值 一千")
    assert "充值 1000 积分" in pool.text


async def test_a_sixty_digit_amount_is_refused_at_once(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await grant(chat, "amy", 500)
    for command in ("发红包 " + "9" * 60 + " 10", "发红包 100 " + "9" * 60,
                    "/加分 @amy " + "9" * 60, "扎 " + "9" * 60, "骰子 " + "9" * 60):
        [refused] = await chat.say("bob" if command[0] in "/骰" else "amy", command)
        assert "之间" in refused.text or "用法" in refused.text or "没有气球" in refused.text
    assert await chat.balance("amy") == 500


async def test_dice_and_balloons_in_chinese_numerals(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [dice] = await chat.say("bob", "骰子 六 夸夸一分钟")
    assert "最先掷出 6 点" in dice.text
    await chat.say("bob", "结束骰子")
    [balloons] = await chat.say("bob", "放气球 五 五十积分 奶茶")
    assert "放了 5 个气球" in balloons.text
    [popped] = await chat.say("amy", "扎 三")
    assert "3 号气球" in popped.text
    [again] = await chat.say("cy", "扎气球 ３号")
    assert "3 号已经被扎破" in again.text


@pytest.mark.parametrize(("when", "shown"), [
    ("1小时", "11-23 16:00"), ("2小时", "11-23 17:00"), ("30分钟", "11-23 15:30"),
    ("半小时", "11-23 15:30"), ("今晚9点", "11-23 21:00"), ("明天中午12点", "11-24 12:00"),
    ("周五20:00", "11-27 20:00"), ("11月30日 20:00", "11-30 20:00"), ("2h", "11-23 17:00"),
])
async def test_lottery_deadlines_as_members_write_them(make_chat, when: str, shown: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [created] = await chat.say("bob", f"发起抽奖 我要抽奖 {when} 一等奖*1")
    assert f"截止：{shown}" in created.text and "奖品：一等奖 × 1" in created.text


@pytest.mark.parametrize("when", ["今天9点", "11月20日 20:00", "周一10:00"])
async def test_a_lottery_deadline_already_past_is_refused(make_chat, when: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [refused] = await chat.say("bob", f"发起抽奖 我要抽奖 {when} 一等奖*1")
    assert "已经过去了" in refused.text
    assert await chat.say("amy", "我要抽奖") == []


async def test_points_prizes_with_any_multiplier_are_paid(make_chat, database_url) -> None:
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    [created] = await chat.say("bob", "发起抽奖 我要抽奖 1小时 ５０积分＊２ 奶茶×三")
    assert "５０积分 × 2" in created.text and "奶茶 × 3" in created.text
    for member, message in (("amy", "我要抽奖～"), ("bo", "我要抽奖🙏"), ("cy", "我要抽奖！"),
                            ("dan", "我要抽奖[合十]"), ("eve", "我要抽奖")):
        [joined] = await chat.say(member, message)
        assert "已参与抽奖" in joined.text, message
    await chat.advance("1h")
    points = {m: await chat.balance(m) for m in ("amy", "bo", "cy", "dan", "eve")}
    assert sorted(points.values()) == [0, 0, 0, 50, 50]


@pytest.mark.parametrize("prize", ["一等奖*0", "奶茶×" + "9" * 60])
async def test_a_bad_winner_count_is_refused(make_chat, prize: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [refused] = await chat.say("bob", f"发起抽奖 我要抽奖 1小时 {prize}")
    assert "奖品格式不对" in refused.text


# ---- points ranking and English groups (issue 13, "Owners and English groups") -----------

ENGLISH = {"groups": {"e": {"name": "Corner", "language": "en", "owner": "olga",
                            "admins": ["bob"], "plugins": {
                                "checkin": {"reminder_at": None, "comeback": {"bonus": 0}},
                                "points": {}, "redpacket": {}, "lottery": {},
                                "minigames": {}}}}}
CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_a_member_with_no_points_has_no_rank(make_chat) -> None:
    chat = await make_chat({"groups": {**CONFIG["groups"], **ENGLISH["groups"]}}, now=NOW)
    [zero] = await chat.say("amy", "积分")
    assert "还没有排名" in zero.text and "第 1 名" not in zero.text
    await grant(chat, "amy", 5)
    [ranked] = await chat.say("amy", "积分")
    assert ranked.text == "你的积分：5，本群第 1 名。"
    [english] = await chat.say("cy", "/points", group="Corner")
    assert "no rank yet" in english.text


async def test_english_groups_see_singulars_english_commands_and_english_lists(make_chat) -> None:
    chat = await make_chat(ENGLISH, now=NOW)
    said: list[str] = []
    [first] = await chat.say("amy", "/checkin")
    assert "1-day streak | 1 day total | +5 points" in first.text
    said.append(first.text)
    said += [d.text for d in await chat.say("amy", "/quiet")]
    assert "Send /quiet off" in said[-1]
    await chat.say("bob", "/addpoints @amy 10")
    [packet] = await chat.say("amy", "/redpacket 2 2")
    assert "2 points in 2 shares" in packet.text and "Send /grab" in packet.text
    [grabbed] = await chat.say("cy", "/grab")
    assert "You got 1 point!" in grabbed.text
    [draw] = await chat.say("bob", "/draw join 1h book*1 50points*2")
    assert "Prizes: book × 1, 50points × 2" in draw.text
    [usage] = await chat.say("bob", "/dice")
    [none] = await chat.say("amy", "/pop 3")
    said += [packet.text, grabbed.text, draw.text, usage.text, none.text]
    assert not [text for text in said if CJK.search(text)]


def test_points_prizes_in_any_number_form_are_paid_in_points() -> None:
    from plugins.lottery.service import points_paid, prize_points
    from plugins.minigames.service import prize_points as balloon_points

    for prize in ("50积分", "５０积分", "五十积分", "50 points", "50分"):
        assert prize_points(prize) == balloon_points(prize) == 50, prize
    for prize in ("奶茶", "50元", "二等奖", "万能积分", "-5积分"):
        assert prize_points(prize) == balloon_points(prize) == 0, prize
    assert points_paid([("５０积分", 2), ("奶茶", 3)]) == 100
