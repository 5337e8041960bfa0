"""Query and passage normalisation: traditional → simplified, full-width → half-width, punctuation,
typos, aliases, and homophone (pinyin) repair against the knowledge base's own vocabulary."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import opencc
from pypinyin import lazy_pinyin

_T2S = opencc.OpenCC("t2s")
_PUNCT = re.compile(r"[\s\u3000!-/:-@\[-`{-~，。！？、；：“”‘’（）《》【】…—·~～]+")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))  # invisible; split words


def strip_zero_width(text: str) -> str:
    """Removes zero-width spaces/joiners, the word joiner, BOM and soft hyphen ("护\u200b照" → "护照")."""
    return text.translate(_ZERO_WIDTH)


@lru_cache(maxsize=200_000)
def _pinyin_key(text: str) -> str:
    """Memoised: homophone repair looks up every 2–4 character window of every text it normalises."""
    return " ".join(lazy_pinyin(text))


@dataclass
class Normalizer:
    """Editors maintain `aliases` (俗称 → 规范说法) and `typos` in the knowledge base's dictionary;
    `vocabulary` (words of the guides) drives homophone repair for typos nobody listed."""

    aliases: dict[str, str] = field(default_factory=dict)
    typos: dict[str, str] = field(default_factory=dict)
    vocabulary: set[str] = field(default_factory=set)
    _by_pinyin: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _rewrite: tuple[dict[str, str], re.Pattern] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.set_vocabulary(self.vocabulary)
        self.set_dictionary(self.aliases, self.typos)

    def set_dictionary(self, aliases: dict[str, str], typos: dict[str, str]) -> None:
        """Also while questions are being normalised (editors change the dictionary on a live server): the
        mapping and its pattern are swapped together, in one assignment."""
        self.aliases, self.typos = dict(aliases), dict(typos)
        mapping = {self.basic(k): v for k, v in {**self.aliases, **self.typos}.items() if k}
        mapping = {k: v for k, v in mapping.items() if k and k != v}
        keys = sorted(mapping, key=len, reverse=True)  # longest first: 医保码 before 医保
        self._rewrite = (mapping, re.compile("|".join(map(re.escape, keys)))) if keys else None

    def set_vocabulary(self, words: set[str]) -> None:
        vocabulary = {w for w in words if len(w) >= 2 and _HAN_RUN.fullmatch(w)}
        if vocabulary == self.vocabulary and self._by_pinyin:
            return  # unchanged (every publish passes it): the pinyin of thousands of words is not redone
        self.vocabulary = vocabulary
        by_pinyin: dict[str, set[str]] = {}
        for w in self.vocabulary:
            by_pinyin.setdefault(_pinyin_key(w), set()).add(w)
        # only unambiguous sounds: one vocabulary word per pinyin key
        self._by_pinyin = {k: next(iter(v)) for k, v in by_pinyin.items() if len(v) == 1}

    @staticmethod
    def basic(text: str) -> str:
        text = unicodedata.normalize("NFKC", strip_zero_width(text))
        text = _T2S.convert(text).lower()
        return _PUNCT.sub(" ", text).strip()

    def _repair_homophones(self, text: str) -> str:
        def fix(run: str) -> str:
            out, i = [], 0
            while i < len(run):
                for n in (4, 3, 2):
                    window = run[i:i + n]
                    if len(window) < n or window in self.vocabulary:
                        continue
                    word = self._by_pinyin.get(_pinyin_key(window))
                    if word and word != window:
                        out.append(word)
                        i += n
                        break
                else:
                    out.append(run[i])
                    i += 1
            return "".join(out)

        return _HAN_RUN.sub(lambda m: fix(m.group(0)), text) if self._by_pinyin else text

    def __call__(self, text: str) -> str:
        text = self.basic(text)
        rewrite = self._rewrite
        if rewrite is not None:
            mapping, pattern = rewrite
            text = pattern.sub(lambda m: mapping[m.group(0)], text)
        return self._repair_homophones(text)
