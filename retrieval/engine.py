"""The retriever: items in, one calibrated decision out (answer / clarify / handoff) with ranked matches."""
from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from retrieval.calibration import Calibration
from retrieval.dense import DenseIndex
from retrieval.encoder import Encoder
from retrieval.normalize import Normalizer
from retrieval.sparse import SparseIndex
from retrieval.tokenize import Tokenizer

CALIBRATION_FILE = Path(__file__).parent / "calibration.json"


@dataclass(frozen=True)
class IndexedItem:
    """What retrieval needs of a published guide: its texts, and when it may be answered."""

    code: str
    title: str
    passages: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass
class Match:
    code: str
    title: str
    score: float
    passage: str = ""  # the item's text that matched best (its original wording)

    def as_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "score": round(self.score, 4)}


@dataclass
class SearchResult:
    question: str
    decision: str  # answer | clarify | handoff
    matches: list[Match]  # ranked, best first (top 5 or more)
    offered: list[Match] = field(default_factory=list)  # what the decision uses: 1 to answer, 2-3 to clarify
    confidence: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def load_config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


class Retriever:
    def __init__(self, encoder: Encoder, config: dict, normalizer: Normalizer | None = None,
                 calibration: Calibration | None = None) -> None:
        self.encoder, self.cfg = encoder, config
        self.normalizer = normalizer or Normalizer()
        self.calibration = calibration or Calibration.load(
            CALIBRATION_FILE, config["answer_threshold"], config["clarify_threshold"])
        self.tokenizer = Tokenizer()
        self.dense = DenseIndex(encoder.dim, approx_above=config["approx_above"])
        self._lock = threading.RLock()
        self._items: dict[str, IndexedItem] = {}
        self._passage_ids: dict[str, np.ndarray] = {}
        self._passage_owner: dict[int, str] = {}
        self._passage_tokens: dict[int, list[str]] = {}
        self._next_id = 0
        self._sparse = SparseIndex([])
        self._sparse_owner = np.zeros(0, dtype=np.int64)
        self._codes: list[str] = []
        self._title_vecs: dict[str, np.ndarray] = {}
        self._item_vocab: dict[str, set[str]] = {}
        self._item_keywords: dict[str, set[str]] = {}
        self._item_df: Counter[str] = Counter()  # token → number of items using it
        self._passage_text: dict[int, str] = {}

    # ---- building -------------------------------------------------------------------------------
    def _vocabulary(self, items: list[IndexedItem]) -> set[str]:
        """Key terms (titles, keywords, canonical aliases and their words) for jieba and homophone repair;
        ordinary words stay out, so a typo is only ever repaired into a service term."""
        words: set[str] = set()
        for it in items:
            words.add(self.normalizer.basic(it.title))
            words.update(self.normalizer.basic(k) for k in it.keywords)
        words |= {self.normalizer.basic(v) for v in self.normalizer.aliases.values()}
        self.tokenizer.add_words(words)
        words |= {t for w in list(words) for t in self.tokenizer.tokens(w) if len(t) >= 2}
        return words

    def _prepare(self, items: list[IndexedItem]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        texts, owners, ids = [], [], []
        for it in items:
            mine = []
            for p in dict.fromkeys((it.title, *it.passages)):
                norm = self.normalizer(p)
                self._passage_owner[self._next_id] = it.code
                self._passage_text[self._next_id] = p
                self._passage_tokens[self._next_id] = self.tokenizer.tokens(norm)
                texts.append(norm)
                mine.append(self._next_id)
                owners.append(it.code)
                self._next_id += 1
            ids.extend(mine)
            self._passage_ids[it.code] = np.array(mine, dtype=np.int64)
            self._items[it.code] = it
        vecs = self.encoder.encode_passages(texts)
        for it in items:
            self._item_keywords[it.code] = {k for k in (self.normalizer(w) for w in (it.title, *it.keywords))
                                            if len(k) >= 2}
            self._item_vocab[it.code] = {t for pid in self._passage_ids[it.code].tolist()
                                         for t in self._passage_tokens[pid]}
            self._item_df.update(self._item_vocab[it.code])
        first = 0
        for it in items:  # the title is each item's first passage: keep its vector for the name score
            self._title_vecs[it.code] = vecs[first]
            first += len(self._passage_ids[it.code])
        return np.array(ids, dtype=np.int64), vecs, owners

    def _rebuild_sparse(self) -> None:
        ids = sorted(self._passage_tokens)
        self._codes = sorted(self._items)
        position = {c: i for i, c in enumerate(self._codes)}
        sparse = SparseIndex([self._passage_tokens[i] for i in ids])
        owner = np.array([position[self._passage_owner[i]] for i in ids], dtype=np.int64)
        self._sparse, self._sparse_owner = sparse, owner  # swap together under the lock

    def index(self, items: list[IndexedItem], progress: bool = False) -> float:
        """Index everything from scratch; returns seconds taken."""
        t0 = time.perf_counter()
        with self._lock:
            self._items.clear(), self._passage_ids.clear(), self._passage_owner.clear()
            self._passage_tokens.clear(), self._title_vecs.clear(), self._item_vocab.clear()
            self._item_keywords.clear(), self._passage_text.clear(), self._item_df.clear()
            self.normalizer.set_vocabulary(self._vocabulary(items))
            if progress:
                print(f"  indexing {len(items)} items …", flush=True)
            ids, vecs, _ = self._prepare(items)
            self.dense.build(ids, vecs)
            self._rebuild_sparse()
        return time.perf_counter() - t0

    def upsert(self, items: list[IndexedItem]) -> None:
        """Publish: replace these items' passages without rebuilding the dense index."""
        with self._lock:
            self.remove([it.code for it in items], _rebuild=False)
            self.normalizer.set_vocabulary(self.normalizer.vocabulary | self._vocabulary(items))
            ids, vecs, _ = self._prepare(items)
            self.dense.add(ids, vecs)
            self._rebuild_sparse()

    def remove(self, codes: list[str], _rebuild: bool = True) -> None:
        with self._lock:
            for code in codes:
                ids = self._passage_ids.pop(code, None)
                self._items.pop(code, None)
                self._title_vecs.pop(code, None)
                self._item_df.subtract(self._item_vocab.pop(code, set()))
                self._item_keywords.pop(code, None)
                if ids is None:
                    continue
                self.dense.remove(ids)
                for i in ids.tolist():
                    self._passage_owner.pop(i, None)
                    self._passage_tokens.pop(i, None)
                    self._passage_text.pop(i, None)
            if _rebuild:
                self._rebuild_sparse()

    def __len__(self) -> int:
        return len(self._items)

    # ---- searching ------------------------------------------------------------------------------
    def query_vectors(self, questions: Iterable[str]) -> dict[str, np.ndarray]:
        """The questions' vectors keyed by their normalised text, for `search(..., vectors=)`: a calibration
        fit asks every phrasing twice, and the same phrasings again at the next fit (the encoder's cache)."""
        texts = list(dict.fromkeys(t for q in questions if (t := self.normalizer(q))))
        return dict(zip(texts, self.encoder.encode_queries(texts, cached=True)))

    def _item_scores(self, text: str, qvec: np.ndarray | None = None
                     ) -> tuple[dict[str, float], dict[str, float], np.ndarray, dict[str, str]]:
        """Best dense and sparse score per item, the query vector, and each item's best dense passage."""
        k = self.cfg["candidates"]
        if qvec is None:
            qvec = self.encoder.encode_queries([text])[0]
        tokens = self.tokenizer.tokens(text)
        with self._lock:
            ids, scores = self.dense.search(qvec, k)
            dense: dict[str, float] = {}
            best: dict[str, str] = {}
            for pid, s in zip(ids.tolist(), scores.tolist()):
                code = self._passage_owner.get(pid)
                if code is not None and s > dense.get(code, -1.0):
                    dense[code], best[code] = s, self._passage_text.get(pid, "")
            raw = self._sparse.scores(tokens)
            per_item = np.zeros(len(self._codes), dtype=np.float32)
            if raw.size:
                np.maximum.at(per_item, self._sparse_owner, raw)
            top = np.argsort(-per_item)[:k]
            sparse = {self._codes[i]: float(per_item[i]) for i in top if per_item[i] > 0}
        return dense, sparse, qvec, best

    def search(self, question: str, k: int = 5, today: dt.date | None = None,
               vectors: dict[str, np.ndarray] | None = None) -> SearchResult:
        """`vectors`: from `query_vectors`, when many questions are asked at once."""
        text = self.normalizer(question)
        if not text:
            return SearchResult(question, "handoff", [])
        dense, sparse, qvec, best = self._item_scores(text, (vectors or {}).get(text))
        today = today or dt.date.today()
        floor = min(dense.values()) if dense else 0.0
        w, sat, beta = self.cfg["sparse_weight"], self.cfg["sparse_saturation"], self.cfg["title_weight"]
        fused: dict[str, float] = {}
        for code in set(dense) | set(sparse):
            item, title_vec = self._items.get(code), self._title_vecs.get(code)
            if item is None or title_vec is None or not item.valid_on(today):
                continue
            s = sparse.get(code, 0.0)
            d = (1 - beta) * dense.get(code, floor) + beta * float(title_vec @ qvec)
            fused[code] = d + w * s / (s + sat)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        matches = [Match(c, self._items[c].title, f, best.get(c, "")) for c, f in ranked[:max(k, 5)]]
        if not matches:
            return SearchResult(question, "handoff", [])
        feats = self.features(ranked, dense, sparse)
        feats["coverage"] = self._coverage(text, ranked[0][0])
        content = max(1, self.tokenizer.content_length(text))
        named = [min(1.0, max((len(k) for k in self._item_keywords.get(c, ()) if k in text), default=0) / content)
                 for c, _ in ranked[:2]] + [0.0]
        feats["named"], feats["named_margin"] = named[0], named[0] - named[1]
        decision, offered, confidence = self._decide(matches, feats)
        return SearchResult(question, decision, matches, offered, confidence, feats)

    def _coverage(self, text: str, code: str) -> float:
        """IDF-weighted share of the question's words that the item uses. Words no item uses (渔船, 股票)
        weigh most: a question about them is probably outside the knowledge base."""
        tokens = set(self.tokenizer.tokens(text))
        if not tokens:
            return 0.0
        n = max(1, len(self._items))
        idf = {t: math.log((n + 1) / (self._item_df.get(t, 0) + 0.5)) for t in tokens}
        vocab = self._item_vocab.get(code, set())
        return sum(w for t, w in idf.items() if t in vocab) / (sum(idf.values()) or 1.0)

    def features(self, ranked: list[tuple[str, float]], dense: dict[str, float], sparse: dict[str, float]) -> dict:
        def at(i: int) -> str | None:
            return ranked[i][0] if len(ranked) > i else None

        c1, c2 = at(0), at(1)
        f = [s for _, s in ranked[:3]] + [0.0] * 3
        d1, d2 = dense.get(c1, 0.0), dense.get(c2, 0.0) if c2 else 0.0
        s1, s2 = sparse.get(c1, 0.0), sparse.get(c2, 0.0) if c2 else 0.0
        top_dense = max(dense, key=dense.get) if dense else None
        best_sparse = max(sparse.values(), default=0.0)
        top_sparse = c1 if sparse.get(c1, -1.0) >= best_sparse - 1e-6 else None  # a tie counts as agreement
        sat = self.cfg["sparse_saturation"]
        return {"dense1": d1, "dense_margin": d1 - d2, "sparse1": s1 / (s1 + sat),
                "sparse_margin": (s1 - s2) / (s1 + sat), "fused1": f[0], "fused_margin": f[0] - f[1],
                "agree": float(c1 == top_dense and c1 == top_sparse), "fused3_gap": f[0] - f[2]}

    def _decide(self, matches: list[Match], feats: dict) -> tuple[str, list[Match], float]:
        from retrieval.calibration import FEATURES

        x = [feats[n] for n in FEATURES]
        if self.calibration is None:  # uncalibrated: cautious fixed rule until `govbot calibrate` runs
            p1 = 1.0 if feats["dense1"] >= 0.9 and feats["fused_margin"] >= 0.02 else 0.0
            p3 = 1.0 if feats["dense1"] >= 0.86 else 0.0
            t_answer, t_clarify = 0.5, 0.5
        else:
            p1, p3 = self.calibration.top1(x), self.calibration.top3(x)
            t_answer, t_clarify = self.calibration.answer_threshold, self.calibration.clarify_threshold
        if p1 >= t_answer:
            return "answer", matches[:1], p1
        if p3 >= t_clarify and len(matches) > 1:
            best = matches[0].score
            window = [m for m in matches if best - m.score <= self.cfg["clarify_window"]]
            offered = (window if len(window) >= 2 else matches[:2])[: self.cfg["clarify_max"]]
            return "clarify", offered, p3
        return "handoff", [], max(p1, p3)
