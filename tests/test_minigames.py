"""骰子 and 扎气球: an admin sets the game, members play it, prizes paid once."""

from __future__ import annotations

import asyncio
import random

from bot.testing import texts

CONFIG = {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"],
                           "plugins": {"minigames": {"rolls_per_member": 2}, "points": {}}}}}
NOW = "2026-11-23 20:00"


class Dice(random.Random):
    """Rolls the given values in turn (then 1 forever)."""

    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = list(values)

    def randint(self, a: int, b: int) -> int:
        return self.values.pop(0) if self.values else 1


def load_dice(chat, values: list[int]) -> None:
    chat.runtime.services.plugin_state.setdefault("minigames", {})["rng"] = Dice(values)



async def test_dice_first_to_roll_the_target_wins(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert "没有骰子游戏" in texts(await chat.say("amy", "掷骰子"))[0]
    assert "只有管理员" in texts(await chat.say("amy", "骰子 3"))[0]
    assert "用法" in texts(await chat.say("bob", "骰子 7"))[0]
    started = texts(await chat.say("bob", "骰子 3 30积分"))[0]
    assert "最先掷出 3 点" in started and "30积分" in started
    assert "已经有一局" in texts(await chat.say("bob", "骰子 5"))[0]
    load_dice(chat, [5, 2, 3, 3])
    assert "amy 掷出了 5 点" in texts(await chat.say("amy", "掷骰子"))[0]
    assert "掷出了 2 点" in texts(await chat.say("amy", "摇骰子"))[0]
    assert "已经掷了 2 次" in texts(await chat.say("amy", "掷骰子"))[0]
    won = await chat.say("cy", "🎲")
    assert "cy 掷出了 3 点，赢得「30积分」" in won[0].text and won[0].mentions == ("cy",)
    assert await chat.balance("cy") == 30
    assert "没有骰子游戏" in texts(await chat.say("dan", "掷骰子"))[0]


async def test_dice_can_be_stopped_and_text_prizes_pay_no_points(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "骰子 6 群内不间断夸奖你一分钟")
    load_dice(chat, [6])
    assert "夸奖你一分钟" in texts(await chat.say("amy", "掷骰子"))[0]
    assert await chat.balance("amy") == 0
    await chat.say("bob", "骰子 4")
    assert "没有人掷出 4 点" in texts(await chat.say("bob", "结束骰子"))[0]


async def test_concurrent_winning_rolls_have_one_winner(make_chat, database_url) -> None:
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    await chat.say("bob", "骰子 3 10积分")
    load_dice(chat, [3] * 20)
    await asyncio.gather(*(chat.say(f"m{n}", "掷骰子") for n in range(8)))
    assert sum("点，赢得" in t for t in texts(chat.sent)) == 1
    assert sum([await chat.balance(f"m{n}") for n in range(8)]) == 10


async def test_balloons_each_popped_once_one_per_member(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert "没有气球" in texts(await chat.say("amy", "扎气球 1"))[0]
    assert "数量" in texts(await chat.say("bob", "放气球 1 奖"))[0]
    assert "奖品不能比气球多" in texts(await chat.say("bob", "放气球 2 a b c"))[0]
    started = texts(await chat.say("bob", "放气球 3 50积分 夸夸一分钟"))[0]
    assert "3 个气球" in started
    assert "1 到 3" in texts(await chat.say("amy", "扎气球 9"))[0]
    assert "1 到 3" in texts(await chat.say("amy", "扎气球"))[0]
    popped = texts(await chat.say("amy", "扎气球 2"))[0]
    assert "amy 扎破了 2 号气球" in popped
    assert "每人一次" in texts(await chat.say("amy", "扎 1"))[0]
    assert "已经被扎破" in texts(await chat.say("cy", "扎气球 2"))[0]
    await chat.say("cy", "扎 1")
    last = texts(await chat.say("dan", "扎 3"))
    assert "全部扎完" in last[-1]
    for prize in ("50积分", "夸夸一分钟", "空气球"):
        assert prize in last[-1]
    paid = [await chat.balance(m) for m in ("amy", "cy", "dan")]
    assert sorted(paid) == [0, 0, 50]


async def test_balloons_stopped_reveal_the_rest(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("bob", "放气球 2 书 笔")
    await chat.say("amy", "扎气球 1")
    rest = texts(await chat.say("bob", "结束气球"))[0]
    assert "2 号" in rest and "1 号" not in rest


async def test_numbers_with_units_full_width_or_absurd_sizes(make_chat) -> None:
    chat = await make_chat({**CONFIG, "limits": {"commands_per_minute": 100}}, now=NOW)
    started = texts(await chat.say("bob", "骰子 ３点 夸夸一分钟"))[0]
    assert "最先掷出 3 点" in started and "「夸夸一分钟」" in started
    load_dice(chat, [3])
    assert "赢得「夸夸一分钟」" in texts(await chat.say("amy", "掷骰子"))[0]
    for bad in ("骰子 3abc", "骰子 0", "骰子 99999999999999999999"):
        assert "用法" in texts(await chat.say("bob", bad))[0], bad
    assert "2 到 30" in texts(await chat.say("bob", "放气球 99999999999999999999"))[0]
    assert "3 个气球" in texts(await chat.say("bob", "放气球 3个 书"))[0]
    assert "扎破了 2 号" in texts(await chat.say("amy", "扎气球 2号"))[0]
    assert "1 到 3" in texts(await chat.say("cy", "扎气球 99999999999999999999"))[0]
    assert "扎破了 3 号" in texts(await chat.say("cy", "扎 ３"))[0]


async def test_english_groups_see_english(make_chat) -> None:
    cfg = {"groups": {"g": {"name": "club", "owner": "alice", "language": "en",
                            "plugins": {"minigames": {}}}}}
    chat = await make_chat(cfg, now=NOW)
    assert "The first to roll a 4 wins" in texts(await chat.say("alice", "骰子 4 book"))[0]
    load_dice(chat, [2])
    assert "amy rolled a 2" in texts(await chat.say("amy", "掷骰子"))[0]
    assert "2 balloons" in texts(await chat.say("alice", "放气球 2 book"))[0]
    assert "popped balloon 1" in texts(await chat.say("amy", "扎气球 1"))[0]
