"""The morning briefing: local times, feeds through a cache, failures, no repeats, on demand."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import PLUGINS as ALL
from bot.config import ConfigError, load_config
from bot.testing import texts
from plugins.briefing.feeds import parse
from plugins.briefing.service import ELLIPSIS, clip

FEEDS = Path(__file__).parent / "feeds"
CURATED = """\
days:
  2026-11-23:
    items:
      - 本周共读《活着》第 1-3 章
      - text: 周末沙龙报名开始
        tags: [reading]
    closing: 今日话题：{weekday}读什么？
  2026-11-24:
    items:
      - 今晚 9 点打卡截止
"""


def _files(tmp_path: Path) -> None:
    (tmp_path / "config" / "briefing" / "feeds").mkdir(parents=True, exist_ok=True)
    (tmp_path / "config" / "briefing" / "club.yaml").write_text(CURATED, encoding="utf-8")
    for name in ("news.xml", "tech.atom", "broken.xml"):
        shutil.copy(FEEDS / name, tmp_path / "config" / "briefing" / "feeds" / name)


def _group(name: str, briefing: dict, **extra: object) -> dict:
    return {"name": name, "plugins": {"briefing": briefing}, **extra}


def _transport(chat, handler) -> None:
    chat.runtime.services.plugin_state.setdefault("briefing", {})["transport"] = \
        httpx.MockTransport(handler)


async def test_posts_at_nine_local_time_in_each_groups_timezone(make_chat, tmp_path):
    _files(tmp_path)
    chat = await make_chat({"groups": {
        "sh": _group("读书会", {"files": ["briefing/club.yaml"]}, tags=["reading"]),
        "ldn": _group("London", {"files": ["briefing/club.yaml"]}, timezone="Europe/London",
                      language="en"),
    }}, now="2026-11-23 08:00")
    posts = await chat.advance("1d")
    first = [p for p in posts if p.at.day == 23]
    assert [(p.group_id, p.at.isoformat()) for p in first] == [
        ("sh", "2026-11-23T09:00:00+08:00"), ("ldn", "2026-11-23T09:00:00+00:00")]
    shanghai, london = first[0].text.splitlines(), first[1].text.splitlines()
    assert shanghai[:2] == ["【每日早报】2026年11月23日 星期一", "农历十月十五 · 小雪"]
    assert shanghai[2:] == ["1. 本周共读《活着》第 1-3 章", "2. 周末沙龙报名开始", "——",
                            "今日话题：星期一读什么？"]
    assert london[:2] == ["Morning briefing · Monday, 23 November 2026",
                          "Lunar 10/15 · Minor Snow"]
    assert "2. 周末沙龙报名开始" not in london  # tagged item: only groups sharing the tag


async def test_feeds_are_fetched_ahead_and_the_post_reads_the_cache(make_chat, tmp_path):
    _files(tmp_path)
    calls: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        calls.append(str(chat.clock.now().astimezone(chat.chat.timezone).time()))
        return httpx.Response(200, content=(FEEDS / "tech.atom").read_bytes())

    chat = await make_chat({"groups": {"g": _group("读书会", {
        "items": 5, "item_length": 20,
        "feeds": [{"url": "briefing/feeds/news.xml", "max_items": 3},
                  {"url": "https://feeds.example.org/tech", "max_items": 3}]})}},
        now="2026-11-23 08:00")
    _transport(chat, serve)
    [post] = await chat.advance("2h")
    lines = post.text.splitlines()[2:]
    # Never fetched: once at start (08:00), then ahead of the post; nothing at 09:00.
    assert calls == ["08:00:00", "08:30:00"]
    # Feeds in turn; markup and entities cleaned; long titles cut at a space or mark.
    assert lines == ["1. 《三体》英文版销量突破千万册", "2. Python 3.15 beta…",
                     "3. 国家图书馆推出夜间阅读季 & 周末讲座", "4. SQLite adds a new…",
                     "5. 年度好书榜单公布：十本小说入选…"]
    assert all(len(line.split(". ", 1)[1]) <= 20 for line in lines)


async def test_a_failing_feed_falls_back_and_operators_hear_once(make_chat, tmp_path):
    _files(tmp_path)
    state = {"up": True}

    def serve(request: httpx.Request) -> httpx.Response:
        if not state["up"]:
            raise httpx.ConnectTimeout("timed out", request=request)
        return httpx.Response(200, content=(FEEDS / "tech.atom").read_bytes())

    chat = await make_chat({
        "operators": [{"id": "op_wang"}, {"id": "op_li", "groups": ["tag:english"]}],
        "groups": {"g": _group("读书会", {
            "files": ["briefing/club.yaml"], "items": 3,
            "feed_max_age": "7d",  # tech.atom's items are 1-4 days old on the 24th
            "feeds": [{"url": "https://feeds.example.org/tech", "name": "科技"},
                      {"url": "briefing/feeds/broken.xml", "name": "坏源"}]}),
            "en": _group("English Corner", {}, tags=["english"])}},
        now="2026-11-23 08:00")
    _transport(chat, serve)
    await chat.advance("2h")
    dms = [d for d in chat.sent if d.kind == "dm" and d.text.startswith("早报源")]
    # Only the operators who run 读书会 (op_li runs the English groups).
    assert [(d.to, d.text.split("：")[0]) for d in dms] == [("op_wang", "早报源「坏源」抓取失败")]
    state["up"] = False
    day2 = await chat.advance("1d")
    dms = [d for d in day2 if d.kind == "dm" and d.text.startswith("早报源")]
    assert [(d.to, d.text.split("：")[0]) for d in dms] == [
        ("op_wang", "早报源「科技」抓取失败")]  # 坏源: told already
    assert "缓存（4 条）" in dms[0].text
    [post] = [d for d in day2 if d.kind == "post"]
    # Day 2 still posts on time: the curated item, then cached feed items not shown yesterday.
    assert post.at.strftime("%H:%M") == "09:00"
    assert post.text.splitlines()[2:] == ["1. 今晚 9 点打卡截止",
                                          "2. A tour of open-source RSS readers",
                                          "3. Why time zones are hard 🕰️"]


async def test_items_shown_in_the_last_days_are_not_repeated(make_chat, tmp_path):
    _files(tmp_path)
    chat = await make_chat({"groups": {"g": _group("读书会", {
        "items": 3, "dedupe_days": 7, "feeds": [{"url": "briefing/feeds/news.xml",
                                                 "max_items": 10}]})}},
        now="2026-11-23 08:00")
    posts = await chat.advance("3d")
    bodies = [p.text.splitlines()[2:] for p in posts]
    shown = [line.split(". ", 1)[1] for body in bodies[:2] for line in body]
    assert len(shown) == len(set(shown)) == 6
    assert len(posts) == 2  # the feed had six items: nothing new on the third day, no post


async def test_once_a_day_across_restarts(make_chat, tmp_path):
    _files(tmp_path)
    chat = await make_chat({"groups": {"g": _group("读书会", {"files": ["briefing/club.yaml"]})}},
                           now="2026-11-23 08:00")
    assert len(await chat.advance("65m")) == 1
    chat = await chat.restart(after="10m")
    assert texts(await chat.advance("10h")) == []
    chat = await chat.restart(after="14h")  # down across 09:00 on the 24th (09:15): caught up
    day2 = [d for d in chat.sent if d.at.day == 24]
    assert len(day2) == 1 and day2[0].text.splitlines()[2] == "1. 今晚 9 点打卡截止"
    assert texts(await chat.advance("2h")) == []


async def test_on_demand_admins_any_time_members_once_a_day(make_chat, tmp_path, database_url):
    _files(tmp_path)
    chat = await make_chat({"groups": {"g": _group("读书会", {
        "files": ["briefing/club.yaml"], "weekdays": ["mon", "tue"], "items": 2,
        "feeds": [{"url": "briefing/feeds/news.xml"}]}, owner="alice", admins=["bob"])}},
        now="2026-11-23 07:00", database_url=database_url)
    refused = "今天的早报已经发过啦，往上翻一翻就能看到～"
    for _ in range(2):  # admins any time, as often as they like
        [reply] = await chat.say("bob", "早报")
        assert reply.text.startswith("【每日早报】2026年11月23日")
    [reply] = await chat.say("erin", "早报")
    assert reply.text == refused  # before 09:00, but the admin's post is the day's briefing
    posts = await chat.advance_to("2026-11-24 09:30")  # the 23rd's is in the chat already
    assert [p.text.split("\n")[0] for p in posts] == ["【每日早报】2026年11月24日 星期二"]
    [reply] = await chat.say("erin", "早报")
    assert reply.text == refused
    [reply] = await chat.say("bob", "早报")
    assert reply.text.startswith("【每日早报】2026年11月24日")
    # Wednesday has no scheduled briefing: a member may ask at any hour, once for the group.
    assert await chat.advance_to("2026-11-25 07:00") == []
    before = len(chat.sent)
    await asyncio.gather(chat.say("dave", "早报"), chat.say("erin", "/briefing"))
    firsts = sorted(d.text.split("\n")[0] for d in chat.sent[before:])
    assert firsts == ["【每日早报】2026年11月25日 星期三", refused]  # one of the two got it


async def test_a_member_asking_before_nine_is_told_when_it_comes(make_chat, tmp_path):
    _files(tmp_path)
    feeds = [{"url": "briefing/feeds/news.xml", "max_items": 2}]
    chat = await make_chat({"groups": {
        "g": _group("读书会", {"feeds": feeds}),
        "en": _group("Corner", {"at": "08:15", "feeds": feeds}, language="en")}},
        now="2026-11-23 00:05")
    [reply] = await chat.say("dave", "早报")
    assert (reply.kind, reply.text, reply.mentions) == ("reply", "今天的早报 09:00 发布，到时见～",
                                                        ("dave",))
    [reply] = await chat.say("dave", "早报", group="Corner")
    assert reply.text == "Today's briefing comes at 08:15; see you then!"
    posts = await chat.advance_to("2026-11-23 09:30")
    # Nothing went out early, so the feeds fetched ahead of each post are in it.
    items = ["1. 《三体》英文版销量突破千万册", "2. 国家图书馆推出夜间阅读季 & 周末讲座"]
    assert [(p.group_id, p.at.strftime("%H:%M"), p.text.splitlines()[2:]) for p in posts] == [
        ("en", "08:15", items), ("g", "09:00", items)]
    [reply] = await chat.say("erin", "早报")
    assert reply.text == "今天的早报已经发过啦，往上翻一翻就能看到～"


async def test_a_curated_file_broken_while_running_keeps_its_last_good_version(
    make_chat, tmp_path, caplog
):
    _files(tmp_path)
    (tmp_path / "config/briefing/tags").mkdir()
    (tmp_path / "config/briefing/tags/reading.yaml").write_text(
        "days:\n  2026-11-23:\n    items: [标签条目：周末沙龙]\n", encoding="utf-8")
    chat = await make_chat({
        "operators": [{"id": "op_wang"}, {"id": "op_li", "groups": ["别的群"]}],
        "groups": {"g": _group("读书会", {"files": ["briefing/club.yaml"], "items": 3,
                                          "feeds": [{"url": "briefing/feeds/news.xml"}]},
                               owner="alice", tags=["reading"]),
                   "other": _group("别的群", {})}},
        now="2026-11-23 08:00")
    broken = CURATED.replace("      - text: 周末沙龙报名开始", "      - txt: 周末沙龙报名开始")
    (tmp_path / "config/briefing/club.yaml").write_text(broken, encoding="utf-8")
    day1 = await chat.advance("2h")
    [post] = [d for d in day1 if d.kind == "post"]
    assert post.text.splitlines()[2:5] == [  # the last good version, on time
        "1. 本周共读《活着》第 1-3 章", "2. 周末沙龙报名开始", "3. 标签条目：周末沙龙"]
    [reply] = await chat.say("alice", "早报")  # composed again: the operators were told already
    assert reply.text.startswith("【每日早报】")
    dms = [d for d in chat.sent if d.kind == "dm" and "briefing/club.yaml" in d.text]
    assert [d.to for d in dms] == ["op_wang"]  # op_li does not run 读书会
    assert dms[0].text.startswith(
        "「读书会」用的内容文件 briefing/club.yaml 有错误，机器人继续用上一次")
    assert "club.yaml:5: days.2026-11-23.items.1" in dms[0].text
    assert any(r.levelname == "ERROR" and "briefing/club.yaml" in r.getMessage()
               for r in caplog.records)
    day2 = await chat.advance("1d")  # the same broken version: not told again
    assert not [d for d in day2 if d.kind == "dm" and "briefing/club.yaml" in d.text]


async def test_config_check_names_the_curated_files_line(tmp_path):
    _files(tmp_path)
    (tmp_path / "config/briefing/bad.yaml").write_text(
        "days:\n  2026-11-23:\n    items:\n      - text: ok\n      - txt: typo\n",
        encoding="utf-8")
    (tmp_path / "bot.yaml").write_text(
        "groups:\n  g:\n    name: 群\n    plugins:\n      briefing:\n"
        "        files: [briefing/bad.yaml, briefing/missing.yaml]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "bot.yaml", ALL)
    message = str(raised.value)
    assert "bad.yaml:5: days.2026-11-23.items.1" in message
    assert "missing.yaml: 找不到文件 (file not found)" in message


def test_cached_feed_titles_are_cut_to_a_thousand_characters():
    body = ('<rss version="2.0"><channel><title>t</title>'
            f"<item><title>{'长' * 5000}</title><link>https://x.example/1</link></item>"
            "<item><title>短</title></item></channel></rss>").encode()
    assert [item["title"] for item in parse(body)] == ["长" * 1000, "短"]


@given(st.text(min_size=0, max_size=200), st.integers(min_value=10, max_value=80))
def test_clip_never_exceeds_the_limit_nor_splits_an_emoji(text, limit):
    cut = clip(text, limit)
    assert len(cut) <= limit
    whole = " ".join(text.split())
    if not cut.endswith(ELLIPSIS):
        assert cut == clip(whole, 10_000)
    else:
        assert not cut[:-1].endswith("\u200d")


def test_clip_keeps_family_emoji_whole():
    family = "👨\u200d👩\u200d👧"
    cut = clip("读书" * 4 + family + "好" * 20, 12)
    assert family not in cut[:-1] or cut.index(family) + len(family) <= len(cut) - 1
    assert not cut[:-1].endswith(("\u200d", "👨", "👩"))


async def test_the_digest_counts_the_days_items_and_names_failing_feeds(make_chat, tmp_path):
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.plugin import DigestQuery
    from plugins.briefing import plugin as briefing

    _files(tmp_path)
    chat = await make_chat({"groups": {"g": _group("读书会", {
        "files": ["briefing/club.yaml"], "feeds": [{"url": "briefing/feeds/broken.xml"}]},
        owner="alice")}}, now="2026-11-23 08:00")
    await chat.advance("2h")
    await chat.say("alice", "早报")  # an admin re-posting it: the same items, not counted twice
    query = DigestQuery(("g",), (date(2026, 11, 23),), {"g": ZoneInfo("Asia/Shanghai")})
    async with chat.runtime.db.transaction() as session:
        contribution = await briefing.digest(session, query)
    [items] = contribution.metrics
    assert items.values == {("g", date(2026, 11, 23)): 1}  # the one untagged item, once
    [note] = contribution.notes["g"]
    assert "briefing/feeds/broken.xml" in note and "抓取失败" in note


async def test_feeds_never_fetched_are_fetched_at_start(make_chat, tmp_path):
    _files(tmp_path)
    chat = await make_chat({"groups": {"g": _group("读书会", {
        "items": 2, "feeds": [{"url": "briefing/feeds/news.xml"}]}, owner="alice")}},
        now="2026-11-23 07:00")
    [reply] = await chat.say("alice", "早报")  # long before the 08:30 fetch
    assert reply.text.splitlines()[2:] == ["1. 《三体》英文版销量突破千万册",
                                           "2. 国家图书馆推出夜间阅读季 & 周末讲座"]


async def test_saved_feeds_are_cached_as_of_start_when_first_read(make_chat, tmp_path):
    """A saved feed file is parsed with the first briefing, not at start (feedparser stays
    out of an idle bot), yet its undated items count as first seen when the bot started."""
    from datetime import UTC, datetime

    from plugins.briefing.models import BriefingFeed

    _files(tmp_path)
    chat = await make_chat({"groups": {"g": _group("读书会", {
        "items": 2, "feeds": [{"url": "briefing/feeds/news.xml"}]}, owner="alice")}},
        now="2026-11-23 07:00")
    async with chat.runtime.db.transaction() as session:
        assert await session.get(BriefingFeed, "briefing/feeds/news.xml") is None
    await chat.advance("40m")
    [reply] = await chat.say("alice", "早报")
    assert reply.text.splitlines()[2] == "1. 《三体》英文版销量突破千万册"
    async with chat.runtime.db.transaction() as session:
        row = await session.get(BriefingFeed, "briefing/feeds/news.xml")
    started = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    assert {datetime.fromisoformat(i["seen"]) for i in row.items} == {started}


# -- issue 13: no empty briefing, stale feed items are not news, curated links kept ----------

ONE_DAY = """\
days:
  2026-11-23:
    items:
      - text: 新书友报名开始
        link: https://example.org/join
      - 本周共读《活着》
