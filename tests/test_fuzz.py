"""Hostile input from every role through every shipped plugin (issue 12 point 9): nothing
logged as an error, no apology, every message handled in bounded time and answered with
bounded, clean text. `bench/fuzz.py` measures the same messages' latency."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.testing import FakeChat
from bot.text import MESSAGE_LIMIT
from tests.fuzzing import message
from tests.shipped import copy_content, leaks, shipped_plugins

# A member, bot.yaml's admin and owner, an operator, the room's own owner and admin.
PEOPLE = ["member", "adam", "olivia", "op", "room-owner", "room-admin"]
APOLOGIES = ("出了点问题", "ran into a problem")


def fuzz_config(without: tuple[str, ...] = ()) -> dict[str, Any]:
    plugins = {name: block for name, block in shipped_plugins().items() if name not in without}
    return {
        "operators": [{"id": "op"}],
        "wechaty": {"token": "fuzz-token-123"},
        "groups": {
            "g-fuzz": {"name": "读书会", "owner": "olivia", "admins": ["adam"],
                       "plugins": plugins},
            "g-quiet": {"name": "另一个群", "plugins": {"points": {}}},
        },
    }


async def start(directory: Any, without: tuple[str, ...] = ()) -> FakeChat:
    copy_content(directory)
    chat = await FakeChat.start(directory, fuzz_config(without))
    room = chat.chat.groups["g-fuzz"]
    room.owner_id, room.admin_ids = "room-owner", ("room-admin",)
    chat.chat.add_group("g-stranger", "陌生群", ZoneInfo("Asia/Shanghai")).owner_id = "room-owner"
    return chat


def command_words(chat: FakeChat) -> list[str]:
    group = chat.runtime.config.groups["g-fuzz"]
    bindings = {**group.slash, **group.keywords}
    return sorted(w for w, b in bindings.items() if b.command.name != "reload")  # reads files


def test_hostile_messages_from_every_role(tmp_path, caplog):
    loop = asyncio.new_event_loop()
    chat = loop.run_until_complete(start(tmp_path))
    words, prefixes = command_words(chat), list(chat.runtime.config.prefixes)
    secrets = ["fuzz-token-123", "g-quiet", "另一个群", str(tmp_path)]
    caplog.set_level(logging.ERROR)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True)
    @given(rng=st.randoms(use_true_random=False), who=st.sampled_from(PEOPLE),
           where=st.sampled_from(["g-fuzz", "g-fuzz", "g-fuzz", "g-stranger"]),
           later=st.sampled_from(["0s"] * 8 + ["31s", "10m", "1d"]))
    def check(rng: random.Random, who: str, where: str, later: str) -> None:
        text = message(rng, words, prefixes)
        started = time.perf_counter()
        replies = loop.run_until_complete(chat.say(who, text, group=where))
        elapsed = time.perf_counter() - started
        replies += loop.run_until_complete(chat.advance(later))
        assert elapsed < 2.0, f"{elapsed:.2f} s for {text[:80]!r}"
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, f"{errors[0].getMessage()[:300]} after {text[:80]!r}"
        for reply in replies:
            assert not any(a in reply.text for a in APOLOGIES), (text[:80], reply.text[:200])
            assert len(reply.text) <= MESSAGE_LIMIT
            if reply.group_id:
                assert not leaks(reply.text, secrets), (text[:80], reply.text[:200])

    try:
        check()
    finally:
        loop.run_until_complete(chat.stop())
        loop.close()


async def test_a_long_run_of_digits_and_dashes_is_moderated_quickly(make_chat, tmp_path):
    chat = await make_chat({"groups": {"g": {"name": "读书会", "plugins": {"moderation": {}}}}})
    started = time.perf_counter()
    await chat.say("member", "-0" * 10_000)
    # Not a speed claim (bench/fuzz.py measures): a quadratic pattern took 22 s here.
    assert time.perf_counter() - started < 2
