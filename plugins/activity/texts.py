"""What members and admins read from the activity plugin, in zh and en."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "segment.kol": "KOL",
        "segment.active": "活跃用户",
        "segment.ordinary": "普通用户",
        "segment.lurker": "潜水用户",
        "mine": "{name}，近 {days} 天：发言 {messages} 条（全群第 {rank} 名），活跃 {active_days} 天，被@ {mentions} 次。你是「{segment}」。",
        "mine.none": "{name}，近 {days} 天你还没有发言哦，你现在是「{segment}」。冒个泡吧～",
        "portrait.header": "「{group}」近 {days} 天画像：消息 {messages} 条，{speakers} 人发言。",
        "portrait.segments": "分层：KOL {kol} · 活跃 {active} · 普通 {ordinary} · 潜水 {lurker}",
        "portrait.kols": "KOL：{names}",
        "portrait.trend": "近 7 天每日消息：{bars}（{counts}）",
        "portrait.falling": "降温成员（之前常发言，近 7 天沉默）：{names}",
        "digest.kol": "KOL",
        "digest.active": "活跃用户",
        "digest.ordinary": "普通用户",
        "digest.lurker": "潜水用户",
    },
    en={
        "segment.kol": "a KOL",
        "segment.active": "an active member",
        "segment.ordinary": "an ordinary member",
        "segment.lurker": "a lurker",
        "mine": "{name}, last {days} days: messages {messages} (#{rank} in the group), days active {active_days}, @-mentions received {mentions}. You are {segment}.",
        "mine.none": "{name}, you have not posted in the last {days} days, so you count as {segment}. Say hi!",
        "portrait.header": "“{group}”, last {days} days: {messages} messages from {speakers} members.",
        "portrait.segments": "Segments: KOL {kol} · active {active} · ordinary {ordinary} · lurkers {lurker}",
        "portrait.kols": "KOLs: {names}",
        "portrait.trend": "Messages per day, last 7 days: {bars} ({counts})",
        "portrait.falling": "Cooling down (used to post, silent for 7 days): {names}",
        "digest.kol": "KOL",
        "digest.active": "Active",
        "digest.ordinary": "Ordinary",
        "digest.lurker": "Lurkers",
    },
)
