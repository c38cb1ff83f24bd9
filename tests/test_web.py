"""The operators' web console (issue 19): login, every page, and what its forms do."""

from __future__ import annotations

import base64
from pathlib import Path

from markupsafe import escape
from sqlalchemy import select, update

from bot.activity import ActivityDaily
from bot.testing import texts
from bot.web.models import WebAudit
from tests.webkit import CONFIG, client, form_token, log_in, sees_only, set_password, start_bot


async def _audit(chat) -> list[tuple[str, str, str | None]]:
    async with chat.runtime.db.transaction() as session:
        rows = await session.scalars(select(WebAudit).order_by(WebAudit.id))
        return [(r.person_id, r.action, r.group_id) for r in rows]


async def test_console_sends_a_login_link_by_direct_message_to_admins_only(tmp_path):
    chat = await start_bot(tmp_path)
    try:
        replies = await chat.say("adam", "后台")
        [dm] = [r for r in replies if r.to == "adam"]
        assert "https://console.example.org/login/" in dm.text and "10 分钟" in dm.text
        [told] = [r for r in replies if r.group_id == "g-a"]
        assert "私信" in told.text and "login" not in told.text  # never the link in the group
        for words in ("后台", "/console"):  # a member: no link, by any form
            assert all(r.to != "carol" for r in await chat.say("carol", words))
    finally:
        await chat.stop()


async def test_login_by_link_shows_the_operators_groups_only(tmp_path, database_url):
    chat = await start_bot(tmp_path, database_url)
    async with client(chat) as http:
        assert (await http.get("/")).url.path == "/login"  # no session: the login page
        await chat.say("carol", "@小助手 今天聚会吗")
        await log_in(http, chat, "op_a")
        page = await http.get("/")
        assert page.status_code == 200
        assert "读书会" in page.text and "跑步群" not in page.text
        assert "在线" in page.text  # bot state: logged in
        english = await http.get("/lang/en?next=/")
        assert "My groups (1)" in english.text
    assert ("op_a", "login", "g-a") in await _audit(chat)
    await chat.stop()


async def test_an_admin_sees_only_their_own_group(tmp_path):
    chat = await start_bot(tmp_path)
    async with client(chat) as http:
        await log_in(http, chat, "adam")
        await sees_only(http, "g-a", "读书会", "g-b")
    await chat.stop()


async def test_password_login(tmp_path):
    chat = await start_bot(tmp_path)
    await set_password(chat, "op_b", "correct horse battery")
    async with client(chat) as http:
        page = await http.get("/login")
        token = form_token(page.text)
        wrong = await http.post("/login", data={"csrf": token, "person": "op_b",
                                                "password": "nope"})
        assert wrong.status_code == 401 and "不对" in wrong.text
        right = await http.post("/login", data={"csrf": token, "person": "op_b",
                                                "password": "correct horse battery"})
        assert right.status_code == 200 and "跑步群" in right.text and "读书会" not in right.text
        cookie = right.history[0].headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    assert ("op_b", "login.failed", None) in await _audit(chat)
    await chat.stop()


async def test_group_page(tmp_path):
    chat = await start_bot(tmp_path)
    await chat.say("carol", "打卡 读完第三章")
    await chat.say("dave", "大家好")
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        page = await http.get("/group/g-a")
    assert page.status_code == 200
    assert "<svg" in page.text and "读完第三章" in page.text  # chart, check-in board
    assert "早上好，{group}！" in page.text  # the next timed post
    assert "carol" in page.text  # members with their points
    await chat.stop()