"""


async def test_no_empty_briefing_is_posted_and_the_digest_says_why(make_chat, tmp_path,
                                                                   database_url):
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.plugin import DigestQuery
    from plugins.briefing import plugin as briefing

    (tmp_path / "config" / "briefing").mkdir(parents=True)
    (tmp_path / "config" / "briefing" / "one.yaml").write_text(ONE_DAY, encoding="utf-8")
    chat = await make_chat({"operators": [{"id": "op_wang"}], "digest": {"at": "08:30"},
                            "groups": {"g": _group("读书会", {
                                "files": ["briefing/one.yaml"],
                                "closing": "今日话题：你读了几页？"})}},
                           now="2026-11-23 08:00", database_url=database_url)
    sent = await chat.advance_to("2026-11-26 10:00")
    posts = [d for d in sent if d.kind == "post"]
    # The 24th to the 26th had nothing: no header-and-closing-only post, day after day.
    # The operators read it in the next morning's digest instead.
    [digest] = [d for d in sent if d.kind == "dm" and d.text.startswith("【运营日报】2026-11-24")]
    assert "· 2026-11-24 的早报没有内容（没有精选条目，订阅源也没有新消息），没有发到群里。" \
        in digest.text.splitlines()
    assert [p.text.splitlines()[2:] for p in posts] == [
        ["1. 新书友报名开始 https://example.org/join", "2. 本周共读《活着》", "——",
         "今日话题：你读了几页？"]]
    [reply] = await chat.say("erin", "早报")  # asked for on an empty day: told, not posted
    assert reply.text == "今天还没有早报内容。"
    chat = await chat.restart()  # the day's empty run is not mistaken for a posted briefing
    [reply] = await chat.say("erin", "早报")
    assert reply.text == "今天还没有早报内容。"
    zone = {"g": ZoneInfo("Asia/Shanghai")}
    async with chat.runtime.db.transaction() as session:
        empty_day = await briefing.digest(session, DigestQuery(("g",), (date(2026, 11, 24),),
                                                               zone))
        posted_day = await briefing.digest(session, DigestQuery(("g",), (date(2026, 11, 23),),
                                                                zone))
    assert empty_day.notes == {"g": [
        "2026-11-24 的早报没有内容（没有精选条目，订阅源也没有新消息），没有发到群里。"]}
    assert empty_day.metrics[0].values == {}
    assert posted_day.notes == {} and posted_day.metrics[0].values == {
        ("g", date(2026, 11, 23)): 2}


DATED = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>新闻</title>
<item><title>昨天的新闻</title><link>https://example.org/n/1</link>
<pubDate>Sun, 22 Nov 2026 10:00:00 +0000</pubDate></item>
<item><title>两周前的旧闻</title><link>https://example.org/n/2</link>
<pubDate>Mon, 09 Nov 2026 10:00:00 +0000</pubDate></item>
</channel></rss>
"""


