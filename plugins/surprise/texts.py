"""What members read from the surprise plugin, in zh and en."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "group.0": "🎁 {name}，最近好像忙起来了？群里想你啦！送你 {bonus} 积分小惊喜，有空来聊聊最近在读什么～",
        "group.1": "🎁 突然想到 {name}！一份 {bonus} 积分的小惊喜已送达，期待你的新分享～",
        "group.0.nobonus": "🎁 {name}，最近好像忙起来了？群里想你啦，有空来聊聊最近在读什么～",
        "group.1.nobonus": "🎁 突然想到 {name}！期待你的新分享～",
        "dm": "🎁 {name}，「{group}」的大家想你啦！送你 {bonus} 积分小惊喜，有空回群里聊聊～",
        "dm.nobonus": "🎁 {name}，「{group}」的大家想你啦！有空回群里聊聊～",
        "reason": "惊喜福利",
        "digest.given": "惊喜送出",
        "digest.back": "惊喜后3天内回来",
    },
    en={
        "group.0": "🎁 {name}, busy lately? We miss you here! {bonus} surprise points are yours — drop by and tell us what you're reading.",
        "group.1": "🎁 Thinking of {name}! A little surprise of {bonus} points just arrived; we'd love to hear from you.",
        "group.0.nobonus": "🎁 {name}, busy lately? We miss you here — drop by and tell us what you're reading.",
        "group.1.nobonus": "🎁 Thinking of {name}! We'd love to hear from you.",
        "dm": "🎁 {name}, everyone in “{group}” misses you! {bonus} surprise points are yours — drop by when you can.",
        "dm.nobonus": "🎁 {name}, everyone in “{group}” misses you! Drop by when you can.",
        "reason": "surprise bonus",
        "digest.given": "surprises given",
        "digest.back": "back within 3 days of a surprise",
    },
)