async def test_answering_a_question_teaches_the_faq_and_mentions_the_asker(tmp_path,
                                                                          database_url):
    chat = await start_bot(tmp_path, database_url)
    await chat.say("carol", "@小助手 周末有线下活动吗")
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        page = await http.get("/questions")
        assert "周末有线下活动吗" in page.text
        qid = page.text.split('action="/questions/')[1].split("/")[0]
        before = len(chat.sent)
        done = await http.post(f"/questions/{qid}/answer",
                               data={"csrf": csrf, "answer": "每月第一个周六，{name}来玩"})
        assert "已回答" in done.text and "周末有线下活动吗" not in done.text
    [posted] = chat.sent[before:]
    assert posted.group_id == "g-a" and posted.mentions == ("carol",)
    assert posted.text == "每月第一个周六，carol来玩"
    [again] = await chat.say("dave", "@小助手 周末有线下活动吗")  # taught, like 教
    assert again.text == "每月第一个周六，dave来玩"
    assert ("op_a", "qa.answer", "g-a") in await _audit(chat)
    await chat.stop()


async def test_misjudged_and_release_from_the_moderation_page(tmp_path, database_url):
    chat = await start_bot(tmp_path, database_url)
    await chat.give("carol", 50)
    for _ in range(4):
        await chat.say("carol", "你这个傻瓜")
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        page = await http.get("/moderation")
        assert page.text.count('class="misjudged"') == 4 and "carol" in page.text
        assert 'class="release"' in page.text  # the fourth offence: 小黑屋
        first = page.text.split('action="/moderation/')[1].split("/")[0]  # the newest
        done = await http.post(f"/moderation/{first}/misjudged", data={"csrf": csrf})
        assert "已撤销" in done.text
        assert 'class="release"' not in done.text  # its 小黑屋 was opened
        third = done.text.split('action="/moderation/')[1].split("/")[0]
        undone = await http.post(f"/moderation/{third}/unwarn", data={"csrf": csrf})
        assert "已撤销" in undone.text
    assert await chat.balance("carol") == 50  # the deduction refunded
    notices = [d.text for d in chat.sent if d.kind == "notice"]
    assert any("已撤销对 carol" in n for n in notices)  # the group is told
    assert texts(await chat.say("adam", "小黑屋")) == ["小黑屋是空的。"]  # the core's, too
    await chat.stop()


HX = {"HX-Request": "true"}  # what htmx sends with each of its requests


def is_fragment(html: str) -> bool:
    """An htmx answer: no page layout around it (no <html>, no head, no nav)."""
    return not any(part in html for part in ("<html", "<head", "<nav", "<header"))


async def test_an_htmx_answer_swaps_only_the_questions_card(tmp_path, database_url):
    chat = await start_bot(tmp_path, database_url)
    await chat.say("carol", "@小助手 周末有线下活动吗")
    await chat.say("dave", "@小助手 图书馆几点开门")
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        page = (await http.get("/questions")).text
        qid = page.split('hx-post="/questions/')[1].split("/")[0]  # the newest: dave's
        assert f'hx-target="#q{qid}"' in page
        before = len(chat.sent)
        done = await http.post(f"/questions/{qid}/answer", headers=HX,
                               data={"csrf": csrf, "answer": "早上九点，{name}"})
        assert done.status_code == 200 and is_fragment(done.text)
        assert done.text.lstrip().startswith(f'<section class="card question answered" '
                                             f'id="q{qid}">')
        assert "已回答并在群里 @dave" in done.text and "<form" not in done.text
        assert "周末有线下活动吗" not in done.text  # the other card is left alone
        assert "周末有线下活动吗" in (await http.get("/questions")).text
        refused = await http.post(f"/questions/{qid}/answer", headers=HX,
                                  data={"csrf": csrf, "answer": "又一次"})
        assert is_fragment(refused.text) and 'class="note err"' in refused.text
    [posted] = chat.sent[before:]
    assert posted.group_id == "g-a" and posted.mentions == ("dave",)
    assert posted.text == "早上九点，dave"
    assert ("op_a", "qa.answer", "g-a") in await _audit(chat)
    await chat.stop()


