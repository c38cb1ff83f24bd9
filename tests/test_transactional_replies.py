"""Issue 14, point 2: what reports a state change is written in the transaction that makes
it. Each case kills the bot after the handler's commit and before the outbox's own write
(its group commit, or the flush at the end of a message, timer or job): after the restart
the report goes out exactly once, and the state it reports is there.

A job's slot is marked done in the job's first transaction (bot/scheduler.py's SlotUnit):
its posts are written there too, or a kill would keep the slot done and lose them."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.testing import FakeChat, texts
from tests.test_surprise import _history as fading_history

ROOT = Path(__file__).resolve().parents[1]
Step = Callable[[FakeChat], Awaitable[Any]]
CHECKIN = {"points": 5, "milestones": {3: 10}, "reminder_at": None, "freezes_per_month": 0,
           "comeback": {"bonus": 0}, "makeup": {"cost": 20, "per_month": 1}}
MODERATION = {"banned_words": ["傻瓜"], "escalation": ["warn", "blackroom:2"]}
QUESTIONS = [{"text": "你是怎么找到我们的？", "choices": ["朋友推荐", "公众号"]},
             {"text": "你的身份？", "choices": ["宝妈", "学生"]}]
PLUGINS: dict[str, dict[str, Any]] = {
    "checkin": {"points": {}, "checkin": CHECKIN},
    "invites": {"points": {}, "invites": {"points": 10}},
    "lottery": {"points": {}, "lottery": {}},
    "minigames": {"points": {}, "minigames": {"rolls_per_member": 1}},
    "moderation": {"points": {}, "moderation": MODERATION},
    "qa": {"qa": {"faq_files": ["faq/reading-club.yaml"]}},
    "redpacket": {"points": {}, "redpacket": {"expires_after": "24h"}},
    "tags": {"tags": {"questions": QUESTIONS}},
    "reminder": {"points": {}, "checkin": {"reminder_at": "21:00"}},
    "tagged reminder": {"tags": {}, "checkin": {"reminder_at": "21:00",
                                                "reminder_tags": ["宝妈"]}},
    "surprise": {"points": {}, "surprise": {"bonus": 20}},
    "recap": {"checkin": {}, "recap": {}},
    "topic": {"timed_posts": {"posts": [{"at": "10:00", "pool": "q"}],
                              "pools": {"q": ["话题一", "话题二"]}}},
    "tagged post": {"tags": {}, "timed_posts": {"posts": [{"at": "10:00", "text": "宝妈们早",
                                                           "tags": ["宝妈"]}]}},
}


def say(*messages: tuple[str, str]) -> Step:
    async def run(chat: FakeChat) -> None:
        for member, text in messages:
            await chat.say(member, text)
    return run


def steps(*parts: Step) -> Step:
    async def run(chat: FakeChat) -> None:
        for part in parts:
            await part(chat)
    return run


def join(member: str, inviter: str | None = None) -> Step:
    return lambda chat: chat.join(member, inviter=inviter)


def leave(member: str) -> Step:
    return lambda chat: chat.leave(member)


def advance(delta: str) -> Step:
    return lambda chat: chat.advance(delta)


def at(local: str) -> Step:
    return lambda chat: chat.advance_to(local)


def give(member: str, amount: int) -> Step:
    return lambda chat: chat.give(member, amount)


def message(member: str, text: str) -> Step:
    """A message handled by the dispatcher alone (nothing sent or settled after it)."""
    return lambda chat: chat.runtime.dispatcher.handle(chat.chat.message(chat.group, member, text))


async def nothing(chat: FakeChat) -> None:
    """No setup."""


@dataclass(frozen=True)
class Case:
    plugin: str
    setup: Step
    do: Step  # killed right after this: the outbox wrote nothing of it
    shown: str  # in what reports the change: sent once after the restart
    then: tuple[str, str] | None = None  # a message after the restart ...
    kept: str = ""  # ... whose answer shows the change was kept
    now: str = "2026-11-10 09:00"


DRAW = ("bob", "发起抽奖 口令 2h 书*1")
DICE, BALLOONS = ("bob", "骰子 3"), ("bob", "放气球 3 书")
CASES = {
    "checkin.make_up": Case(
        "checkin", steps(say(("bob", "/加分 @alice 100 启动"), ("alice", "打卡")), advance("2d"),
                         say(("alice", "打卡"))),
        message("alice", "补签"), "补签成功", ("alice", "补签"), "不需要补签"),
    "checkin.quiet": Case("checkin", nothing, message("carol", "/免打扰"), "已开启免打扰",
                          ("carol", "/免打扰"), "免打扰已经是开启的"),
    "invites.record_join": Case("invites", nothing, join("carol", "alice"), "感谢 alice 的邀请",
                                ("bob", "邀请人 @carol @dave"), "carol 的邀请人已经是 alice"),
    "invites.set_inviter": Case("invites", join("carol"), message("bob", "邀请人 @carol @dave"),
                                "已登记：carol 由 dave 邀请", ("bob", "邀请人 @carol @erin"),
                                "carol 的邀请人已经是 dave"),
    "lottery.create_draw": Case("lottery", nothing, message(*DRAW), "口令", ("amy", "口令"),
                                "已参与抽奖"),
    "lottery.join_by_keyword": Case("lottery", say(DRAW), message("amy", "口令"), "已参与抽奖",
                                    ("amy", "口令"), "已经参与过"),
    "lottery.cancel_draw": Case("lottery", say(DRAW, ("amy", "口令")), message("bob", "取消抽奖"),
                                "已被管理员 bob 取消", ("amy", "抽奖"), "现在没有进行中的抽奖"),
    "lottery.draw_due (timer)": Case("lottery", say(DRAW, ("amy", "口令")), advance("2h"),
                                     "共 1 人参与", ("amy", "抽奖"), "现在没有进行中的抽奖"),
    "minigames.start_dice": Case("minigames", nothing, message(*DICE), "骰子游戏开始", DICE,
                                 "已经有一局骰子游戏"),
    "minigames.roll": Case("minigames", say(DICE), message("amy", "掷骰子"), "amy 掷出了",
                           ("amy", "掷骰子"), "你这局已经掷了 1 次"),
    "minigames.stop_dice": Case("minigames", say(DICE), message("bob", "结束骰子"),
                                "骰子游戏已结束", ("amy", "掷骰子"), "现在没有骰子游戏"),
    "minigames.start_balloons": Case("minigames", nothing, message(*BALLOONS), "放了 3 个气球",
                                     BALLOONS, "已经有一局扎气球"),
    "minigames.pop": Case("minigames", say(BALLOONS), message("amy", "扎气球 1"),
                          "扎破了 1 号气球", ("cy", "扎气球 1"), "1 号已经被扎破了"),
    "minigames.stop_balloons": Case("minigames", say(BALLOONS), message("bob", "结束气球"),
                                    "扎气球结束", ("amy", "扎气球 1"), "现在没有气球可以扎"),
    "moderation.act": Case("moderation", nothing, message("amy", "我是傻瓜啊"), "请注意群规",
                           ("bob", "撤销警告 @amy"), "已撤销对 amy 的处理"),
    "moderation.warn": Case("moderation", nothing, message("bob", "警告 @amy 刷屏"),
                            "管理员警告：刷屏", ("bob", "撤销警告 @amy"), "已撤销对 amy 的处理"),
    "moderation.unwarn": Case("moderation", say(("bob", "警告 @amy 刷屏")),
                              message("bob", "撤销警告 @amy"), "已撤销对 amy 的处理",
                              ("bob", "撤销警告 @amy"), "没有可以撤销的处理"),
    "moderation.misjudged": Case("moderation", say(("amy", "我是傻瓜啊")), message("bob", "误判"),
                                 "本群以后允许", ("bob", "误判"), "没有可以撤销的处理"),
    "moderation.member_joined": Case(
        "moderation", steps(say(("amy", "我是傻瓜"), ("amy", "傻瓜")), leave("amy")), join("amy"),
        "小黑屋成员 amy 重新入群了", ("bob", "撤销警告 @amy"), "已撤销对 amy 的处理"),
    "qa.answer_question": Case("qa", nothing, message("carol", "@小助手 请问怎么退出这个群"),
                               "删除并退出", ("carol", "@小助手 请问怎么退出这个群"),
                               "刚刚回答过"),
    "qa.teach": Case("qa", nothing, message("adam", "教 停车 => 图书馆地下车库免费"),
                     "学会了：「停车」", ("carol", "@小助手 停车"), "图书馆地下车库免费"),
    "qa.forget": Case("qa", say(("adam", "教 停车 => 图书馆地下车库免费")),
                      message("adam", "忘记 停车"), "已忘记", ("adam", "忘记 停车"), "没有教过"),
    "redpacket.pool": Case("redpacket", nothing, message("bob", "红包池 充值 100"),
                           "已向红包池充值 100", ("amy", "红包池"), "红包池余额：100"),
    "redpacket.expire (timer)": Case("redpacket",
                                     steps(give("amy", 100), say(("amy", "发红包 10 2"))),
                                     advance("25h"), "已过期", ("amy", "积分"), "你的积分：100"),
    "tags.tag": Case("tags", nothing, message("bob", "标签 @carol 新人"), "已给 carol 加上标签",
                     ("bob", "/标签 新人"), "共 1 人"),
    "tags.untag": Case("tags", say(("bob", "标签 @carol 新人")),
                       message("bob", "去标签 @carol 新人"), "已去掉 carol 的标签",
                       ("bob", "/标签 新人"), "还没有成员带标签"),
    "tags.ask_newcomer": Case("tags", nothing, join("carol"), "你是怎么找到我们的",
                              ("carol", "1"), "你的身份"),
    "tags.take_answer": Case("tags", join("carol"), message("carol", "1"), "你的身份",
                             ("carol", "2"), "谢谢 carol"),
    "checkin.run_job (job)": Case("reminder", say(("amy", "打卡")), at("2026-11-11 21:00"),
                                  "今天还没打卡"),
    "checkin.run_job tagged (job)": Case("tagged reminder",
                                         say(("amy", "打卡"), ("bob", "标签 @amy 宝妈")),
                                         at("2026-11-11 21:00"), "今天还没打卡"),
    "surprise.give_surprises (job)": Case("surprise", fading_history, at("2026-11-23 20:00"),
                                          "20 积分", ("fader", "积分"), "你的积分：20",
                                          now="2026-11-23 12:00"),
    "recap.post_recap (job)": Case("recap", say(("bob", "打卡 终于理解了猜疑链")),
                                   at("2026-11-11 08:00"), "猜疑链"),
    "timed_posts.send_post topic (job)": Case("topic", nothing, at("2026-11-10 10:00"), "话题"),
    "timed_posts.send_post tagged (job)": Case("tagged post", say(("bob", "标签 @amy 宝妈")),
                                               at("2026-11-10 10:00"), "宝妈们早"),
}


def config(plugin: str) -> dict[str, Any]:
    return {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob", "adam"],
                             "plugins": PLUGINS[plugin]}}}


async def _killed() -> None:
    """The outbox's own write, in a process killed before it ran."""


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_kill_after_the_commit_keeps_the_report_and_the_state(make_chat, tmp_path,
                                                                      case: Case) -> None:
    (tmp_path / "config" / "faq").mkdir(parents=True)
    shutil.copy(ROOT / "config/faq/reading-club.yaml", tmp_path / "config" / "faq")
    chat = await make_chat(config(case.plugin), now=case.now)
    await case.setup(chat)
    outbox = chat.runtime.outbox
    outbox.hold()  # nothing goes out before the kill
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "flush", _killed)
        await case.do(chat)
    chat = await chat.crash()
    await chat.advance("1m")  # a slot's catch-up would run now
    assert len([t for t in texts(chat.sent) if case.shown in t]) == 1, texts(chat.sent)
    if case.then is not None:
        assert case.kept in "\n".join(texts(await chat.say(*case.then)))
