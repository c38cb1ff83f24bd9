"""The console's security suite (issue 19): what an attacker or a curious operator tries."""

from __future__ import annotations

import re

import pytest

from tests.webkit import (
    client,
    form_token,
    link_for,
    log_in,
    press_link,
    sees_only,
    set_password,
    start_bot,
)

EVIL = '<script>alert("x")</script>'
EVIL_IMG = '<img src=x onerror=alert(1)>'
HTMX_TAG = r'<script src="/static/htmx\.min\.js\?v=[0-9a-f]{12}" defer>'
HX = {"HX-Request": "true"}


@pytest.fixture
async def chat(tmp_path):
    chat = await start_bot(tmp_path)
    yield chat
    await chat.stop()


async def test_another_operators_group_is_forbidden(chat):
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_b")
        for path in ("/group/g-a", "/config/g-a"):
            response = await http.get(path)
            assert response.status_code == 403 and "没有查看这个群的权限" in response.text
        refused = await http.post("/config/g-a/posts", data={"csrf": csrf, "new-at": "09:00",
                                                             "new-text": "hi"})
        assert refused.status_code == 403
        assert "hi" not in chat.runtime.config.path.read_text(encoding="utf-8")


async def test_actions_on_another_operators_group_are_refused(chat):
    await chat.say("carol", "@小助手 周末有活动吗")
    await chat.say("carol", "你这个傻瓜")
    async with client(chat) as http:
        csrf_a = await log_in(http, chat, "op_a")
        page = await http.get("/questions")
        qid = re.search(r'action="/questions/(\d+)/answer"', page.text).group(1)
        aid = re.search(r'action="/moderation/(\d+)/misjudged"',
                        (await http.get("/moderation")).text).group(1)
        assert csrf_a
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_b")
        assert "周末有活动吗" not in (await http.get("/questions")).text
        answered = await http.post(f"/questions/{qid}/answer", data={"csrf": csrf,
                                                                     "answer": "hijack"})
        assert "没有这个问题" in answered.text
        undone = await http.post(f"/moderation/{aid}/misjudged", data={"csrf": csrf})
        assert "没有这条记录" in undone.text
        released = await http.post("/blackroom/g-a/release", data={"csrf": csrf,
                                                                   "member": "carol"})
        assert released.status_code == 403
    assert not any("hijack" in d.text for d in chat.sent)


async def test_forms_without_the_csrf_token_are_refused(chat):
    await chat.say("carol", "@小助手 周末有活动吗")
    async with client(chat) as http:
        csrf = await log_in(http, chat, "op_a")
        page = await http.get("/questions")
        qid = re.search(r'action="/questions/(\d+)/answer"', page.text).group(1)
        for data in ({"answer": "x"}, {"answer": "x", "csrf": "forged"},
                     {"answer": "x", "csrf": ""}):
            response = await http.post(f"/questions/{qid}/answer", data=data)
            assert response.status_code == 403 and "表单已过期" in response.text
        assert (await http.post("/config/g-a/posts", data={"new-at": "09:00",
                                                           "new-text": "x"})).status_code == 403
        assert (await http.post("/logout", data={})).status_code == 403
        assert "周末有活动吗" in (await http.get("/questions")).text  # still open
        assert csrf
    async with client(chat) as http:  # the login forms carry one too (double submit)
        path = await link_for(chat, "op_a")
        response = await http.post(path, data={})
        assert response.status_code == 403
        await set_password(chat, "op_a", "a long passphrase")
        response = await http.post("/login", data={"person": "op_a",
                                                   "password": "a long passphrase"})
        assert response.status_code == 403


async def test_htmx_requests_need_the_csrf_token_too(chat):
    await chat.say("carol", "@小助手 周末有活动吗")
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        page = (await http.get("/questions")).text
        qid = re.search(r'hx-post="/questions/(\d+)/answer"', page).group(1)
        form = page[page.index(f'hx-post="/questions/{qid}/answer"'):]
        assert 'name="csrf"' in form[:form.index("</form>")]  # htmx sends the form's token
        for data in ({"answer": "x"}, {"answer": "x", "csrf": "forged"}):
            response = await http.post(f"/questions/{qid}/answer", data=data, headers=HX)
            assert response.status_code == 403 and "表单已过期" in response.text
        for path in ("/moderation/1/misjudged", "/moderation/1/unwarn",
                     "/blackroom/g-a/release"):
            response = await http.post(path, data={"member": "carol"}, headers=HX)
            assert response.status_code == 403, path
        assert "周末有活动吗" in (await http.get("/questions")).text  # still open
    assert not any(d.text == "x" for d in chat.sent)
    async with client(chat) as http:  # no session: htmx is told to load the login page
        response = await http.get("/", headers=HX, follow_redirects=False)
        assert response.headers["HX-Redirect"] == "/login" and not response.text