async def test_htmx_misjudged_unwarn_and_release_swap_their_lists(tmp_path, database_url):
    chat = await start_bot(tmp_path, database_url)
    await chat.give("carol", 50)
    await chat.say("alice", f"打卡 {NOTE}")
    for _ in range(3):  # check-in's anti-copy puts dave in the 小黑屋
        await chat.say("dave", f"打卡 {NOTE}！")
    for _ in range(4):  # the fourth offence: carol too
        await chat.say("carol", "你这个傻瓜")
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        page = (await http.get("/moderation")).text
        newest = page.split('hx-post="/moderation/')[1].split("/")[0]
        assert 'hx-target="#today"' in page and 'hx-target="#room"' in page
        before = len(chat.sent)
        room = await http.post("/blackroom/g-a/release", headers=HX,
                               data={"csrf": csrf, "member": "dave"})
        assert is_fragment(room.text) and room.text.lstrip().startswith('<div id="room">')
        assert "已放出 dave" in room.text and room.text.count('class="release"') == 1
        assert 'id="actions"' not in room.text  # today's actions are not part of it
        assert texts(chat.sent[before:]) == ["已把 dave 放出小黑屋。"]
        swapped = await http.post(f"/moderation/{newest}/misjudged", headers=HX,
                                  data={"csrf": csrf})
        html = swapped.text
        assert is_fragment(html) and html.lstrip().startswith('<div id="today">')
        assert "已撤销" in html and html.count('class="misjudged"') == 3
        # carol's 小黑屋 was opened: the list beside it comes along, swapped out of band
        assert '<div id="room" hx-swap-oob="true">' in html and 'class="release"' not in html
        swapped = await http.post(f"/moderation/{newest}/unwarn", headers=HX,
                                  data={"csrf": csrf})  # carol's latest now: the deduction
        assert is_fragment(swapped.text) and swapped.text.count('class="misjudged"') == 2
    assert await chat.balance("carol") == 50  # the deduction refunded
    notices = [d.text for d in chat.sent if d.kind == "notice"]
    assert sum("已撤销对 carol" in n for n in notices) == 2  # the group is told each time
    await chat.stop()


async def test_the_overviews_refresh_returns_its_live_part_only(tmp_path):
    chat = await start_bot(tmp_path)
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        page = (await http.get("/")).text
        assert 'id="refresh"' in page and 'hx-get="/"' in page
        await chat.say("carol", "大家好")
        live = await http.get("/", headers=HX)
        assert is_fragment(live.text) and live.text.lstrip().startswith('<div id="live"')
        assert 'id="groups"' in live.text and 'id="state"' in live.text
        assert "读书会" in live.text and "跑步群" not in live.text
        assert live.headers["vary"] == "HX-Request"
    await chat.stop()


NOTE = "今天读完了《人类简史》第三章，收获很大"


async def test_the_blackroom_lists_every_plugins_stays_and_releases_like_the_builtin(
        tmp_path, database_url):
    chat = await start_bot(tmp_path, database_url)
    await chat.say("alice", f"打卡 {NOTE}")
    for _ in range(3):  # check-in's anti-copy: the third copy is one too many
        await chat.say("dave", f"打卡 {NOTE}！")
    for _ in range(4):  # moderation's escalation: the fourth offence
        await chat.say("carol", "你这个傻瓜")
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        page = await http.get("/moderation")
        room = page.text.split('id="blackroom"')[1]
        assert room.count('class="release"') == 2
        assert "多次抄袭打卡内容" in room and "每日打卡" in room  # why, and who put them in
        assert "使用违禁词" in room and "群规管理" in room
        english = (await http.get("/lang/en?next=/moderation")).text.split('id="blackroom"')[1]
        assert "a banned word" in english and "Daily check-in" in english
        await http.get("/lang/zh?next=/")
        before = len(chat.sent)
        done = await http.post("/blackroom/g-a/release", data={"csrf": csrf, "member": "dave"})
        assert "已放出 dave" in done.text
        assert done.text.split('id="blackroom"')[1].count('class="release"') == 1
        assert texts(chat.sent[before:]) == ["已把 dave 放出小黑屋。"]  # the built-in's words
        again = await http.post("/blackroom/g-a/release", data={"csrf": csrf, "member": "dave"})
        assert "已放出" not in again.text and len(chat.sent) == before + 1  # nothing to tell
    assert "打卡成功" in "".join(texts(await chat.say("dave", "打卡 我自己的第四章笔记")))
    listing = "".join(texts(await chat.say("adam", "小黑屋")))
    assert "carol" in listing and "dave" not in listing
    assert ("op_a", "blackroom.release", "g-a") in await _audit(chat)
    await chat.stop()


