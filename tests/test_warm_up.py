"""Warm-up: what first uses would load is loaded in threads after start."""

from __future__ import annotations


async def test_warm_up_loads_what_first_uses_would(make_chat) -> None:
    """The segmenter and the idiom dictionary load in threads at start, so a member's first
    question or chain does not wait for them."""
    from plugins.quiz.game import chain_starts
    from plugins.quiz.idioms import dictionary

    chain_starts.cache_clear()
    dictionary.cache_clear()
    chat = await make_chat({"groups": {"g": {"name": "读书会",
                                             "plugins": {"qa": {}, "quiz": {"banks": []}}}}})
    await chat.runtime.warm_up()
    assert dictionary.cache_info().currsize == 1 and chain_starts.cache_info().currsize == 1
    import jieba

    assert jieba.dt.initialized
