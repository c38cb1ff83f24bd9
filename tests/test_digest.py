"""The operators' daily digest: a seeded week, trends, risk, per-operator groups, the chart."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

from typer.testing import CliRunner, Result

from bot.app import PLUGINS as ALL
from bot.cli import app
from bot.plugin import Plugin
from bot.testing import FakeChat

CONFIG = {
    "operators": [{"id": "op_wang"}, {"id": "op_li", "groups": ["tag:tech"]}],
    "digest": {"at": "08:30"},
    "groups": {
        "g": {"name": "读书会", "plugins": {"checkin": {"reminder_at": None}}},
        "t": {"name": "技术群", "tags": ["tech"], "plugins": {}},
    },
}


async def _seed_week(chat: FakeChat) -> list:
    """Nine days from Mon 16 Nov: 读书会 10 messages a day then 3 on the 24th; 技术群 six a
    day until the 20th, then silence. Returns what was sent on the last day."""
    sent: list = []
    for day in range(9):
        for n in range(10 if day < 8 else 3):
            text = "今天读了三体，三体真好看" if n % 2 else "打卡"
            await chat.say(f"m{n % 4}", text, group="g")
        if day < 5:
            for n in range(6):
                await chat.say(f"d{n % 3}", "Python 异步编程讨论", group="t")
        if day == 8:  # the 24th: members come and go (技术群 has no plugin for that)
            await chat.join("newbie", group="t")
            await chat.leave("d2", group="t")
        sent = await chat.advance("1d")
    return sent


def _png_size(path: str) -> tuple[int, int]:
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


async def test_each_operator_gets_their_groups_with_trends_risk_words_and_a_chart(
        make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-16 09:00", database_url=database_url)
    sent = await _seed_week(chat)  # ends 25 Nov 09:00: the digest went out at 08:30
    dms = {d.to: d for d in sent if d.kind == "dm"}
    assert set(dms) == {"op_wang", "op_li"}
    wang = dms["op_wang"].text
    assert dms["op_wang"].at.strftime("%Y-%m-%d %H:%M") == "2026-11-25 08:30"
    assert wang.startswith("【运营日报】2026-11-24 星期二 · 2 个群")
    # 读书会: 3 messages against 10 a day; 技术群 silent since the 21st.
    assert "⚠️ 风险群：读书会（消息 ↓70%）、技术群（已沉默 4 天）" in wang
    club = wang.split("■ 读书会")[1].split("■")[0]
    assert "消息 3（↓70%）" in club and "打卡人数 2（持平）" in club  # the check-in plugin's line
    assert "热词：三体" in club
    assert "附图：近 14 天各群消息数" in wang
    tech = wang.split("■ 技术群")[1]
    assert "入群 1（新增）" in tech and "退群 1（新增）" in tech
    li = dms["op_li"].text
    assert "1 个群" in li and "技术群" in li and "读书会" not in li
    for dm in dms.values():
        assert dm.image_path is not None and _png_size(dm.image_path) == (800, 450)


async def test_sent_once_a_day_across_a_restart(make_chat):
    chat = await make_chat(CONFIG, now="2026-11-24 08:00")
    await chat.say("m1", "早", group="g")
    assert [d.to for d in await chat.advance("40m") if d.kind == "dm"] == ["op_wang", "op_li"]
    chat = await chat.restart(after="5m")
    assert [d for d in await chat.advance("12h") if d.kind == "dm"] == []
    chat = await chat.restart(after="12h")  # back at 08:45 on the 25th: caught up, once
    assert sorted(d.to for d in chat.sent if d.kind == "dm" and d.at.day == 25) == \
        ["op_li", "op_wang"]


async def test_a_failing_plugin_figure_leaves_the_rest_of_the_digest(make_chat):
    async def broken(session, query):
        raise RuntimeError("boom")

    flaky: Plugin = Plugin(name="flaky", title="坏插件", digest=broken)
    chat = await make_chat(CONFIG, now="2026-11-24 08:00", plugins=(*ALL, flaky))
    await chat.say("m1", "早", group="g")
    [wang, _] = [d for d in await chat.advance("40m") if d.kind == "dm"]
    assert "【运营日报】" in wang.text and "「坏插件」的数据暂缺" in wang.text


async def test_english_digest(make_chat):
    config = {**CONFIG, "bot": {"language": "en"}}
    chat = await make_chat(config, now="2026-11-23 10:00")
    await chat.say("amy", "打卡", group="g")
    [wang, _] = [d for d in await chat.advance("1d") if d.kind == "dm"]
    assert wang.text.startswith("Daily digest · Monday, 2026-11-23 · 2 groups")  # yesterday
    assert "Messages 1 (—) · Members posting 1 (—) · Check-ins 1 (—)" in wang.text  # day one
    assert "Joined" not in wang.text  # nobody joined this week: not worth a line


async def test_the_cli_prints_the_digest_and_writes_the_chart(make_chat, tmp_path):
    chat = await make_chat(CONFIG, now="2026-11-16 09:00")
    await _seed_week(chat)
    await chat.stop()
    config, out = str(tmp_path / "bot.yaml"), tmp_path / "charts"

    def bot(*args: str) -> Result:  # the CLI runs its own event loop: off this one
        return CliRunner().invoke(app, ["digest", "--config", config, *args])

    result = await asyncio.to_thread(bot, "--date", "2026-11-24", "--group", "读书会",
                                     "--out", str(out), "--database", chat.database_url)
    assert result.exit_code == 0, result.output
    assert "【运营日报】2026-11-24 星期二 · 1 个群" in result.output
    assert "消息 3（↓70%）" in result.output
    assert _png_size(str(out / "digest-2026-11-24.png")) == (800, 450)
    wrong = await asyncio.to_thread(bot, "--group", "没有这个群")
    assert wrong.exit_code != 0 and "没有这个群" in wrong.output
    bad_date = await asyncio.to_thread(bot, "--date", "24/11")
    assert bad_date.exit_code != 0 and "YYYY-MM-DD" in bad_date.output


async def test_plugins_are_asked_a_slice_of_groups_at_a_time(make_chat, monkeypatch):
    from bot.digest import service

    monkeypatch.setattr(service, "HOOK_GROUPS", 1)  # as with thousands of groups
    config = {**CONFIG, "operators": [{"id": "op_wang"}], "groups": {
        gid: {"name": name, "plugins": {"checkin": {"reminder_at": None}}}
        for gid, name in (("g", "读书会"), ("t", "技术群"))}}
    chat = await make_chat(config, now="2026-11-23 10:00")
    await chat.say("amy", "打卡", group="g")
    for member in ("bo", "cy"):
        await chat.say(member, "打卡", group="t")
    [wang] = [d for d in await chat.advance("1d") if d.kind == "dm" and d.to == "op_wang"]
    assert "打卡人数 1（—）" in wang.text.split("■ 读书会")[1].split("■")[0]
    assert "打卡人数 2（—）" in wang.text.split("■ 技术群")[1]


async def test_each_group_covers_its_own_finished_day(make_chat, database_url):
    """At 08:30 in Shanghai it is 16:30 the day before in Los Angeles: the LA group is
    reported on its own last finished day, not on one still under way."""
    config = {**CONFIG, "operators": [{"id": "op_wang"}], "groups": {
        "g": {"name": "读书会", "plugins": {}},
        "la": {"name": "LA Readers", "timezone": "America/Los_Angeles", "plugins": {}}}}
    chat = await make_chat(config, now="2026-11-14 12:00", database_url=database_url)
    for _ in range(10):  # ten days of the same chatter: noon in Shanghai, 20:00 in LA
        for n in range(6):
            await chat.say(f"m{n}", "早", group="g")
        sent = await chat.advance("24h")  # the digest goes out at 08:30 (16:30 in LA)
        for n in range(6):
            await chat.say(f"m{n}", "hello", group="la")
    [wang] = [d for d in sent if d.kind == "dm" and d.to == "op_wang"]
    assert "✅ 没有风险群" in wang.text  # LA's half-finished day is not a drop
    la = wang.text.split("■ LA Readers")[1]
    assert la.startswith("（当地 2026-11-22）") and "消息 6（持平）" in la
    assert "消息 6（持平）" in wang.text.split("■ 读书会")[1]


async def test_failed_sends_add_up_across_groups_and_direct_messages(make_chat):
    from datetime import UTC, datetime

    from bot.storage.models import OutboxMessage

    chat = await make_chat(CONFIG, now="2026-11-24 08:00")
    at = datetime(2026, 11, 23, 4, tzinfo=UTC)  # noon on the 23rd in Shanghai
    async with chat.runtime.db.transaction() as session:
        for group, count in (("g", 3), ("t", 2), (None, 1)):
            for _ in range(count):
                session.add(OutboxMessage(account="console", group_id=group, to_id=None,
                                          text="x", kind="post", priority=1, status="failed",
                                          created_at=at))
    [wang, _] = [d for d in await chat.advance("40m") if d.kind == "dm"]
    assert "发送失败 6（—）" in wang.text.splitlines()[1]  # 3 + 2 + 1 direct message
    assert "发送失败 3（—）" in wang.text.split("■ 读书会")[1].split("■")[0]
    assert "发送失败 2（—）" in wang.text.split("■ 技术群")[1].split("■")[0]


async def test_no_groups_yet_means_no_digest_and_no_error(make_chat, caplog):
    chat = await make_chat({"operators": [{"id": "op_wang"}]}, now="2026-11-24 08:00")
    assert [d for d in await chat.advance("1d") if d.kind == "dm"] == []
    assert [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []


async def test_a_fresh_install_has_no_history_to_compare_with(make_chat):
    """Days before the bot first ran are neither zeros in the average nor silence."""
    chat = await make_chat(CONFIG, now="2026-11-23 10:00")
    for n in range(4):
        await chat.say(f"m{n}", "早", group="g")
    [day1] = [d for d in await chat.advance("1d") if d.kind == "dm" and d.to == "op_wang"]
    assert "✅ 没有风险群" in day1.text  # 技术群 has been quiet for one day, not fourteen
    assert "消息 4（—）" in day1.text.split("■ 读书会")[1]
    for n in range(6):
        await chat.say(f"m{n}", "早", group="g")
    [day2] = [d for d in await chat.advance("1d") if d.kind == "dm" and d.to == "op_wang"]
    assert "消息 6（↑50%）" in day2.text.split("■ 读书会")[1]  # against day one alone
