"""Members' and owners' text is data (issue 12 points 3 and 4): it is never run as a format
string, and what the bot echoes of it is a short, marked excerpt."""

from __future__ import annotations

import ast
import asyncio
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.testing import FakeChat
from bot.text import EXCERPT_LIMIT, MESSAGE_LIMIT

ROOT = Path(__file__).resolve().parents[1]

# -- no str.format on anything but a literal ------------------------------------------------


def format_calls(tree: ast.AST) -> list[int]:
    """Lines of `x.format(...)` / `x.format_map(...)` where x is not a string literal."""
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("format", "format_map")
            and not (isinstance(node.func.value, ast.Constant)
                     and isinstance(node.func.value.value, str))]


def test_the_scan_finds_what_it_looks_for():
    source = "a = t.format(x=1)\nb = '{x}'.format(x=1)\nc = d.format_map(m)\n"
    assert format_calls(ast.parse(source)) == [1, 3]


def test_no_format_string_is_applied_to_a_variable_in_bot_or_plugins():
    found = []
    for folder in ("bot", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            found += [f"{path.relative_to(ROOT)}:{line}" for line in format_calls(tree)]
    assert not found, "use bot.text.fill for templates: " + ", ".join(found)


# -- braces come back as typed, through the real paths --------------------------------------

PIECES = [
    *'{}{}:>0.!r_ab名字 %s[]"', "{name}", "{group}", "{0}", "{date}", "{x.__class__}",
    "{name:>99999}", "{{", "}}", "{}",
    '{"km": 5}', "{group.__class__.__mro__}"]
BRACES = st.lists(st.sampled_from(PIECES), min_size=1, max_size=20).map(
    lambda parts: "".join(parts).strip()).filter(bool)


def filled(text: str, **values: str) -> str:
    """What the bot should send: only the documented placeholders replaced (written here
    independently of bot.text.fill; values contain no braces)."""
    out, i = [], 0
    while i < len(text):
        for name, value in values.items():
            if text.startswith("{" + name + "}", i):
                out.append(value)
                i += len(name) + 2
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def run_chat(tmp_path: Path, config: dict) -> tuple[asyncio.AbstractEventLoop, FakeChat]:
    loop = asyncio.new_event_loop()
    return loop, loop.run_until_complete(FakeChat.start(tmp_path, config))


def test_a_taught_answer_with_braces_is_answered_as_typed(tmp_path):
    config = {"limits": {"commands_per_minute": 100_000},
              "groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {"qa": {
        "answers_per_hour": 100_000, "loop_guard_per_minute": 100_000, "repeat_window": "1s"}}}}}
    loop, chat = run_chat(tmp_path, config)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(answer=BRACES)
    def check(answer: str) -> None:
        word = "暗号"  # taught again each time: the new answer replaces the old one
        loop.run_until_complete(chat.advance("2s"))  # past the repeat window
        loop.run_until_complete(chat.say("adam", f"教 {word} => {answer}"))
        replies = loop.run_until_complete(chat.say("carol", f"@小助手 {word}"))
        assert [r.text for r in replies] == [filled(answer, name="carol", group="读书会")]

    try:
        check()
    finally:
        loop.run_until_complete(chat.stop())
        loop.close()


def test_a_timed_post_with_braces_is_posted_as_typed(tmp_path):
    folder = tmp_path / "config" / "timed_posts"
    folder.mkdir(parents=True)
    text_file = folder / "post.txt"
    text_file.write_text("x", encoding="utf-8")
    config = {"groups": {"g": {"name": "读书会", "plugins": {"timed_posts": {"posts": [
        {"at": "09:00", "text_file": "timed_posts/post.txt"}]}}}}}
    loop, chat = run_chat(tmp_path, config)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=BRACES.filter(lambda t: not any(p in t for p in
                                                 ("{date}", "{weekday}", "{lunar}", "{term}",
                                                  "{members}", "{topic}"))))
    def check(text: str) -> None:
        text_file.write_text(text, encoding="utf-8")
        posts = loop.run_until_complete(chat.advance("1d"))
        assert [p.text for p in posts] == [filled(text, group="读书会")]

    try:
        check()
    finally:
        loop.run_until_complete(chat.stop())
        loop.close()
    shutil.rmtree(folder)


# -- bounded echoes -----------------------------------------------------------------------

LONG = "刷" * 3000


def echoes(reply: str, sent: str, longest: int = EXCERPT_LIMIT) -> bool:
    """The reply holds a run of the member's text longer than an excerpt."""
    return any(reply[i:i + longest + 1] in sent for i in range(len(reply) - longest))


async def test_nothing_long_a_member_typed_is_echoed(make_chat, tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    chat = await make_chat({"operators": [{"id": "op"}], "groups": {"g": {
        "name": "读书会", "admins": ["adam"], "plugins": {
            "qa": {}, "quiz": {}, "lottery": {}, "points": {}}}}})
    attempts = [
        ("alice", "/" + LONG),  # an unknown command
        ("alice", "/help" + "x" * 3000),  # "did you mean"
        ("alice", "加分" + "！" * 3000),  # forbidden, with the word as typed
        ("adam", f"教 {LONG} => 答案"),
        ("adam", f"忘记 {LONG}"),
        ("alice", f"@小助手 {LONG}"),
        ("adam", "待答"),
        ("alice", f"答题 {LONG}"),
        ("alice", f"成语接龙 {LONG}"),
        ("adam", f"发起抽奖 {LONG} 明天20:00 书*1"),
        ("adam", f"发起抽奖 口令 {LONG} 书*1"),
        ("adam", f"发起抽奖 口令 明天20:00 {LONG}"),
    ]
    for who, text in attempts:
        for reply in await chat.say(who, text):
            assert not echoes(reply.text, text), (text[:10], reply.text[:80])
            assert "…" in reply.text or "刷" not in reply.text


async def test_every_message_is_capped_with_a_clean_cut(make_chat, tmp_path):
    (tmp_path / "config" / "faq").mkdir(parents=True)
    answer = "\n".join(f"第 {n} 条：" + "很长的回答" * 10 for n in range(200))
    (tmp_path / "config" / "faq" / "long.yaml").write_text(
        "entries:\n  - questions: [长回答]\n    answer: |\n"
        + "".join(f"      {line}\n" for line in answer.splitlines()), encoding="utf-8")
    chat = await make_chat({"groups": {"g": {"name": "读书会", "plugins": {
        "qa": {"faq_files": ["faq/long.yaml"]}}}}})
    [reply] = await chat.say("alice", "@小助手 长回答")
    assert len(reply.text) <= MESSAGE_LIMIT and reply.text.endswith("…")
    assert reply.text[:-1].rstrip().endswith("很长的回答")  # cut at a line, not mid-word
