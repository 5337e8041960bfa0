"""FAISS inner-product index over passage vectors, keyed by passage id, with incremental add/remove.

Exact (flat) below `approx_above` vectors; IVF (trained on the vectors present, probes `nprobe` lists)
above it. Both keep ids, so publishing or archiving an item touches only its own vectors.
"""
from __future__ import annotations

import math

import faiss
import numpy as np


class DenseIndex:
    def __init__(self, dim: int, approx_above: int = 50_000, nprobe: int = 24) -> None:
        self.dim, self.approx_above, self.nprobe = dim, approx_above, nprobe
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def size(self) -> int:
        return self._index.ntotal

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(faiss.downcast_index(self._index.index), faiss.IndexIVF) else "flat"

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the whole index (first start, or a rebuild); picks flat or IVF by size."""
        if len(ids) > self.approx_above:
            nlist = int(4 * math.sqrt(len(ids)))
            quantiser = faiss.IndexFlatIP(self.dim)
            ivf = faiss.IndexIVFFlat(quantiser, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(vectors)
            ivf.nprobe = self.nprobe
            ivf.make_direct_map(False)
            self._index = faiss.IndexIDMap2(ivf)
            self._quantiser = quantiser  # keep a reference alive for faiss
        else:
            self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self.add(ids, vectors)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(ids.astype(np.int64)))

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self._index.search(vector.reshape(1, -1).astype(np.float32), min(k, self.size))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]
