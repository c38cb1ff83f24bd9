"""jieba's dictionary in a few MB instead of ~60: a marisa trie mapped from disk.

jieba keeps its dictionary as a Python dict (`Tokenizer.FREQ`) of every word *and every
prefix of every word* (~580k str keys and int values, ~62 MB resident). Here the same
words live in a `marisa_trie.Trie` (one key per word; "is a prefix of a word" is the trie's
own prefix search) and their frequencies in a flat array of uint32 indexed by the
trie's key id. Both are built once from jieba's own dict.txt and written under a cache
folder, named by the dictionary's MD5, so later starts `mmap` them in milliseconds (and
several bot processes share the pages).

Segmentation is unchanged: `get_DAG` and `calc` compute the same lists and the same floats
as jieba's (tests/test_segmenter.py cuts a few hundred sentences both ways). Words added at
run time (`jieba.add_word`) go to a small overlay dict; while it holds anything, the
generic (slower) lookups through `FREQ` are used.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import subprocess
import sys
import tempfile
from array import array
from collections.abc import Iterator
from math import log
from pathlib import Path
from typing import Any

import marisa_trie

from bot.shims import import_light

jieba = import_light("jieba")  # without pkg_resources (bot/shims.py)
log_ = logging.getLogger("bot.segmenter")

_MISSING: Any = object()
FORMAT = 1  # bump when the files' layout changes


class CompactFreq:
    """jieba's FREQ, read-only from the trie plus a writable overlay: `w in FREQ` is true
    for words and their prefixes, `FREQ[w]` is 0 for a bare prefix, as in jieba."""

    def __init__(self, trie: marisa_trie.Trie, freqs: memoryview | array) -> None:
        self.trie = trie
        self.freqs = freqs
        self.overlay: dict[str, int] = {}

    def get(self, word: str, default: Any = None) -> Any:
        if self.overlay and word in self.overlay:
            return self.overlay[word]
        key = self.trie.get(word)
        if key is not None:
            return self.freqs[key]
        if word:  # a bare prefix of some word: jieba stores it with 0
            for _ in self.trie.iterkeys(word):
                return 0
        return default

    def __getitem__(self, word: str) -> int:
        value = self.get(word, _MISSING)
        if value is _MISSING:
            raise KeyError(word)
        return value

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word, _MISSING) is not _MISSING

    def __setitem__(self, word: str, freq: int) -> None:  # jieba.add_word / suggest_freq
        self.overlay[word] = freq

    def __len__(self) -> int:
        return len(self.trie) + len(self.overlay)

    def __iter__(self) -> Iterator[str]:
        yield from self.trie.iterkeys()
        yield from self.overlay


class CompactTokenizer(jieba.Tokenizer):
    """A jieba Tokenizer whose dictionary is a CompactFreq; the hot lookups (`get_DAG`,
    `calc`) go to the trie directly."""

    FREQ: Any

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:
        self.check_initialized()
        freq = self.FREQ
        if not isinstance(freq, CompactFreq) or freq.overlay:
            return super().get_DAG(sentence)
        prefixes, freqs = freq.trie.iter_prefixes_with_ids, freq.freqs
        dag: dict[int, list[int]] = {}
        # Every word that starts at k is reachable: jieba keeps each word's prefixes, and
        # walks k..N while the fragment is one.
        for k in range(len(sentence)):
            ends = [k + len(word) - 1 for word, key in prefixes(sentence[k:k + self.longest])
                    if freqs[key]]
            dag[k] = ends or [k]
        return dag

    def calc(self, sentence: str, DAG: dict[int, list[int]],
             route: dict[int, tuple[float, int]]) -> None:
        freq = self.FREQ
        if not isinstance(freq, CompactFreq) or freq.overlay:
            return super().calc(sentence, DAG, route)
        lookup, freqs = freq.trie.get, freq.freqs
        n = len(sentence)
        route[n] = (0, 0)
        logtotal = log(self.total)
        for idx in range(n - 1, -1, -1):
            best = None
            for x in DAG[idx]:
                key = lookup(sentence[idx:x + 1])
                # Same expression, same order of operations as jieba's: identical floats.
                candidate = (log((freqs[key] if key is not None else 0) or 1) - logtotal
                             + route[x + 1][0], x)
                if best is None or candidate > best:
                    best = candidate
            route[idx] = best  # type: ignore[assignment]
        return None

    longest = 1


def _checksum(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _parse(data: bytes) -> tuple[dict[str, int], int]:
    """jieba's gen_pfdict without the prefix entries: the last frequency of a word wins,
    the total counts every line."""
    words: dict[str, int] = {}
    total = 0
    for lineno, raw in enumerate(data.splitlines(), 1):
        line = raw.strip().decode("utf-8")
        try:
            word, freq = line.split(" ")[:2]
            words[word] = int(freq)
        except ValueError:
            raise ValueError(f"invalid dictionary entry at line {lineno}: {line}") from None
        total += words[word]
    return words, total


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(data: bytes, trie_path: Path, freq_path: Path) -> None:
    words, total = _parse(data)
    trie = marisa_trie.Trie(words)
    freqs = array("I", bytes(4 * len(trie)))
    for word, freq in words.items():
        freqs[trie.key_id(word)] = freq  # uint32: jieba's largest is ~900k
    longest = max(map(len, words), default=1)
    header = array("Q", [total, longest]).tobytes()
    trie_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(freq_path, header + freqs.tobytes())
    _write_atomic(trie_path, trie.tobytes())


def build_elsewhere(data: bytes, trie_path: Path, freq_path: Path) -> None:
    """`build` in a child process: parsing 350k words would leave this one ~16 MB larger
    for good (freed memory that the allocator keeps). In this process if that fails."""
    code = ("import sys; from pathlib import Path; from bot.segmenter import build; "
            "build(sys.stdin.buffer.read(), Path(sys.argv[1]), Path(sys.argv[2]))")
    try:
        subprocess.run([sys.executable, "-c", code, str(trie_path), str(freq_path)],
                       input=data, capture_output=True, check=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    except (OSError, subprocess.SubprocessError):
        log_.warning("building the jieba dictionary in a child process failed",
                     exc_info=True)
        build(data, trie_path, freq_path)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qunbot"


def load(tokenizer: CompactTokenizer, cache_dir: Path | None = None) -> None:
    """Give `tokenizer` the compact dictionary of its dict.txt, building the cache files
    the first time (a few seconds); then `initialized`, so jieba never builds its own."""
    with tokenizer.get_dict_file() as source:
        data = source.read()
    folder = cache_dir or default_cache_dir()
    stem = f"jieba-{_checksum(data)}-v{FORMAT}"
    trie_path, freq_path = folder / f"{stem}.marisa", folder / f"{stem}.freq"
    if not (trie_path.exists() and freq_path.exists()):
        log_.info("building the compact jieba dictionary in %s", folder)
        build_elsewhere(data, trie_path, freq_path)
    del data
    trie = marisa_trie.Trie().mmap(str(trie_path))
    with open(freq_path, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    total, longest = memoryview(mapped)[:16].cast("Q")
    tokenizer.FREQ = CompactFreq(trie, memoryview(mapped)[16:].cast("I"))
    tokenizer.total = total
    tokenizer.longest = longest
    tokenizer.initialized = True


def install(cache_dir: Path | None = None) -> None:
    """Make jieba's default tokenizer (what `jieba.lcut`, `jieba.tokenize`... use) compact,
    unless something already loaded jieba's own dictionary. jieba's module functions are
    bound to `jieba.dt`'s methods, so the instance's class is swapped, not the instance."""
    dt = jieba.dt
    with dt.lock:
        if dt.initialized:
            return
        dt.__class__ = CompactTokenizer
        try:
            load(dt, cache_dir)  # type: ignore[arg-type]
        except Exception:  # a read-only cache, a damaged file: jieba's own way still works
            log_.warning("compact jieba dictionary unavailable; using jieba's", exc_info=True)
            dt.__class__ = jieba.Tokenizer
            dt.initialize()
