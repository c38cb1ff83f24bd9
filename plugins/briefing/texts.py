"""What members, admins and operators read from the briefing, in zh and en."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "title": "每日早报",
        "header": "【{title}】{date} {weekday}",
        "almanac": "{lunar} · {term}",
        "empty": "今天还没有早报内容。",
        "member_limit": "今天的早报已经发过啦，往上翻一翻就能看到～",
        "member_early": "今天的早报 {at} 发布，到时见～",
        "feed_failed": "早报源「{feed}」抓取失败：{error}。「{group}」的早报先用缓存（{cached} 条）和其它来源。",
        "file_broken": "早报文件「{file}」有错误，「{group}」的早报先跳过它、照常发其它内容。第一个问题：{problem}（改好即生效，无需重启）",
        "digest.failing": "早报源「{feed}」自 {since} 起抓取失败：{error}",
        "digest.items": "早报条数",
        "digest.empty": "{date} 的早报没有内容（没有精选条目，订阅源也没有新消息），没有发到群里。",
        "help": "发今天的早报（成员：到点后每群每天一次）",
    },
    en={
        "title": "Morning briefing",
        "header": "{title} · {weekday}, {date}",
        "almanac": "{lunar} · {term}",
        "empty": "There is nothing for today's briefing yet.",
        "member_limit": "Today's briefing is already in the chat; scroll up to read it.",
        "member_early": "Today's briefing comes at {at}; see you then!",
        "feed_failed": "Briefing feed “{feed}” failed: {error}. “{group}” gets its cached items ({cached}) and other sources meanwhile.",
        "file_broken": "Briefing file “{file}” has an error; “{group}” gets its briefing without it meanwhile. First problem: {problem} (a fix takes effect at once, no restart needed)",
        "digest.failing": "Briefing feed “{feed}” failing since {since}: {error}",
        "digest.items": "Briefing items",
        "digest.empty": "No briefing on {date}: nothing curated and no new feed items, so nothing was posted.",
        "help": "post today's briefing (members: after its time, once a day per group)",
    },
)
