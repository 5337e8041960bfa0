"""The sentence encoder (e5 via sentence-transformers), loaded offline, with an on-disk embedding cache."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Encoder:
    """`encode_queries` for citizens' questions, `encode_passages` for knowledge-base text (cached)."""

    def __init__(self, model_path: Path, cache_path: Path | None = None, int8: bool = False) -> None:
        if not (model_path / "modules.json").exists():
            raise FileNotFoundError(
                f"embedding model not found at {model_path}. Build it with `make setup` "
                "(or `.venv/bin/govbot setup-model`), or set GOVBOT_EMBEDDING_MODEL to a sentence-transformers folder."
            )
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        self.model = SentenceTransformer(str(model_path), device="cpu")
        if int8:  # int8 weights per output channel in every linear layer, for queries and passages alike
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            with warnings.catch_warnings():  # torch points at torchao; this eager API is what runs on CPU today
                warnings.simplefilter("ignore")
                self.model = quantize_dynamic(self.model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
        self.model.eval()
        self.dim = self.model.get_embedding_dimension()
        self._key_prefix = str(model_path.resolve()) + ("|int8" if int8 else "")
        self._lock = threading.Lock()
        self._cache = None
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._cache = sqlite3.connect(str(cache_path), check_same_thread=False)
            self._cache.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        """The model's own modules (tokenize → BERT → mean pooling → normalise) in batches of similar
        length; calling them directly skips `encode()`'s per-call bookkeeping (~4 ms of a 12 ms query)."""
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        prefix = self.model.prompts.get(prompt, "")
        with self._lock, torch.inference_mode():  # torch on 2 cores: one inference at a time
            for start in range(0, len(order), 32):
                batch = order[start:start + 32]
                features = self.model.preprocess([prefix + texts[i] for i in batch])
                out[batch] = self.model(features)["sentence_embedding"].float().numpy()
        return out

    def encode_queries(self, texts: list[str], cached: bool = False) -> np.ndarray:
        """`cached`: from and into the on-disk cache, for questions asked again and again (a calibration fit
        asks the knowledge base's own phrasings at every fit). Each is encoded alone, as a citizen's
        question is: the int8 model scales its activations per batch, which moves scores by up to 0.01."""
        if not cached:
            return self._encode(texts, "query")
        return self._cached(texts, "query") if self._cache is not None else self._one_by_one(texts, "query")

    def _one_by_one(self, texts: list[str], prompt: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._encode([t], prompt)[0]
        return out

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, "passage") if self._cache is not None else self._encode(texts, "passage")

    def _cached(self, texts: list[str], prompt: str) -> np.ndarray:
        keys = [hashlib.sha1(f"{self._key_prefix}|{prompt}|{t}".encode()).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                rows = self._cache.execute(
                    f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        todo = [i for i, k in enumerate(keys) if k not in found]
        if todo:
            misses = [texts[i] for i in todo]
            fresh = self._one_by_one(misses, prompt) if prompt == "query" else self._encode(misses, prompt)
            with self._lock:
                self._cache.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                        [(keys[i], fresh[j].tobytes()) for j, i in enumerate(todo)])
                self._cache.commit()
            for j, i in enumerate(todo):
                found[keys[i]] = fresh[j]
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), dtype=np.float32)