async def test_feed_items_older_than_a_few_days_are_never_news(make_chat, tmp_path,
                                                              database_url):
    _files(tmp_path)
    (tmp_path / "config" / "briefing" / "feeds" / "dated.xml").write_text(DATED,
                                                                          encoding="utf-8")
    chat = await make_chat({"groups": {"g": _group("读书会", {
        "items": 2, "dedupe_days": 1,
        "feeds": [{"url": "briefing/feeds/dated.xml", "max_items": 2},
                  {"url": "briefing/feeds/news.xml", "max_items": 2}]})}},
        now="2026-11-23 08:00", database_url=database_url)
    posts = await chat.advance("5d")
    shown = [[line.split(". ", 1)[1] for line in p.text.splitlines()[2:]] for p in posts]
    # The dated feed: only yesterday's item, never the one from two weeks ago. The undated
    # feed's items are as old as when the bot first saw them (08:00 on the 23rd): after
    # three days they are not news, though a day's repeat window has long passed.
    assert shown[0] == ["昨天的新闻", "《三体》英文版销量突破千万册"]
    assert all("两周前的旧闻" not in day for day in shown)
    assert [p.at.day for p in posts] == [23, 24, 25]
    assert all(len(day) == len(set(day)) for day in shown)


# -- issue 16.4: one fan-out composes thousands of briefings, sharing what it can ----------