async def test_config_page_and_edits(tmp_path):
    chat = await start_bot(tmp_path)
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        check = await http.get("/config")
        assert "配置正确" in check.text
        refused = await http.post("/config/g-a/posts", data={
            "csrf": csrf, "at-0": "25:99", "text-0": "早上好，{group}！"})
        assert "bot.yaml:" in refused.text and "原配置继续运行" in refused.text
        assert (tmp_path / "bot.yaml").read_text(encoding="utf-8") == CONFIG  # as it was
        applied = await http.post("/config/g-a/posts", data={
            "csrf": csrf, "at-0": "07:45", "text-0": "早安，{group}", "new-at": "21:00",
            "new-text": "晚安"})
        assert "已保存" in applied.text
        faq = await http.post("/config/g-a/faq", data={
            "csrf": csrf, "questions-0": "怎么打卡 | 如何签到", "answer-0": "发送「打卡」即可。",
            "new-questions": "停车在哪里", "new-answer": "图书馆地下车库"})
        assert "已保存" in faq.text
    text = (tmp_path / "bot.yaml").read_text(encoding="utf-8")
    assert "# every morning" in text and "# only the reading club" in text  # comments kept
    kept = text.splitlines()
    assert [line for line in CONFIG.splitlines() if line not in kept] == [
        '          - at: "08:30"   # every morning', "            text: 早上好，{group}！"]
    assert 'at: "07:45"' in text and "晚安" in text
    assert "# FAQ of the reading club" in (tmp_path / "config/faq/a.yaml").read_text("utf-8")
    [answer] = await chat.say("carol", "@小助手 停车在哪里")
    assert answer.text == "图书馆地下车库"  # applied like /reload
    posts = await chat.advance_to("2026-11-24 07:46")
    assert any(p.text == "早安，读书会" for p in posts)
    await chat.stop()


async def test_digest_archive_shows_each_days_digest_as_sent_with_its_chart(tmp_path,
                                                                           database_url):
    chat = await start_bot(tmp_path, database_url)
    await chat.say("carol", "大家好")
    sent = await chat.advance_to("2026-11-24 08:31")  # the digest goes out at 08:30
    [digest] = [d for d in sent if d.to == "op_a"]
    async with chat.runtime.db.transaction() as session:  # the day's figures change later
        await session.execute(update(ActivityDaily).where(ActivityDaily.group_id == "g-a")
                              .values(messages=987))
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        page = await http.get("/digests?day=2026-11-23")
        older = await http.get("/digests?day=2026-11-22")
        english = await http.get("/lang/en?next=/digests%3Fday%3D2026-11-22")
    assert page.status_code == 200
    shown = page.text.split('id="digest"')[1]
    assert f">{escape(digest.text)}</pre>" in shown  # the text as the operator received it
    assert "987" not in shown.split("data:image")[0]  # not rebuilt from today's figures
    assert 'id="as-sent"' in shown and "11-24 08:30 发出的原文" in shown
    drawn = base64.b64decode(shown.split("data:image/png;base64,")[1].split('"')[0])
    assert drawn == Path(digest.image_path).read_bytes()  # the chart as sent
    assert "跑步群" not in page.text  # op_b's group is in op_b's digest only
    rebuilt = older.text.split('id="digest"')[1]  # none was sent that day: rebuilt, and said so
    assert 'id="rebuilt"' in rebuilt and "重新生成" in rebuilt and "data:image/png" in rebuilt
    assert "is rebuilt from today" in english.text
    await chat.stop()


