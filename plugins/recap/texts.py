"""What members read from the recap plugin, in zh and en."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "header": "【昨日回顾】{date}",
        "highlight": "💬 {name}：「{text}」（{count} 条回复）",
        "question": "❓ {name} 问：「{text}」（已解答）",
        "checkins": "✅ 昨天 {count} 人打卡",
        "note": "📝 {name}：「{text}」",
        "quiz": "🏆 {name} 答对 {count} 题",
        "preview": "【今日预告】",
        "event": "📅 {time} {title}",
        "event.link": "📅 {time} {title} {link}",
        "soon": "⏰ {minutes} 分钟后开始：{title}",
        "soon.link": "⏰ {minutes} 分钟后开始：{title} {link}",
        "digest.replied": "被回复的消息",
    },
    en={
        "header": "[Yesterday] {date}",
        "highlight": "💬 {name}: “{text}” ({count} replies)",
        "question": "❓ {name} asked: “{text}” (answered)",
        "checkins": "✅ {count} checked in yesterday",
        "note": "📝 {name}: “{text}”",
        "quiz": "🏆 {name}: {count} right answers",
        "preview": "[Today]",
        "event": "📅 {time} {title}",
        "event.link": "📅 {time} {title} {link}",
        "soon": "⏰ Starting in {minutes} minutes: {title}",
        "soon.link": "⏰ Starting in {minutes} minutes: {title} {link}",
        "digest.replied": "messages replied to",
    },
)