NEWS = {"url": "briefing/feeds/news.xml", "max_items": 2}
NEWS_TITLES = [clip(item["title"], 60) for item in parse((FEEDS / "news.xml").read_bytes())]


def _items(text: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in text.splitlines()[2:] if ". " in line]


async def test_a_fanout_gives_each_group_its_own_briefing(make_chat, tmp_path):
    _files(tmp_path)
    chat = await make_chat({"groups": {  # all at 09:00 in Shanghai: one fan-out
        "a": _group("读书会", {"files": ["briefing/club.yaml"], "feeds": [NEWS],
                               "tag_content": False}, tags=["reading"]),
        "b": _group("Corner", {"files": ["briefing/club.yaml"], "feeds": [NEWS],
                               "item_length": 12}, language="en"),
        "c": _group("书友群", {"feeds": [NEWS], "title": "书友早知道", "items": 1}),
        "d": _group("技术群", {"feeds": [{"url": "briefing/feeds/tech.atom", "max_items": 2}],
                               "feed_max_age": "30d", "closing": "明天见"}),
        # As "a" but no tag, as "b" but the usual length: what is shared must not leak.
        "e": _group("书友会", {"files": ["briefing/club.yaml"], "feeds": [NEWS]}),
    }}, now="2026-11-23 08:00")
    posts = {p.group_id: p for p in await chat.advance("2h")}
    assert {p.at.strftime("%H:%M") for p in posts.values()} == {"09:00"}
    a, b, c, d, e = (posts[g].text for g in "abcde")
    three_body, library = "《三体》英文版销量突破千万册", "国家图书馆推出夜间阅读季 & 周末讲座"
    assert a.splitlines()[0] == "【每日早报】2026年11月23日 星期一"
    assert _items(a) == ["本周共读《活着》第 1-3 章", "周末沙龙报名开始", three_body, library]
    assert a.splitlines()[-1] == "今日话题：星期一读什么？"
    assert b.splitlines()[0] == "Morning briefing · Monday, 23 November 2026"
    # Its own length, and no tagged item (it shares no tag).
    assert _items(b) == [clip(t, 12) for t in ("本周共读《活着》第 1-3 章", three_body, library)]
    assert c.splitlines()[0] == "【书友早知道】2026年11月23日 星期一"
    assert _items(c) == [three_body] and "——" not in c
    assert _items(d) == ["Python 3.15 beta released", "SQLite adds a new JSON function"]
    assert d.splitlines()[-2:] == ["——", "明天见"]
    assert _items(e) == ["本周共读《活着》第 1-3 章", three_body, library]


