"""What members see from lottery draws, in Chinese and English."""

from __future__ import annotations

from bot.i18n import Texts

TEXTS = Texts(
    zh={
        "created": "🎁 抽奖开始（第 {id} 期）！\n奖品：{prizes}\n参与方式：在群里发送「{keyword}」\n截止：{deadline}\n公平性承诺 SHA-256：{commitment}\n（开奖时公布种子，任何人都可以核对）",
        "prize": "{name} × {count}",
        "usage": "用法：发起抽奖 参与口令 截止 奖品*人数 …\n截止可写 2h、30m、1d 或 21:00，例如：发起抽奖 我要抽奖 2h 一等奖*1 50积分*3",
        "bad.deadline": "截止时间看不懂：{text}。可写 2h、30m、1d 或 21:00（最长 {days} 天）。",
        "bad.prize": "奖品格式不对：{text}。写成 奖品*人数，例如 一等奖*1。",
        "bad.keyword": "口令「{keyword}」和命令重名或太长了，换一个吧。",
        "keyword_taken": "已经有一个口令为「{keyword}」的抽奖在进行中。",
        "joined": "✅ 已参与抽奖（第 {id} 期），当前 {count} 人。",
        "again": "你已经参与过这次抽奖了，每人一次。",
        "closed": "这次抽奖已经截止啦。",
        "barred": "抱歉，你目前不能参与抽奖。",
        "result": "🎉 抽奖开奖（第 {id} 期），共 {count} 人参与：\n{lines}\n种子：{seed}\n承诺值 SHA-256：{commitment}",
        "result.line": "{prize}：{names}",
        "result.none": "没有人参与，本次无人中奖。",
        "verify": "核对：bot verify-draw --seed {seed} --commitment {commitment} --prizes \"{prizes}\" --participants \"{ids}\"",
        "list.none": "现在没有进行中的抽奖。",
        "list.item": "第 {id} 期：发送「{keyword}」参与，截止 {deadline}，已有 {count} 人；奖品：{prizes}",
    },
    en={
        "created": "🎁 Lucky draw #{id}!\nPrizes: {prizes}\nTo join, post “{keyword}” in the group\nDeadline: {deadline}\nFairness commitment SHA-256: {commitment}\n(the seed is revealed at the draw, so anyone can check)",
        "prize": "{name} × {count}",
        "usage": "Usage: 发起抽奖 keyword deadline prize*winners …\nDeadline: 2h, 30m, 1d or 21:00, e.g. 发起抽奖 join-draw 2h book*1 50积分*3",
        "bad.deadline": "Cannot read the deadline {text}. Use 2h, 30m, 1d or 21:00 (at most {days} days).",
        "bad.prize": "Bad prize {text}. Write prize*winners, e.g. book*1.",
        "bad.keyword": "The keyword “{keyword}” is a command or too long; pick another.",
        "keyword_taken": "A draw with the keyword “{keyword}” is already open.",
        "joined": "✅ You joined draw #{id}; {count} so far.",
        "again": "You already joined this draw; once per member.",
        "closed": "This draw has closed.",
        "barred": "Sorry, you cannot join draws at the moment.",
        "result": "🎉 Draw #{id}: {count} joined.\n{lines}\nSeed: {seed}\nCommitment SHA-256: {commitment}",
        "result.line": "{prize}: {names}",
        "result.none": "Nobody joined, so nobody wins.",
        "verify": "Check: bot verify-draw --seed {seed} --commitment {commitment} --prizes \"{prizes}\" --participants \"{ids}\"",
        "list.none": "No draw is open.",
        "list.item": "Draw #{id}: post “{keyword}” to join, deadline {deadline}, {count} joined; prizes: {prizes}",
    },
)
