"""The digest's own words (plugins' figures bring their own labels), in zh and en."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "title": "【运营日报】{date} {weekday} · {groups} 个群（括号内：对比前 7 天日均）",
        "totals": "合计：消息 {messages} · 发言人数 {speakers} · 发送失败 {failed}",
        "risk": "⚠️ 风险群：{groups}",
        "risk.drop": "{group}（消息 {change}）",
        "risk.silent": "{group}（已沉默 {days} 天）",
        "no_risk": "✅ 没有风险群",
        "messages": "消息",
        "speakers": "发言人数",
        "failed": "发送失败",
        "joins": "入群",
        "leaves": "退群",
        "keywords": "热词：{words}",
        "notes": "· {note}",
        "more": "……另有 {count} 个群（无风险）未逐一列出",
        "new": "新增",
        "flat": "持平",
        "chart": "附图：近 {days} 天各群消息数",
        "chart.legend": "（图中 {names}）",
        "local_day": "（当地 {date}）",
        "hook_failed": "「{plugin}」的数据暂缺（计算出错，已记录）",
    },
    en={
        "title": "【Daily digest】{weekday}, {date} · {groups} groups (in brackets: vs the 7-day average)",
        "totals": "Total: messages {messages} · members posting {speakers} · failed sends {failed}",
        "risk": "⚠️ Groups at risk: {groups}",
        "risk.drop": "{group} (messages {change})",
        "risk.silent": "{group} (silent for {days} days)",
        "no_risk": "✅ No group at risk",
        "messages": "Messages",
        "speakers": "Members posting",
        "failed": "Failed sends",
        "joins": "Joined",
        "leaves": "Left",
        "keywords": "Top words: {words}",
        "notes": "· {note}",
        "more": "…and {count} more groups (not at risk) not listed one by one",
        "new": "new",
        "flat": "flat",
        "chart": "Chart: messages per group over {days} days",
        "chart.legend": " (in the chart: {names})",
        "local_day": " (local day {date})",
        "hook_failed": "No figures from “{plugin}” (it failed; logged)",
    },
)
