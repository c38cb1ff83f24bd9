"""Is a message a correct answer? Normalization first, then an exact comparison.

Chinese has no spaces, so substring matching would count "北京上海广州" as 北京. Instead a
message is reduced to its letters and digits (width, case, spaces and punctuation gone,
traditional characters simplified), filler words around the answer are peeled off ("答案是",
"我猜", "吧"), and what is left must equal an accepted answer. A message listing several
candidates leaves more than one answer and so never matches.

Numbers are compared by value: `二十四` = `24` = `24.0`, and a unit word may follow one
(`24小时`, `30万公里`) when the accepted answer is a number too.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from opencc import OpenCC

from bot.input import number_value
from plugins.quiz.bank import LETTERS, Question

# Longest first: "答案是" before "答案", "我猜是" before "我猜".
PREFIXES = tuple(sorted((
    "我觉得答案是", "我觉得是", "我觉得", "答案应该是", "答案是", "答案", "应该是", "我猜是",
    "我猜", "我选", "选择", "选", "是", "答", "the answer is", "answer", "its", "it is",
), key=len, reverse=True))
SUFFIXES = ("吧", "吗", "呀", "啊", "呢", "哦", "嘛", "了", "对吧", "吧吧")
# Words that may follow a number answer. 万 and 亿 are not here: they are part of the number
# (cn2an reads 30万 as 300000). Left out on purpose: words that also end ordinary answers made
# of a numeral (八角, 五行, 十里), which would otherwise turn into numbers.
UNITS = tuple(sorted((
    "个", "只", "位", "名", "人", "条", "座", "种", "次", "本", "首", "句", "字", "部", "倍",
    "度", "年", "岁", "周岁", "天", "日", "周", "星期", "个星期", "月", "个月", "小时",
    "个小时", "钟头", "个钟头", "分钟", "秒", "秒钟", "米", "厘米", "毫米", "公里", "千米",
    "元", "块", "块钱", "斤", "公斤", "千克", "克", "吨", "张", "颗", "件", "场", "届", "章",
    "页", "层", "道", "题",
), key=len, reverse=True))
SAME_UNIT = {"千米": "公里", "个月": "月", "个小时": "小时", "钟头": "小时", "个钟头": "小时",
             "秒钟": "秒", "周岁": "岁", "日": "天", "星期": "周", "个星期": "周",
             "千克": "公斤", "块": "元", "块钱": "元"}
NUMBER = re.compile(r"^[0-9零〇一二两三四五六七八九十百千万亿点.]+$")
# WeChat sends its own emoji as text codes; the names are letters and would stay after
# normalization ("北京[微笑]" → 北京微笑), so they are taken out first.
_EMOJI_NAMES = """
微笑 撇嘴 色 发呆 得意 流泪 害羞 闭嘴 睡 大哭 尴尬 发怒 调皮 呲牙 惊讶 难过 酷 冷汗 抓狂 吐 偷笑
愉快 可爱 白眼 傲慢 饥饿 困 惊恐 流汗 憨笑 大兵 悠闲 奋斗 咒骂 疑问 嘘 晕 折磨 疯了 衰 骷髅 敲打
再见 擦汗 抠鼻 鼓掌 糗大了 坏笑 左哼哼 右哼哼 哈欠 鄙视 委屈 快哭了 阴险 亲亲 吓 可怜 菜刀 西瓜
啤酒 篮球 乒乓 咖啡 饭 猪头 玫瑰 凋谢 嘴唇 示爱 爱心 心碎 蛋糕 闪电 炸弹 刀 足球 瓢虫 便便 月亮
太阳 礼物 拥抱 强 弱 握手 胜利 抱拳 勾引 拳头 差劲 爱你 no ok 爱情 飞吻 跳跳 发抖 怄火 转圈 磕头
回头 跳绳 投降 激动 乱舞 献吻 左太极 右太极 嘿哈 捂脸 奸笑 机智 皱眉 耶 吃瓜 加油 汗 天啊 emm
社会社会 旺柴 好的 打脸 哇 翻白眼 666 让我看看 叹气 苦涩 裂开 红包 發 福 鸡 破涕为笑 脸红 恐惧
失望 无语 合十 强壮 庆祝 礼花 烟花 爆竹 鬼魂 生病 笑脸 吐舌 smile grimace drool scowl coolguy
sob shy silent sleep cry awkward angry tongue grin surprise frown ruthless blush scream puke
chuckle joyful slight smug hungry drowsy panic sweat laugh commando determined scold shocked
shhh dizzy tormented toasted skull hammer wave speechless nosepick clap shame trick yawn
pooh-pooh shrunken tearingup sly kiss wrath whimper cleaver watermelon beer basketball
pingpong coffee rice pig rose wilt lips heart brokenheart cake lightning bomb dagger soccer
ladybug poop moon sun gift hug thumbsup thumbsdown shake peace fight beckon fist pinky
rockon nuhuh love facepalm smirk smart concerned yeah! packet hey onlooker goforit sweats
omg respect doge noprob mybad wow boring awesome letmesee sigh hurt broken
"""
WECHAT_EMOJI = frozenset(_EMOJI_NAMES.split())
EMOJI_CODE = re.compile(r"\[([^\[\]\s]{1,12})\]")
# "." between digits is a decimal point and "," before three digits a thousands separator;
# anything else between two digits separates two numbers ("3，4"), so they must not merge.
THOUSANDS = re.compile(r",(?=\d{3}(?!\d))")
CELSIUS = re.compile(r"℃|°\s*[cC]")

_to_simplified = OpenCC("t2s").convert


class Quantity(NamedTuple):
    value: float
    unit: str  # "" when none was given


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Full width to half, lower case, simplified; only letters, digits and marks kept, and
    the punctuation between two digits as described at THOUSANDS."""
    text = CELSIUS.sub("度", text)  # NFKC would make ℃ "°C", and the C a letter
    text = _to_simplified(unicodedata.normalize("NFKC", text)).casefold()
    kept: list[str] = []
    gap = ""
    for char in text:
        if unicodedata.category(char)[0] not in "LNM":
            gap += char
            continue
        if gap and kept and kept[-1].isdigit() and char.isdigit():
            kept.append(gap if gap in (".", ",") else "/")
        kept.append(char)
        gap = ""
    return THOUSANDS.sub("", "".join(kept)).replace(",", "/")