async def test_a_fanout_repeats_nothing_a_group_was_shown(make_chat, tmp_path):
    _files(tmp_path)
    chat = await make_chat({"groups": {
        "a": _group("读书会", {"feeds": [NEWS]}),
        "b": _group("书友群", {"feeds": [NEWS], "weekdays": ["tue"]}),  # from the 24th
    }}, now="2026-11-23 08:00")
    [first] = await chat.advance("2h")
    assert first.group_id == "a" and len(_items(first.text)) == 2
    posts = {p.group_id: _items(p.text) for p in await chat.advance("1d")}
    assert posts["b"] == _items(first.text)  # b was shown nothing yet
    assert posts["a"] == NEWS_TITLES[2:4]


async def test_a_group_that_had_the_days_briefing_gets_none_from_the_fanout(make_chat, tmp_path):
    _files(tmp_path)
    club = {"files": ["briefing/club.yaml"]}
    chat = await make_chat({"groups": {
        "a": _group("读书会", club, owner="alice"), "b": _group("书友群", club),
        "c": _group("英语角", club)}}, now="2026-11-23 07:00")
    [reply] = await chat.say("alice", "早报", group="读书会")
    assert reply.text.startswith("【每日早报】2026年11月23日")
    posts = await chat.advance("3h")
    assert sorted(p.group_id for p in posts) == ["b", "c"]
    day2 = await chat.advance("1d")  # the next day, every group's again
    assert sorted(p.group_id for p in day2) == ["a", "b", "c"]
    assert {_items(p.text)[0] for p in day2} == {"今晚 9 点打卡截止"}


