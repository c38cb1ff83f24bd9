"""What members and admins read from the tags plugin, in zh and en."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "auto.kol": "KOL",
        "auto.active": "活跃",
        "auto.ordinary": "普通",
        "auto.lurker": "潜水",
        "auto.streak": "连续打卡",
        "auto.inviter": "邀请达人",
        "auto.blackroom": "小黑屋",
        "usage.tag": "用法：标签 @成员 新人 宝妈（可多个标签）",
        "usage.untag": "用法：去标签 @成员 新人",
        "tagged": "已给 {names} 加上标签：{tags}",
        "untagged": "已去掉 {names} 的标签：{tags}",
        "untag.none": "{names} 没有这些标签：{tags}",
        "auto.fixed": "「{tag}」是自动标签，由机器人按记录计算，不能手动加减。",
        "member.tags": "{name} 的标签：{tags}",
        "member.none": "{name} 还没有标签。",
        "list.members": "标签「{tag}」共 {count} 人：{names}",
        "list.empty": "还没有成员带标签「{tag}」。",
        "list.all": "本群标签：{tags}\n自动标签：{auto}\n查看某个标签的成员：/标签 新人",
        "list.all.none": "本群还没有手动标签。自动标签：{auto}\n加标签：标签 @成员 新人",
        "question": "{name}，欢迎！想请你回答一个小问题（回复数字即可）：\n{text}\n{choices}",
        "question.next": "{text}\n{choices}（回复数字）",
        "answered": "谢谢 {name}！已记下：{tags}",
        "digest.note": "成员标签：{counts}",
    },
    en={
        "auto.kol": "KOL",
        "auto.active": "active",
        "auto.ordinary": "ordinary",
        "auto.lurker": "lurker",
        "auto.streak": "streak",
        "auto.inviter": "top-inviter",
        "auto.blackroom": "blackroom",
        "usage.tag": "Usage: tag @member newcomer parent (one or more tags)",
        "usage.untag": "Usage: untag @member newcomer",
        "tagged": "Tagged {names}: {tags}",
        "untagged": "Removed from {names}: {tags}",
        "untag.none": "{names} had none of: {tags}",
        "auto.fixed": "“{tag}” is an automatic tag, computed from the bot's records; it cannot be set by hand.",
        "member.tags": "{name}'s tags: {tags}",
        "member.none": "{name} has no tags yet.",
        "list.members": "Tag “{tag}” ({count}): {names}",
        "list.empty": "No member has the tag “{tag}” yet.",
        "list.all": "Tags here: {tags}\nAutomatic tags: {auto}\nMembers with a tag: /tags newcomer",
        "list.all.none": "No tags set by hand yet. Automatic tags: {auto}\nTag someone: tag @member newcomer",
        "question": "Welcome, {name}! A quick question (reply with a number):\n{text}\n{choices}",
        "question.next": "{text}\n{choices} (reply with a number)",
        "answered": "Thanks, {name}! Noted: {tags}",
        "digest.note": "Member tags: {counts}",
    },
)

AUTO_KEYS = ("kol", "active", "ordinary", "lurker", "streak", "inviter", "blackroom")
