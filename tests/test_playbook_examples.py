"""examples/tags.txt, invites.txt and recap.txt (issue 17), played as users and CI play
them: a week of 亲子阅读 each, with the points they show checked on what the group saw."""

from __future__ import annotations

from tests.transcripts import play


def _play(name: str) -> list[dict]:
    """What the bot sent to 亲子阅读 (other groups' timed posts run too, and are dropped)."""
    return [m for m in play(name) if m["group"] == "demo-parents"]


def _first(sent: list[dict], start: str) -> dict:
    return next(m for m in sent if m["text"].startswith(start))


def test_tags_example_questionnaire_targeted_post_random_topic_and_automatic_tags():
    sent = _play("tags.txt")
    assert _first(sent, "谢谢 lily")["text"] == "谢谢 lily！已记下：宝妈、朋友推荐"
    assert _first(sent, "谢谢 mia")["text"] == "谢谢 mia！已记下：公众号、宝妈"
    assert not any(m["text"].startswith("谢谢 noah") for m in sent)
    assert sum(m["mentions"] == ["noah"] for m in sent) == 1  # asked once, never nagged
    assert _first(sent, "标签「宝妈」")["text"] == "标签「宝妈」共 2 人：lily、mia"
    special = _first(sent, "宝妈专场")
    assert special["mentions"] == ["lily", "mia"]
    assert special["at"].startswith("2026-11-25T20:00")
    topics = [m["at"][11:16] for m in sent if m["text"].startswith("今晚话题")]
    # One a day from Monday to Saturday (the week ends Sunday morning), at drawn moments.
    assert len(topics) == 6 and len(set(topics)) > 1
    assert all("19:00" <= t < "21:30" for t in topics)
    assert _first(sent, "标签「连续打卡」")["text"] == "标签「连续打卡」共 1 人：lily"
    assert _first(sent, "标签「潜水」")["text"] == "标签「潜水」共 1 人：noah"
    assert _first(sent, "lily 的标签")["text"] == "lily 的标签：宝妈、朋友推荐、普通、连续打卡"


def test_invites_example_counts_stayers_reverses_leavers_and_pays_the_bonus():
    sent = _play("invites.txt")
    thanks = _first(sent, "欢迎 lily！")
    assert thanks["mentions"] == ["alice"] and "+10 积分" in thanks["text"]
    assert _first(sent, "已登记")["text"] == "已登记：ivy 由 lily 邀请。"
    boards = [m["text"] for m in sent if "邀请榜" in m["text"]]
    assert "本月：\n（暂无）" in boards[0]  # nobody has stayed 3 days yet
    assert "1. alice 3.5 人\n2. lily 1 人" in boards[1]  # noah silent: ½; zoe left: 0
    assert "1. alice 2.5 人" in boards[2]  # mia left the group
    assert [m["text"] for m in sent if m["mentions"] == ["mallory"]][-1].startswith("你的积分：0")
    assert _first(sent, "🎉 alice 已邀请 3 位")["text"].endswith("奖励 30 积分！")
    assert _first(sent, "你的积分：65")  # 4 × 10, 5 back for silent noah, 30 bonus
    assert _first(sent, "标签「邀请达人」")["text"] == "标签「邀请达人」共 2 人：alice、lily"


def test_recap_example_credits_yesterday_and_previews_and_announces_events():
    sent = _play("recap.txt")
    monday = _first(sent, "【昨日回顾】11-23")
    assert monday["text"].splitlines()[1:] == [
        "💬 lily：「三岁的孩子坐不住，大家睡前阅读怎么开始的？」（3 条回复）",
        "❓ ivy 问：「怎么退群」（已解答）",
        "✅ 昨天 2 人打卡",
        "📝 lily：「今天试了翻翻书，孩子自己翻了十分钟，比平时专注多了」",
        "📝 mia：「读了两本」",
    ]
    assert monday["mentions"] == ["lily", "ivy", "mia"] and monday["at"][11:16] == "08:00"
    tuesday = _first(sent, "【昨日回顾】11-24")
    assert "【今日预告】\n📅 20:00 线上共读：《猜猜我有多爱你》" in tuesday["text"]
    soon = _first(sent, "⏰ 30 分钟后开始：线上共读")
    assert soon["at"].startswith("2026-11-25T19:30")
    saturday = _first(sent, "【今日预告】")
    assert saturday["text"] == "【今日预告】\n📅 10:00 周六线下绘本会（市图书馆二楼）"


def test_surprise_example_reaches_the_fading_member_once_before_he_is_gone():
    sent = _play("surprise.txt")
    surprises = [m for m in sent if m["text"].startswith("🎁")]
    assert len(surprises) == 1 and surprises[0]["mentions"] == ["dave"]
    assert "20 积分" in surprises[0]["text"]
    assert surprises[0]["at"].startswith("2026-12-0")  # in the quiet fifth week, not before
