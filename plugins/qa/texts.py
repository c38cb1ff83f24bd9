"""Everything Q&A says, in Chinese and English."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "unknown": "这个问题我还不会回答，已经记下来了，管理员会尽快补上答案。",
        "repeat": "这个问题刚刚回答过啦，往上翻一翻就能看到 ↑",
        "teach.usage": "用法：教 问题 => 答案，例如：教 线下活动在哪 => 每月最后一个周六在图书馆",
        "teach.done": "学会了：「{question}」。关闭了 {closed} 个待答问题。",
        "forget.usage": "用法：忘记 问题",
        "forget.done": "已忘记「{question}」。",
        "forget.none": "没有教过「{question}」（只能忘记在群里教的答案）。",
        "unanswered.none": "没有待答的问题。",
        "unanswered.header": "待答问题（{count}）：",
        "unanswered.hint": "用「教 问题 => 答案」补上答案，相关的待答问题会自动关闭。",
        "digest.unanswered": "未答问题",
    },
    en={
        "unknown": "I can't answer that yet. I've noted it and an admin will add an answer.",
        "repeat": "That was just answered — scroll up ↑",
        "teach.usage": "Usage: /teach question => answer",
        "teach.done": "Learned “{question}”. Closed {closed} open question(s).",
        "forget.usage": "Usage: /forget question",
        "forget.done": "Forgot “{question}”.",
        "forget.none": "Nothing was taught for “{question}” (only answers taught in chat can be forgotten).",
        "unanswered.none": "No open questions.",
        "unanswered.header": "Open questions ({count}):",
        "unanswered.hint": "Answer with “/teach question => answer”; matching open questions close.",
        "digest.unanswered": "unanswered questions",
    },
)
