"""BM25 (Lucene's variant: k1 1.5, b 0.75) over tokenised passages, as a term × passage sparse matrix of
precomputed weights. Rebuilt on every change in milliseconds (a calibration fit rebuilds it hundreds of
times); a question's scores are the sum of its terms' rows."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy.sparse import csr_matrix

K1, B = 1.5, 0.75


class SparseIndex:
    def __init__(self, passages_tokens: list[list[str]]) -> None:
        self.size = len(passages_tokens)
        self._terms: dict[str, int] = {}
        rows, cols, tfs, lengths = [], [], [], []
        for doc, tokens in enumerate(t or ["∅"] for t in passages_tokens):
            lengths.append(len(tokens))
            for term, tf in Counter(tokens).items():
                rows.append(self._terms.setdefault(term, len(self._terms)))
                cols.append(doc)
                tfs.append(tf)
        tf = np.asarray(tfs, dtype=np.float64)
        docs = np.asarray(cols, dtype=np.int64)
        length = np.asarray(lengths, dtype=np.float64)
        df = np.bincount(np.asarray(rows, dtype=np.int64), minlength=len(self._terms))
        idf = np.log(1 + (self.size - df + 0.5) / (df + 0.5))
        norm = K1 * (1 - B + B * length[docs] / (length.mean() if self.size else 1.0))
        weights = idf[rows] * tf / (tf + norm) if rows else np.zeros(0)
        self._weights = csr_matrix((weights.astype(np.float32), (rows, cols)), shape=(len(self._terms), self.size))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float32)
        w = self._weights
        for term in query_tokens:  # a repeated term in the query counts again
            if (row := self._terms.get(term)) is not None:
                start, end = w.indptr[row], w.indptr[row + 1]
                out[w.indices[start:end]] += w.data[start:end]  # a row names each passage once
        return out