async def test_what_is_composed_once_follows_the_feed_the_file_and_the_day(make_chat,
                                                                          tmp_path):
    _files(tmp_path)
    served = {"body": (FEEDS / "tech.atom").read_bytes()}
    feed = {"url": "https://feeds.example.org/tech", "max_items": 2}
    settings = {"files": ["briefing/club.yaml"], "feeds": [feed], "feed_max_age": "30d"}
    chat = await make_chat({"groups": {
        "x": _group("读书会", settings, owner="alice"), "y": _group("书友群", settings)}},
        now="2026-11-23 07:00")
    _transport(chat, lambda request: httpx.Response(200, content=served["body"]))
    await chat.advance("1m")  # the feed never fetched: fetched at start
    [reply] = await chat.say("alice", "早报", group="读书会")  # composed and cached
    assert _items(reply.text) == ["本周共读《活着》第 1-3 章", "Python 3.15 beta released",
                                  "SQLite adds a new JSON function"]
    # The same day, a new version of the feed (fetched at 08:30) and of the file.
    served["body"] = (FEEDS / "news.xml").read_bytes()
    edited = CURATED.replace("第 1-3 章", "第 4-6 章及后记")
    (tmp_path / "config/briefing/club.yaml").write_text(edited, encoding="utf-8")
    [post] = await chat.advance("2h")
    assert post.group_id == "y"
    assert _items(post.text) == ["本周共读《活着》第 4-6 章及后记", *NEWS_TITLES[:2]]
    [reply] = await chat.say("alice", "早报", group="读书会")  # an admin's: posted again
    assert _items(reply.text) == _items(post.text)
    day2 = await chat.advance("1d")  # the next day's items, and the feed's not shown yet
    assert {p.group_id: _items(p.text) for p in day2} == {
        g: ["今晚 9 点打卡截止", *NEWS_TITLES[2:4]] for g in "xy"}
