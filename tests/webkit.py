"""The web console over the harness: a bot on a simulated chat, a client in its loop."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from bot.testing import FakeChat
from bot.web import auth
from bot.web.app import create_app

# Written as text (not dumped from a dict) so the comments are there to be kept.
CONFIG = """\
# The console's test deployment: two operators, each with a group of their own.
bot:
  name: 小助手
outbox: {per_minute: 1000000, burst: 1000000, daily_cap: 1000000000, group_jitter: [0s, 0s]}
web:
  enabled: true
  public_url: https://console.example.org
operators:
  - id: op_a
    name: 运营甲
    groups: [g-a]   # only the reading club
  - id: op_b
    groups: [g-b]
groups:
  g-a:
    name: 读书会
    owner: olivia
    admins: [adam]
    tags: [reading]
    plugins:
      points: {}
      checkin: {}
      qa:
        faq_files: [faq/a.yaml]   # the club's own answers
      moderation:
        banned_words: [傻瓜]
        escalation: [warn, warn, "deduct:10", "blackroom:2"]
      timed_posts:
        posts:
          - at: "08:30"   # every morning
            text: 早上好，{group}！
  g-b:
    name: 跑步群
    owner: bella
    plugins:
      qa:
        faq_files: [faq/b.yaml]
"""

FAQ = """\
# FAQ of the reading club
entries:
  - questions: [怎么打卡, 如何签到]
    answer: 发送「打卡」即可。
"""


def write_deployment(directory: Path) -> Path:
    (directory / "config" / "faq").mkdir(parents=True, exist_ok=True)
    (directory / "config" / "faq" / "a.yaml").write_text(FAQ, encoding="utf-8")
    (directory / "config" / "faq" / "b.yaml").write_text("entries: []\n", encoding="utf-8")
    path = directory / "bot.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


async def start_bot(directory: Path, database_url: str | None = None) -> FakeChat:
    write_deployment(directory)
    chat = await FakeChat.start(directory, None, database_url=database_url,
                                now="2026-11-23 10:00")
    chat.use_group("g-a")
    return chat


def client(chat: FakeChat) -> httpx.AsyncClient:
    app = create_app(chat.runtime)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.7", 5000)),
                             base_url="https://console.test", follow_redirects=True)


LINK = re.compile(r"https://console\.example\.org(/login/[\w-]+)")


async def link_for(chat: FakeChat, person: str, group: str = "g-a") -> str:
    """`person` sends 后台 in the group; the path of the link the bot sent them privately."""
    sent = await chat.say(person, "后台", group=group)
    dms = [d for d in sent if d.to == person and d.group_id is None]
    assert dms, [d.text for d in sent]
    found = LINK.search(dms[0].text)
    assert found, dms[0].text
    return found.group(1)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def press_link(http: httpx.AsyncClient, path: str) -> httpx.Response:
    """Opens a login link's page and presses its button, as a person would."""
    page = await http.get(path)
    return await http.post(path, data={"csrf": form_token(page.text)})


async def log_in(http: httpx.AsyncClient, chat: FakeChat, person: str, group: str = "g-a"
                 ) -> str:
    """Logs in by link; returns the session's CSRF token for forms."""
    response = await press_link(http, await link_for(chat, person, group))
    assert response.status_code == 200, response.text[:300]
    return form_token(response.text)


async def sees_only(http: httpx.AsyncClient, group: str, name: str, other: str) -> None:
    """The logged-in person sees `group` (called `name`) and is refused `other`."""
    assert name in (await http.get("/")).text
    assert (await http.get(f"/group/{group}")).status_code == 200
    assert (await http.get(f"/group/{other}")).status_code == 403


async def set_password(chat: FakeChat, person: str, password: str) -> None:
    async with chat.runtime.db.transaction() as session:
        await auth.set_password(session, person, password, chat.clock.now())
