"""Timed posts' content: weekdays in the group's time zone, text files read when sent,
placeholders (lunar date, solar term, member count), topic pools without repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import PLUGINS as ALL
from bot.config import ConfigError, load_config
from bot.testing import texts, write_config


def _group(name: str, posts: list[dict], pools: dict | None = None, **extra: object) -> dict:
    block: dict = {"posts": posts}
    if pools is not None:
        block["pools"] = pools
    return {"name": name, "plugins": {"timed_posts": block}, **extra}


def _content(tmp_path: Path, relative: str, text: str) -> Path:
    path = tmp_path / "config" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- weekdays ------------------------------------------------------------------------------


async def test_weekdays_are_the_groups_own_weekdays(make_chat):
    # 20:00 on a Monday in Los Angeles is already Tuesday noon in Shanghai (the bot's zone).
    posts = [{"at": "20:00", "weekdays": ["周一", "wed"], "text": "本周话题"}]
    chat = await make_chat({"groups": {
        "sh": _group("上海群", posts),
        "la": _group("LA", posts, timezone="America/Los_Angeles"),
    }}, now="2026-11-23 00:00")  # Monday 00:00 Shanghai = Sunday 08:00 Los Angeles
    sent = await chat.advance("7d")
    local = [(d.group_id, d.at.strftime("%a %d %H:%M %z")) for d in sent]
    assert sorted(local) == [
        ("la", "Mon 23 20:00 -0800"),
        ("la", "Wed 25 20:00 -0800"),
        ("sh", "Mon 23 20:00 +0800"),
        ("sh", "Wed 25 20:00 +0800"),
    ]


# -- topic pools -----------------------------------------------------------------------------

TOPICS = {"话题甲", "话题乙", "话题丙"}


@pytest.mark.parametrize("shape", ["file and inline", "plain list"])
async def test_a_pool_is_used_up_before_a_topic_repeats_even_across_restarts(
    make_chat, tmp_path, shape
):
    if shape == "plain list":
        pools: dict = {"话题": sorted(TOPICS)}
    else:
        _content(tmp_path, "timed_posts/topics.txt",
                 "# 每行一个话题\n\n话题甲\n  话题乙  \n# 话题丁（注释掉了）\n")
        pools = {"话题": {"file": "timed_posts/topics.txt", "topics": ["话题丙", "话题甲"]}}
    chat = await make_chat({"groups": {"g": _group(
        "读书会", [{"at": "21:00", "pool": "话题", "text": "今晚话题：{topic}"}], pools)}},
        now="2026-11-23 20:00")
    drawn: list[str] = []
    for _ in range(6):  # two rounds, the bot restarted after every post
        [post] = await chat.advance("1d")
        assert post.text.startswith("今晚话题：")
        drawn.append(post.text.removeprefix("今晚话题："))
        chat = await chat.restart()
    assert set(drawn[:3]) == TOPICS  # every topic once in the first round…
    assert set(drawn[3:]) == TOPICS  # …then a new round, again without repeats


async def test_two_groups_draw_from_the_same_pool_independently(make_chat):
    post = [{"at": "21:00", "pool": "话题"}]  # no text: the topic is the post
    pools = {"话题": sorted(TOPICS)}
    chat = await make_chat({"groups": {"a": _group("甲群", post, pools),
                                       "b": _group("乙群", post, pools)}},
                           now="2026-11-23 20:00")
    sent = await chat.advance("3d")
    for group in ("a", "b"):
        assert {d.text for d in sent if d.group_id == group} == TOPICS


# -- text files ------------------------------------------------------------------------------


async def test_an_edited_text_file_is_posted_the_next_day_without_a_restart(make_chat, tmp_path):
    path = _content(tmp_path, "timed_posts/morning.txt", "早安，{group}！今天是{weekday}。\n")
    chat = await make_chat({"groups": {"g": _group(
        "读书会", [{"at": "08:00", "text_file": "timed_posts/morning.txt"}])}},
        now="2026-11-23 07:00")
    assert texts(await chat.advance("1d")) == ["早安，读书会！今天是星期一。"]
    path.write_text("新版通知：{date} 起打卡改到晚上。", encoding="utf-8")
    assert texts(await chat.advance("1d")) == ["新版通知：2026-11-24 起打卡改到晚上。"]


async def test_a_text_file_removed_while_running_skips_only_that_post(make_chat, tmp_path):
    path = _content(tmp_path, "timed_posts/recap.txt", "周小结")
    chat = await make_chat({"groups": {"g": _group("读书会", [
        {"at": "08:00", "text_file": "timed_posts/recap.txt"},
        {"at": "09:00", "text": "早安"},
    ])}}, now="2026-11-23 07:00")
    path.unlink()
    assert texts(await chat.advance("1d")) == ["早安"]
    path.write_text("周小结（补）", encoding="utf-8")
    assert texts(await chat.advance("1d")) == ["周小结（补）", "早安"]


# -- placeholders ----------------------------------------------------------------------------


async def test_placeholders_for_a_known_date_in_chinese_and_english(make_chat):
    # lunar_python: 2026-11-22 is 农历十月十四 and the day 小雪 begins; the 23rd is 十月十五.
    zh = "{date} {weekday} {lunar} {term} 「{group}」{members}人"
    en = "{weekday} | {lunar} | {term} | {group}"
    chat = await make_chat({"groups": {
        "g": _group("读书会", [{"at": "09:00", "text": zh}], owner="olivia"),
        "l": _group("London", [{"at": "09:00", "text": en}], timezone="Europe/London",
                    language="en"),
    }}, now="2026-11-22 08:00")
    await chat.say("alice", "早")
    await chat.say("bob", "早上好")  # the group: olivia (owner), alice, bob
    day1 = await chat.advance("1d")
    await chat.join("carol")
    day2 = await chat.advance("1d")
    assert [(d.group_id, d.text) for d in day1] == [
        ("g", "2026-11-22 星期日 农历十月十四 今日小雪 「读书会」3人"),
        ("l", "Sunday | Lunar 10/14 | Minor Snow begins today | London"),
    ]
    assert [(d.group_id, d.text) for d in day2] == [
        ("g", "2026-11-23 星期一 农历十月十五 小雪 「读书会」4人"),  # carol counted: asked anew
        ("l", "Monday | Lunar 10/15 | Minor Snow | London"),
    ]


async def test_the_day_is_the_groups_local_day(make_chat):
    # 23:30 in London on the 22nd is already the 23rd in Shanghai.
    chat = await make_chat({"groups": {
        "g": _group("读书会", [{"at": "09:00", "text": "早"}]),
        "l": _group("London", [{"at": "23:30", "text": "{date} {weekday} {lunar}"}],
                    timezone="Europe/London", language="en"),
    }}, now="2026-11-22 08:00")
    sent = await chat.advance("1d")
    assert [d.text for d in sent if d.group_id == "l"] == ["2026-11-22 Sunday Lunar 10/14"]


async def test_unknown_placeholders_and_stray_braces_are_posted_as_typed(make_chat):
    chat = await make_chat({"groups": {"g": _group("读书会", [
        {"at": "09:00", "text": "开心 :-} 今晚见 {"},
        {"at": "10:00", "text": "{不认识} 和 {topic} 原样保留"},  # no pool: {topic} unknown
    ])}}, now="2026-11-23 08:00")
    assert texts(await chat.advance("3h")) == ["开心 :-} 今晚见 {", "{不认识} 和 {topic} 原样保留"]


async def test_a_stray_brace_does_not_stop_the_other_placeholders(make_chat):
    chat = await make_chat({"groups": {"g": _group(
        "读书会", [{"at": "09:00", "text": "{weekday}快乐 :-}"}])}}, now="2026-11-23 08:00")
    assert texts(await chat.advance("2h")) == ["星期一快乐 :-}"]


async def test_doubled_braces_are_posted_as_typed(make_chat):
    chat = await make_chat({"groups": {"g": _group(
        "读书会", [{"at": "09:00", "text": "抱抱 {{抱抱}}"}])}}, now="2026-11-23 08:00")
    assert texts(await chat.advance("2h")) == ["抱抱 {{抱抱}}"]


# -- config checks ---------------------------------------------------------------------------


def _load(tmp_path: Path, block: dict, where: str = "group") -> None:
    if where == "group":
        config = {"groups": {"g": {"name": "读书会", "plugins": {"timed_posts": block}}}}
    else:
        config = {"defaults": {"plugins": {"timed_posts": block}},
                  "groups": {"g": {"name": "读书会"}}}
    load_config(write_config(tmp_path, config), ALL)


GOOD = {
    "posts": [{"at": "08:00", "text_file": "timed_posts/morning.txt"},
              {"at": "21:00", "pool": "话题"}],
    "pools": {"话题": {"file": "timed_posts/topics.txt"}, "备用": ["一个话题"]},
}


def test_content_that_exists_loads(tmp_path):
    _content(tmp_path, "timed_posts/morning.txt", "早安")
    _content(tmp_path, "timed_posts/topics.txt", "话题甲\n")
    _load(tmp_path, GOOD)  # no error


def test_missing_files_are_all_reported_at_load_naming_each_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, GOOD)
    message = str(caught.value)
    assert "timed_posts/morning.txt" in message
    assert "timed_posts/topics.txt" in message
    assert len(caught.value.issues) == 2


@pytest.mark.parametrize("pool", [[], {"topics": []}, {"file": "timed_posts/empty.txt"},
                                  {"topics": ["  "]}])
def test_an_empty_pool_is_a_config_error(tmp_path, pool):
    _content(tmp_path, "timed_posts/empty.txt", "# 只有注释\n\n")
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"posts": [{"at": "21:00", "pool": "话题"}], "pools": {"话题": pool}})
    assert "话题" in str(caught.value) and "bot.yaml" in str(caught.value)


def test_a_post_naming_an_unknown_pool_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"posts": [{"at": "21:00", "pool": "话"}], "pools": {"话题": ["甲"]}})
    assert "'话'" in str(caught.value) and "话题" in str(caught.value)


def test_a_missing_text_file_under_defaults_is_reported_too(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.txt"):
        _load(tmp_path, {"posts": [{"at": "08:00", "text_file": "nope.txt"}]}, where="defaults")


# -- 定时: what will be sent ------------------------------------------------------------------


async def test_the_listing_shows_each_post_as_it_will_be_sent(make_chat, tmp_path):
    # Issue 13: `定时` showed raw `{group}`; it fills what the post fills, for its next day.
    _content(tmp_path, "timed_posts/morning.txt", "早安，{group}！今天{weekday}\n第二行")
    chat = await make_chat({"groups": {"g": _group("读书会", [
        {"at": "08:00", "text_file": "timed_posts/morning.txt"},
        {"cron": "0 21 * * 0-4", "text": "「{group}」{members}人，{date}"},
        {"at": "20:00", "pool": "话题", "text": "今晚{weekday}聊：{topic}"},
    ], pools={"话题": ["读书", "电影"]}, owner="olivia", admins=["adam"])}},
        now="2026-11-28 09:00")  # a Saturday
    await chat.say("alice", "早")  # the group: olivia, adam, alice
    [listing] = await chat.say("adam", "定时")
    assert listing.text.splitlines() == [
        "「读书会」的定时发布：",
        "1. 下次 11-29 08:00：早安，读书会！今天星期日 第二行",
        "2. 下次 11-29 21:00：「读书会」3人，2026-11-29",  # Sunday: 0-4 includes it
        "3. 下次 11-28 20:00：今晚星期六聊：[话题]",  # the topic is drawn when it goes out
    ]
    assert "{" not in listing.text


async def test_operators_hear_once_that_a_text_file_went_missing(make_chat, tmp_path):
    path = _content(tmp_path, "timed_posts/recap.txt", "周小结")
    chat = await make_chat({"operators": [{"id": "op_wang"}], "groups": {"g": _group(
        "读书会", [{"at": "08:00", "text_file": "timed_posts/recap.txt"}])}},
        now="2026-11-23 07:00")
    path.unlink()
    sent = [d for d in await chat.advance("2d") if "日报" not in d.text]  # the digest aside
    assert [d.kind for d in sent] == ["dm"]  # no post, and one message over two days
    assert sent[0].to == "op_wang" and sent[0].text.startswith(
        "「读书会」的定时内容没有发出：timed_posts/recap.txt 读不了：\n"
        "timed_posts/recap.txt: 找不到文件 (file not found)")
    path.write_text("周小结（补）", encoding="utf-8")
    assert [d.text for d in await chat.advance("1d") if d.kind == "post"] == ["周小结（补）"]
