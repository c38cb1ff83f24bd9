"""Warm-up: what first uses would load is loaded in threads after start."""

from __future__ import annotations


async def test_warm_up_loads_what_first_uses_would(make_chat) -> None:
    """The segmenter and the idiom dictionary load in threads at start, so a member's first
    question or chain does not wait for them."""
    from bot.almanac import _lunar
    from plugins.moderation.detect import _suffixes
    from plugins.quiz.game import chain_starts
    from plugins.quiz.idioms import dictionary

    for cached in (chain_starts, dictionary, _suffixes, _lunar):
        cached.cache_clear()
    chat = await make_chat({"groups": {"g": {"name": "读书会", "plugins": {
        "qa": {}, "quiz": {"banks": []}, "moderation": {}, "briefing": {}}}}})
    await chat.runtime.warm_up()
    assert dictionary.cache_info().currsize == 1 and chain_starts.cache_info().currsize == 1
    assert _suffixes.cache_info().currsize == 1  # the public suffix list
    assert _lunar.cache_info().currsize == 1  # the first 早报's lunar date (its tables)
    import jieba

    assert jieba.dt.initialized


async def test_content_files_are_parsed_once_per_version(tmp_path) -> None:
    from pydantic import BaseModel

    from bot.config.loader import load_content

    class Items(BaseModel):
        items: list[str]

    path = tmp_path / "items.yaml"
    path.write_text("items: [a, b]\n", encoding="utf-8")
    first = load_content(path, Items)
    assert load_content(path, Items) is first  # read once
    path.write_text("items: [a, b, c]\n", encoding="utf-8")  # edited: a new version
    assert load_content(path, Items).items == ["a", "b", "c"]