def test_bot_run_serves_the_console_beside_the_console_adapter(tmp_path):
    """`bot run` with web.enabled: one process, one event loop, both answering."""
    import httpx

    from tests.webrun import BotProcess

    bot = BotProcess(tmp_path)
    try:
        link = bot.login_link("op_a")
        with httpx.Client(follow_redirects=True) as http:
            page = http.get(link)
            token = page.text.split('name="csrf" value="')[1].split('"')[0]
            overview = http.post(link, data={"csrf": token})
            assert overview.status_code == 200 and "读书会" in overview.text
        bot.type("/as carol", "打卡 第一天")  # the chat goes on answering meanwhile
        bot.wait_for(lambda m: m.get("group") == "g-a" and "carol" in m.get("mentions", []))
    finally:
        output = bot.stop()
    assert bot.process.returncode == 0, output


def test_bot_web_passwd_sets_a_password_for_someone_with_groups(tmp_path):
    import asyncio

    from typer.testing import CliRunner

    from bot.cli import app
    from bot.storage import Database
    from bot.web import auth
    from tests.webkit import write_deployment

    path = write_deployment(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    nobody = CliRunner().invoke(app, ["web", "passwd", "carol", "-c", str(path)])
    assert nobody.exit_code != 0 and "not an operator" in nobody.output
    short = CliRunner().invoke(app, ["web", "passwd", "adam", "-c", str(path),
                                     "--database", url], input="short\nshort\n")
    assert short.exit_code != 0
    done = CliRunner().invoke(app, ["web", "passwd", "adam", "-c", str(path), "--database", url],
                              input="a long passphrase\na long passphrase\n")
    assert done.exit_code == 0, done.output

    async def stored() -> str:
        db = Database(url, tmp_path)
        try:
            async with db.transaction() as session:
                ok = await auth.password_ok(session, "adam", "a long passphrase")
                wrong = await auth.password_ok(session, "adam", "a long passphras")
                row = await session.get(auth.WebPassword, "adam")
                assert ok and not wrong
                return row.hash
        finally:
            await db.close()

    stored_hash = asyncio.run(stored())
    assert stored_hash.startswith("scrypt$") and "a long passphrase" not in stored_hash


async def test_overview_figures_today_live_yesterday_as_the_digest_counts(tmp_path):
    chat = await start_bot(tmp_path)
    for text in ("早", "今天读什么", "好"):
        await chat.say("carol", text)
    await chat.advance_to("2026-11-24 10:00")
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        await chat.say("dave", "大家好")
        await chat.say("erin", "早上好")
        await chat.runtime.activity.flush()  # the running bot's 5-second flush
        row = (await http.get("/")).text.split('href="/group/g-a">')[1].split("</tr>")[0]
        today, yesterday = row.split('<td class="n">')[1:3]
        assert today.startswith("3<") and "/ 3" in today  # with op_a's 后台: 3 people
        assert yesterday.startswith("3<") and "/ 1" in yesterday
        await chat.say("dave", "还有人吗")
        await chat.runtime.activity.flush()
        row = (await http.get("/")).text.split('href="/group/g-a">')[1].split("</tr>")[0]
        assert row.split('<td class="n">')[1].startswith("4<")  # today is never cached
    await chat.stop()


def test_every_console_text_in_both_languages():
    from bot.web.command import TEXTS as COMMAND_TEXTS
    from bot.web.texts import TEXTS

    assert TEXTS.missing_translations() == set()
    assert COMMAND_TEXTS.missing_translations() == set()
    assert TEXTS.get("en", "streak", days=1) == "1 day"
