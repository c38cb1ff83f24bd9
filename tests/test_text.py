"""One way to fill texts: only known placeholders change; every other brace stays."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.text import MESSAGE_LIMIT, cap, excerpt, fill


def test_known_placeholders_are_filled() -> None:
    assert fill("欢迎 {name} 加入「{group}」", {"name": "小明", "group": "读书会"}) == (
        "欢迎 小明 加入「读书会」"
    )


def test_everything_else_stays_as_typed() -> None:
    hostile = '{group.__class__.__mro__} {0} {} {"km": 5} {name:>999999999} {{name}} {name'
    assert fill(hostile, {"group": "g", "name": "n"}) == (
        '{group.__class__.__mro__} {0} {} {"km": 5} {name:>999999999} {n} {name'
    )


def test_values_are_not_filled_again() -> None:
    assert fill("{a}", {"a": "{b}", "b": "x"}) == "{b}"


@given(st.text(), st.dictionaries(st.sampled_from(["name", "group", "date"]), st.text()))
def test_only_documented_placeholders_change(text: str, values: dict[str, str]) -> None:
    # With every placeholder's own braces removed, the text must come back unchanged.
    unknown = {key: "{" + key + "}" for key in values}
    assert fill(text, unknown) == text


def test_excerpt_marks_a_cut() -> None:
    assert excerpt("打卡") == "打卡"
    long = excerpt("刷" * 3000)
    assert len(long) == 20 and long.endswith("…")


def test_cap_cuts_cleanly_at_a_line() -> None:
    text = "\n".join(f"第 {n} 行：" + "字" * 40 for n in range(200))
    capped = cap(text)
    assert len(capped) <= MESSAGE_LIMIT and capped.endswith("…")
    assert capped[:-1].splitlines()[-1].endswith("字")  # no half line
    assert cap("short") == "short"
