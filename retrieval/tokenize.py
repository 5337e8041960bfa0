"""jieba tokenisation with a user dictionary built from the knowledge base (titles, keywords, aliases)."""
from __future__ import annotations

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"[\u4e00-\u9fffa-z0-9]")
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 么 嘛 我 你 他 她 我们 你们 要 想 请问 请 问 一下 怎么 怎么办 怎样 如何 什么 哪些 "
    "可以 能 能不能 是 是不是 有 没有 在 去 到 和 与 及 或 就 都 也 还 给 把 被 这 那 这个 那个 个 吗 呗 哦 "
    "嗯 好 需要 办 办理 怎么弄 咋 咋办 啥 该 应该 hi 谢谢".split()
)


class Tokenizer:
    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self._added: set[str] = set()

    def add_words(self, words: set[str]) -> None:
        for w in words - self._added:
            if 2 <= len(w) <= 12:
                self._jieba.add_word(w, freq=20000)
        self._added |= words

    def content_length(self, text: str) -> int:
        """Characters in the question's content words: "护照怎么办" has 2 (护照), the rest is how one asks."""
        return sum(len(t) for t in self._jieba.cut(text) if t not in STOPWORDS and _WORD.search(t))

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens minus stopwords; keeps single Han characters only when nothing else is left."""
        raw = [t for t in self._jieba.cut_for_search(text) if _WORD.search(t)]
        kept = [t for t in raw if t not in STOPWORDS and len(t) > 1]
        return kept or [t for t in raw if t not in STOPWORDS] or raw