async def test_only_the_consoles_own_scripts_run(chat):
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        page = await http.get("/")
        policy = dict(part.strip().split(" ", 1) for part in
                      page.headers["content-security-policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
        assert "unsafe-eval" not in str(policy) and "'unsafe-inline'" not in (
            policy["script-src"] + policy["connect-src"])
        assert policy["connect-src"] == "'self'"  # htmx asks the console, nothing else
        url = re.search(HTMX_TAG.replace(r'<script src="', '"').replace('" defer>', '"'),
                        page.text).group(0).strip('"')
        script = await http.get(url)
        assert script.status_code == 200 and script.text.startswith("/*! htmx 2.")
        assert script.headers["content-type"].startswith("text/javascript")
        cache = script.headers["cache-control"]
        assert "max-age=31536000" in cache and "immutable" in cache
        assert script.headers["x-content-type-options"] == "nosniff"
        assert (await http.get("/static/../app.py")).status_code == 404
        assert (await http.get("/static/nothing.js")).status_code == 404
    async with client(chat) as http:  # public: the login page loads it before a session
        assert (await http.get(url)).status_code == 200


async def test_a_login_link_works_once(chat):
    path = await link_for(chat, "op_a")
    async with client(chat) as http:
        page = await http.get(path)
        token = form_token(page.text)
        assert (await http.get(path)).status_code == 200  # a preview (GET) does not use it
        first = await http.post(path, data={"csrf": token})
        assert first.status_code == 200 and "读书会" in first.text
    async with client(chat) as other:
        again = await press_link(other, path)
        assert again.status_code == 403 and "已用过" in again.text
        assert (await other.get("/")).url.path == "/login"


async def test_an_expired_login_link_is_refused(chat):
    path = await link_for(chat, "op_a")
    await chat.advance("10m")
    async with client(chat) as http:
        response = await press_link(http, path)
        assert response.status_code == 403 and "已过期" in response.text
        assert (await http.get("/")).url.path == "/login"


async def test_guessed_links_and_members_get_nothing(chat):
    assert all(d.to != "carol" for d in await chat.say("carol", "后台"))  # a member: no link
    async with client(chat) as http:
        response = await press_link(http, "/login/not-a-real-token")
        assert response.status_code == 403


async def test_brute_force_password_login_is_rate_limited(chat):
    await set_password(chat, "op_a", "the right passphrase")
    async with client(chat) as http:
        token = form_token((await http.get("/login")).text)
        codes = []
        for n in range(6):
            response = await http.post("/login", data={"csrf": token, "person": "op_a",
                                                       "password": f"guess {n}"})
            codes.append(response.status_code)
        assert codes == [401] * 5 + [429]
        right = await http.post("/login", data={"csrf": token, "person": "op_a",
                                                "password": "the right passphrase"})
        assert right.status_code == 429 and "尝试次数太多" in right.text  # even the right one
        await chat.advance("15m")
        later = await http.post("/login", data={"csrf": token, "person": "op_a",
                                                "password": "the right passphrase"})
        assert later.status_code == 200 and "读书会" in later.text


async def test_html_in_names_and_messages_is_escaped_everywhere(chat):
    await chat.give(EVIL, 5)
    await chat.say(EVIL, f"@小助手 {EVIL_IMG} 是什么")
    await chat.say(EVIL, f"{EVIL_IMG} 傻瓜")
    await chat.advance_to("2026-11-24 08:31")  # yesterday's digest: the name in its text
    await chat.say(EVIL, f"打卡 {EVIL_IMG}")
    await chat.say(EVIL, f"{EVIL_IMG} 傻瓜")
    async with client(chat) as http:
        await log_in(http, chat, "op_a")
        pages = ["/", "/group/g-a", "/questions", "/moderation", "/digests?day=2026-11-23",
                 "/config"]
        for path in pages:
            response = await http.get(path)
            assert response.status_code == 200, path
            # the one script is the console's own htmx, by URL: no script from the data
            scripts = re.findall(r"<script[^>]*>", response.text)
            assert len(scripts) == 1 and re.fullmatch(HTMX_TAG, scripts[0]), path
            assert "<img src=x" not in response.text, path
            assert "default-src 'none'" in response.headers["content-security-policy"]
        group = (await http.get("/group/g-a")).text
        assert "&lt;script&gt;" in group and "&lt;img src=x" in group  # shown, as text
        assert "&lt;img src=x" in (await http.get("/questions")).text
        assert "&lt;img src=x" in (await http.get("/moderation")).text


async def test_a_rooms_own_admin_sees_that_room_only(chat):
    """The platform's admins count where the bot runs the group (as for chat commands):
    the link carries the group the bot checked them in, and nothing more."""
    chat.chat.groups["g-a"].admin_ids = ("roomie",)
    async with client(chat) as http:
        await log_in(http, chat, "roomie")
        await sees_only(http, "g-a", "读书会", "g-b")
    assert all(r.to != "roomie" for r in await chat.say("roomie", "后台", group="g-b"))


async def test_the_language_switch_redirects_only_within_the_console(chat):
    async with client(chat) as http:
        for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
            response = await http.get("/lang/en", params={"next": target},
                                      follow_redirects=False)
            assert response.headers["location"] == "/", target
