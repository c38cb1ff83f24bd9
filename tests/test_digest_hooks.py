"""What each plugin hands the operators' digest, computed per group and local day."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.plugin import DigestQuery
from plugins.checkin import plugin as checkin
from plugins.moderation import plugin as moderation
from plugins.qa import plugin as qa

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"groups": {"g": {"name": "读书会", "plugins": {
    "checkin": {"reminder_at": None},
    "qa": {"faq_files": ["faq/reading-club.yaml"]},
    "moderation": {"banned_words": ["傻瓜"]}}}}}


async def test_each_plugin_reports_its_figures_for_the_groups_local_days(make_chat, tmp_path):
    (tmp_path / "config" / "faq").mkdir(parents=True)
    shutil.copy(ROOT / "config/faq/reading-club.yaml", tmp_path / "config/faq")
    chat = await make_chat(CONFIG, now="2026-11-23 07:30")  # 23:30 UTC on the 22nd
    for member in ("amy", "bo", "cy"):
        await chat.say(member, "打卡")
    await chat.advance("1d")
    await chat.say("amy", "打卡")
    await chat.say("dan", "@小助手 周末去爬山吗")
    await chat.say("eve", "你是傻瓜")
    days = (date(2026, 11, 23), date(2026, 11, 24))
    query = DigestQuery(("g",), days, {"g": ZoneInfo("Asia/Shanghai")})
    async with chat.runtime.db.transaction() as session:
        checkins = await checkin.digest(session, query)
        questions = await qa.digest(session, query)
        actions = await moderation.digest(session, query)
    count, rate = checkins.metrics
    assert count.values == {("g", days[0]): 3, ("g", days[1]): 1}
    assert rate.percent and rate.values[("g", days[1])] == 1 / 3
    assert questions.metrics[0].values == {("g", days[1]): 1}  # local day, not UTC
    assert questions.notes == {"g": ["周末去爬山吗"]}
    assert actions.metrics[0].values == {("g", days[1]): 1}
    assert actions.notes["g"][0].startswith("banned_word: 傻瓜")


async def test_the_nightly_check_in_figures_match_what_the_digest_would_compute(
        make_chat, database_url):
    from plugins.checkin.digest import compute_figures, kept_figures

    chat = await make_chat({"groups": {"g": {"name": "读书会", "plugins": {
        "checkin": {"reminder_at": None}}}}}, now="2026-11-20 10:00", database_url=database_url)
    for members in (["amy", "bo", "cy"], ["amy"], [], ["bo", "dan"]):
        for member in members:
            await chat.say(member, "打卡")
        await chat.advance("1d")  # 00:05: the finished day's figures are kept
    days = tuple(date(2026, 11, 20 + n) for n in range(4))
    query = DigestQuery(("g",), days, {"g": ZoneInfo("Asia/Shanghai")})
    async with chat.runtime.db.transaction() as session:
        kept = await kept_figures(session, query)
        computed = await compute_figures(session, query)
    assert kept == {("g", days[0]): (3, 3), ("g", days[1]): (1, 3), ("g", days[2]): (0, 3),
                    ("g", days[3]): (2, 4)}
    assert {k: v for k, v in computed.items() if k in kept} == kept
