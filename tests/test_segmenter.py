"""The compact jieba dictionary (bot/segmenter.py) cuts exactly as jieba's own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jieba
import pytest
import yaml

from bot import segmenter

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "bench/data/qa_labelled.yaml", *sorted((ROOT / "bench/data/qa").glob("*.yaml")),
           *sorted((ROOT / "config").rglob("*.yaml"))]
_HAN = re.compile(r"[\u4e00-\u9fff]")
EXTRA = ["我来到北京清华大学", "南京市长江大桥", "三体是刘慈欣写的",
         "小明硕士毕业于中国科学院计算所", "他来到了网易杭研大厦",
         "能带娃来吗？能拉朋友进群吗", "iPhone15 多少钱 ¥5999 😀",
         "", " ", "a", "的", "２０２６年１２月２日 ok", "刷单车" * 200]


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def sentences() -> list[str]:
    found = {text for path in SOURCES for text in _strings(yaml.safe_load(path.read_text("utf-8")))
             if _HAN.search(text)}
    return sorted(found) + EXTRA


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[jieba.Tokenizer, jieba.Tokenizer]:
    plain = jieba.Tokenizer()
    plain.initialize()
    compact = segmenter.CompactTokenizer()
    segmenter.load(compact, tmp_path_factory.mktemp("cache"))
    return plain, compact


def test_the_sample_is_varied() -> None:
    assert len(sentences()) >= 300


@pytest.mark.parametrize("hmm", [True, False])
def test_cuts_are_jiebas(pair: tuple[jieba.Tokenizer, jieba.Tokenizer], hmm: bool) -> None:
    plain, compact = pair
    for text in sentences():
        assert compact.lcut(text, HMM=hmm) == plain.lcut(text, HMM=hmm), text
        assert list(compact.tokenize(text, HMM=hmm)) == list(plain.tokenize(text, HMM=hmm))
        assert compact.lcut_for_search(text, HMM=hmm) == plain.lcut_for_search(text, HMM=hmm)
    for text in sentences()[:50]:
        assert compact.lcut(text, cut_all=True) == plain.lcut(text, cut_all=True), text


def test_lookups_match_jiebas(pair: tuple[jieba.Tokenizer, jieba.Tokenizer]) -> None:
    plain, compact = pair
    assert compact.total == plain.total
    for word in ["清华大学", "清华大", "清", "能带", "的", "退群", "不存在的词语", "x", ""]:
        assert compact.FREQ.get(word) == plain.FREQ.get(word), word
        assert (word in compact.FREQ) == (word in plain.FREQ), word


def test_added_words_cut_as_in_jieba(tmp_path: Path) -> None:
    plain = jieba.Tokenizer()
    plain.initialize()
    compact = segmenter.CompactTokenizer()
    segmenter.load(compact, tmp_path)
    for tokenizer in (plain, compact):
        tokenizer.add_word("退出群聊", 50)
        tokenizer.del_word("清华大学")
    for text in ["怎么退出群聊", "我来到北京清华大学"]:
        assert compact.lcut(text) == plain.lcut(text)


def test_the_cache_is_built_once_in_a_child_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise AssertionError("built in this process")

    monkeypatch.setattr(segmenter, "build", fail)
    segmenter.load(segmenter.CompactTokenizer(), tmp_path)
    files = sorted(tmp_path.glob("jieba-*"))
    assert len(files) == 2
    stamps = [f.stat().st_mtime_ns for f in files]
    monkeypatch.setattr(segmenter, "build_elsewhere", fail)
    again = segmenter.CompactTokenizer()
    segmenter.load(again, tmp_path)
    assert again.lcut("南京市长江大桥") == ["南京市", "长江大桥"]
    assert [f.stat().st_mtime_ns for f in files] == stamps


def _env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def test_the_bot_uses_the_compact_dictionary() -> None:
    # A fresh process: another test of the suite may have loaded jieba's own dictionary.
    code = ("import jieba; from bot.activity import keywords, load_segmenter; load_segmenter(); "
            "from bot.segmenter import CompactTokenizer; "
            "assert isinstance(jieba.dt, CompactTokenizer), type(jieba.dt); "
            "assert keywords(['三体是刘慈欣写的'])['刘慈欣'] == 1")
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), cwd=ROOT)


def test_jieba_and_cn2an_load_without_pkg_resources() -> None:
    code = ("import sys; from bot.activity import load_segmenter; load_segmenter(); "
            "from bot.input import load_numerals, number_value; load_numerals(); "
            "assert 'pkg_resources' not in sys.modules; assert number_value('二十四') == 24; "
            "import jieba; assert jieba.lcut('南京市长江大桥') == ['南京市', '长江大桥']")
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), cwd=ROOT)


def test_cn2an_loads_without_proces_address_masking() -> None:
    """cn2an gets proces' preprocess alone (bot/shims.py: ~3 MB less); numbers read the
    same, traditional and full-width forms included, and proces itself still imports."""
    code = ("import sys; from bot.input import load_numerals, number_value; load_numerals(); "
            "assert 'proces.masking' not in sys.modules and 'proces' not in sys.modules; "
            "assert [number_value(t) for t in ('一万五千三百二十一', '壹佰', '１千', '十一万三',"
            " '二十四点五')] == [15321, 100, 1000, 113000, 24.5]; "
            "import proces; assert proces.mask_phone('13812345678') == '138********'")
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), cwd=ROOT)
