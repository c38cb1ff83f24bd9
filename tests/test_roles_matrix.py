"""Who may run what, where: every shipped command × every kind of person × every kind of
group, through the harness (issue 12, point 1).

The expectation below is written by hand from the README's command table — not read from
the commands' own declarations — so a command whose declared role drifts fails here.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import BUILTINS
from bot.app import PLUGINS as ALL
from tests.shipped import copy_content, shipped_plugins

EVERYONE, ADMIN, BOT_ADMIN = "everyone", "admin", "bot.yaml admin"

# The README's table, per command: EVERYONE; ADMIN = this group's admins, owner and operators
# (the room's own owner/admins count where the bot runs the group); BOT_ADMIN = only roles
# bot.yaml gives (operators, or the group's owner/admins listed there).
WHO: dict[tuple[str, str], str] = {
    ("core", "help"): EVERYONE, ("core", "plugins"): EVERYONE,
    ("core", "reload"): BOT_ADMIN, ("core", "群号"): EVERYONE, ("core", "console"): ADMIN,
    ("timed_posts", "timed"): ADMIN,
    ("points", "points"): EVERYONE, ("points", "top"): EVERYONE,
    ("points", "加分"): ADMIN, ("points", "扣分"): ADMIN,
    ("checkin", "checkin"): EVERYONE, ("checkin", "makeup"): EVERYONE,
    ("checkin", "mycheckin"): EVERYONE, ("checkin", "checkin_top"): EVERYONE,
    ("checkin", "quiet"): EVERYONE,
    ("qa", "teach"): ADMIN, ("qa", "forget"): ADMIN, ("qa", "unanswered"): ADMIN,
    ("moderation", "warn"): ADMIN, ("moderation", "unwarn"): ADMIN,
    ("moderation", "misjudged"): ADMIN,
    ("core", "blackroom"): ADMIN, ("core", "release"): ADMIN,
    ("quiz", "quiz"): EVERYONE, ("quiz", "guessidiom"): EVERYONE,
    ("quiz", "quizbanks"): EVERYONE, ("quiz", "stopquiz"): ADMIN,
    ("quiz", "chain"): EVERYONE, ("quiz", "chainhint"): EVERYONE,
    ("minigames", "dice"): ADMIN, ("minigames", "roll"): EVERYONE,
    ("minigames", "stopdice"): ADMIN, ("minigames", "balloons"): ADMIN,
    ("minigames", "pop"): EVERYONE, ("minigames", "stopballoons"): ADMIN,
    ("redpacket", "redpacket"): EVERYONE, ("redpacket", "systempacket"): ADMIN,
    ("redpacket", "grab"): EVERYONE, ("redpacket", "redpool"): EVERYONE,
    ("lottery", "draw"): ADMIN, ("lottery", "draws"): EVERYONE,
    ("lottery", "canceldraw"): ADMIN,
    ("briefing", "briefing"): EVERYONE,
    ("activity", "activity"): EVERYONE, ("activity", "portrait"): ADMIN,
    ("tags", "tag"): ADMIN, ("tags", "untag"): ADMIN,
    ("invites", "invites"): EVERYONE, ("invites", "inviter"): ADMIN,
}

# People: a member; the room's own admin and owner (as the platform reports them); the
# group's admin and owner as bot.yaml lists them; an operator.
PEOPLE = ("member", "room-admin", "room-owner", "yaml-admin", "yaml-owner", "operator")
# Where they act: the group bot.yaml lists (where their roles are); a room not in bot.yaml
# (they own/admin that room); the same room when `defaults:` enables plugins for unlisted
# rooms; another listed group, where they hold no role.
PLACES = ("listed", "unlisted", "unlisted+defaults", "another")


def expected(plugin: str, who: str, person: str, place: str) -> str:
    """yes (runs), no (refused as forbidden), - (no such command there)."""
    if plugin != "core" and place == "unlisted":
        return "-"  # an unlisted room without `defaults:` has the built-ins only
    if who == EVERYONE or person == "operator":
        return "yes"
    if person in ("yaml-admin", "yaml-owner"):
        return "yes" if place == "listed" else "no"
    if person in ("room-admin", "room-owner") and who == ADMIN:
        return "yes" if place in ("listed", "unlisted+defaults") else "no"
    return "no"


def config(defaults: bool) -> dict[str, Any]:
    plugins = shipped_plugins()
    # Hundreds of commands in a minute: moderation's flood and repeat rules are not what
    # this test is about (issue 12 point 5 exempts commands from them).
    plugins["moderation"].update(flood=None, repeat=None)
    return {
        "operators": [{"id": "operator"}],
        "limits": {"commands_per_minute": 100_000},
        "defaults": {"plugins": plugins if defaults else {}},
        "groups": {
            "g-listed": {"name": "读书会", "owner": "yaml-owner", "admins": ["yaml-admin"],
                         "plugins": plugins},
            "g-another": {"name": "跑步群", "owner": "someone", "plugins": plugins},
        },
    }


async def walk(chat: Any, places: dict[str, str]) -> dict[tuple[str, str, str, str], str]:
    """Send every command from every person in every place; what happened to each."""
    ran: list[bool] = []
    original = chat.runtime.dispatcher._call

    async def spy(enabled: Any, call: Any, ctx: Any, *, apologize: bool = False) -> Any:
        ran.append(apologize)  # apologize=True: a command's handler was called
        return await original(enabled, call, ctx, apologize=apologize)

    chat.runtime.dispatcher._call = spy
    prefix = chat.runtime.config.prefixes[0]
    seen: dict[tuple[str, str, str, str], str] = {}
    for place, group in places.items():
        for plugin in (*BUILTINS, *ALL):
            for command in plugin.commands:
                for person in PEOPLE:
                    ran.clear()
                    replies = await chat.say(person, f"{prefix}{command.name}", group=group)
                    refused = any("只有" in r.text and "可以用" in r.text and
                                  r.mentions == (person,) for r in replies)
                    outcome = "yes" if any(ran) else "no" if refused else "-"
                    seen[(plugin.name, command.name, person, place)] = outcome
    return seen


def add_room(chat: Any, group_id: str, name: str, owner: str | None, admins: tuple[str, ...]):
    room = chat.chat.groups.get(group_id) or chat.chat.add_group(
        group_id, name, ZoneInfo("Asia/Shanghai"))
    room.owner_id, room.admin_ids = owner, admins


@pytest.fixture
def content(tmp_path):
    copy_content(tmp_path)


async def test_every_command_for_every_person_in_every_group(make_chat, content):
    shipped = {(p.name, c.name) for p in (*BUILTINS, *ALL) for c in p.commands}
    assert shipped == set(WHO), "declare each new command's expectation in WHO"

    seen: dict[tuple[str, str, str, str], str] = {}
    for defaults in (False, True):
        chat = await make_chat(config(defaults))
        # The room owner and admin hold those roles on the platform in the listed group and
        # in a room of their own that bot.yaml does not list — never in the other group.
        add_room(chat, "g-listed", "读书会", "room-owner", ("room-admin",))
        add_room(chat, "g-another", "跑步群", "someone", ("someone-else",))
        add_room(chat, "g-stranger", "陌生群", "room-owner", ("room-admin",))
        places = ({"unlisted+defaults": "g-stranger"} if defaults else
                  {"listed": "g-listed", "unlisted": "g-stranger", "another": "g-another"})
        seen |= await walk(chat, places)
        await chat.stop()

    want = {(plugin, name, person, place): expected(plugin, WHO[(plugin, name)], person, place)
            for (plugin, name) in WHO for person in PEOPLE for place in PLACES}
    wrong = sorted(f"{k}: expected {want[k]}, got {seen.get(k)}" for k in want
                   if seen.get(k) != want[k])
    assert not wrong, "\n".join(wrong[:40]) + f"\n({len(wrong)} cells wrong)"


def test_the_walk_covers_every_shipped_plugin() -> None:
    from tests.shipped import shipped_plugins

    assert {p.name for p in ALL} <= set(shipped_plugins())