def without_emoji(text: str) -> str:
    """`北京[微笑]` → `北京`; a message of emoji alone is kept ([西瓜] may answer 西瓜)."""
    stripped = EMOJI_CODE.sub(
        lambda m: "" if m.group(1).casefold() in WECHAT_EMOJI else m.group(0), text)
    return stripped if stripped.strip() else text


def without_mention(text: str, bot_name: str) -> str:
    """`@小助手 北京` → `北京`. Adapters usually strip a mention of the bot, but not one
    typed by hand, which WeChat does not recognize as a mention."""
    if not bot_name:
        return text
    pattern = rf"\s*[@＠]\s*{re.escape(bot_name)}[\s,，:：]*"
    return re.sub(pattern, "", text, count=1) if re.match(pattern, text) else text


def _strip_prefix(text: str) -> str:
    for prefix in PREFIXES:
        key = normalize(prefix)
        if text.startswith(key) and len(text) > len(key):
            return text[len(key):]
    return text


def forms(message: str) -> set[str]:
    """The message as typed (normalized) and with filler words peeled off."""
    text = normalize(without_emoji(message[:200]))
    found = {text}
    for _ in range(2):  # "我猜答案是北京吧"
        text = _strip_prefix(text)
        for suffix in sorted(SUFFIXES, key=len, reverse=True):
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        found.add(text)
    return found


def as_number(text: str) -> float | None:
    """`24`, `二十四`, `２４`, `24.0` → 24.0; None for anything else (`3或4`)."""
    if not text or not NUMBER.match(text):
        return None
    return number_value(text)


@lru_cache(maxsize=4096)  # the accepted answers are parsed again for every message
def as_quantity(text: str) -> Quantity | None:
    """A number with at most one unit word after it: `24小时` → (24, 小时), `四` → (4, "")."""
    for unit in UNITS:
        if text.endswith(unit) and len(text) > len(unit):
            value = as_number(text[: -len(unit)])
            return None if value is None else Quantity(value, SAME_UNIT.get(unit, unit))
    value = as_number(text)
    return None if value is None else Quantity(value, "")


def _same_quantity(given: Quantity | None, accepted: set[Quantity]) -> bool:
    """Same value; a unit the answer names must match, a bare number always may."""
    if given is None:
        return False
    return any(given.value == a.value and (not given.unit or not a.unit or given.unit == a.unit)
               for a in accepted)


def is_correct(question: Question, message: str) -> bool:
    candidates = forms(message)
    if question.choices:
        picked = picked_choices(question.choices, candidates)
        if picked:  # a letter or a choice's text: right only if every choice named is right
            return all(question.choices[i] in question.answers for i in picked)
    accepted = {normalize(a) for a in question.answers}
    if candidates & accepted:
        return True
    quantities = {q for q in map(as_quantity, accepted) if q is not None}
    return bool(quantities) and any(_same_quantity(as_quantity(c), quantities)
                                    for c in candidates)


def picked_choices(choices: list[str], candidates: set[str]) -> set[int]:
    """The options a message names: by letter (`B`), text (`长江`) or both (`B. 长江`)."""
    picked = set()
    for index, choice in enumerate(choices):
        letter, text = LETTERS[index].casefold(), normalize(choice)
        if candidates & {letter, text, letter + text}:
            picked.add(index)
    return picked
