"""Dense features for Rasa NLU from the same e5 model the retrieval side uses (runs inside .venv-rasa).

The Rasa virtualenv has neither torch nor transformers, so this module runs the BERT encoder itself in
numpy from the model folder `govbot setup-model` builds (model.safetensors + tokenizer.json). It adds
a sentence feature (mean-pooled and L2-normalised, as sentence-transformers pools it) and a sequence
feature per jieba token (the mean of the sub-word states that overlap the token), so the intent
classifier and DIET see what a sentence means, not only which characters it shares with the examples.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.special import erf

PREFIX = "query: "  # e5 reads questions with this prefix
MAX_TOKENS = 128


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _mapped(path: Path, suffix: str) -> np.ndarray:
    """A float32 tensor of a safetensors file as a read-only memory map (header: u64 size, then JSON)."""
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    name = next(k for k in header if k.endswith(suffix))
    meta = header[name]
    if meta["dtype"] != "F32":
        raise ValueError(f"{path}: {name} is {meta['dtype']}, expected F32")
    start, _ = meta["data_offsets"]
    return np.memmap(path, dtype=np.float32, mode="r", offset=8 + size + start, shape=tuple(meta["shape"]))


class BertEncoder:
    """A BERT forward pass for one text at a time (no padding), weights in float32."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer as SubwordTokenizer

        if not (model_dir / "model.safetensors").exists():
            raise FileNotFoundError(f"e5 model not found at {model_dir}: run `make setup` (or `.venv/bin/govbot "
                                    "setup-model`), or set GOVBOT_EMBEDDING_MODEL to the model folder")
        cfg = json.loads((model_dir / "config.json").read_text())
        self.heads, self.eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]
        self.tokenizer = SubwordTokenizer.from_file(str(model_dir / "tokenizer.json"))
        weights = model_dir / "model.safetensors"
        with safe_open(str(weights), framework="np") as f:  # all but the vocabulary table, mapped below
            w = {k.removeprefix("bert.").removeprefix("model."): f.get_tensor(k) for k in f.keys()
                 if not k.endswith("word_embeddings.weight")}
        self.emb = {n: w[f"embeddings.{n}"] for n in ("position_embeddings.weight", "token_type_embeddings.weight",
                                                      "LayerNorm.weight", "LayerNorm.bias")}
        # 250k-piece vocabulary, ~380 MB: map it from the file so only the rows in use take memory
        self.emb["word_embeddings.weight"] = _mapped(weights, "word_embeddings.weight")
        self.layers = []
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."

            def t(name: str) -> np.ndarray:  # torch stores [out, in]; x @ W wants [in, out]
                return np.ascontiguousarray(w[p + name + ".weight"].T)

            self.layers.append({
                "qkv": np.concatenate([t(f"attention.self.{n}") for n in ("query", "key", "value")], 1),
                "qkv_b": np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
                "ao": t("attention.output.dense"), "ao_b": w[p + "attention.output.dense.bias"],
                "aln": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                "fi": t("intermediate.dense"), "fi_b": w[p + "intermediate.dense.bias"],
                "fo": t("output.dense"), "fo_b": w[p + "output.dense.bias"],
                "oln": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })

    def encode(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Hidden states [n_subwords, dim] and each sub-word's character span in `text`."""
        enc = self.tokenizer.encode(PREFIX + text)
        ids, offsets = enc.ids[:MAX_TOKENS], enc.offsets[:MAX_TOKENS]
        e = self.emb
        x = e["word_embeddings.weight"][ids] + e["position_embeddings.weight"][: len(ids)] \
            + e["token_type_embeddings.weight"][0]
        x = _layer_norm(x, e["LayerNorm.weight"], e["LayerNorm.bias"], self.eps)
        n, dim = x.shape
        d = dim // self.heads
        for L in self.layers:
            q, k, v = np.split(x @ L["qkv"] + L["qkv_b"], 3, axis=1)
            q, k, v = (m.reshape(n, self.heads, d).transpose(1, 0, 2) for m in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            ctx = (scores / scores.sum(-1, keepdims=True)) @ v
            x = _layer_norm(x + ctx.transpose(1, 0, 2).reshape(n, dim) @ L["ao"] + L["ao_b"], *L["aln"], self.eps)
            h = x @ L["fi"] + L["fi_b"]
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
            x = _layer_norm(x + h @ L["fo"] + L["fo_b"], *L["oln"], self.eps)
        shift = len(PREFIX)
        return x, [(a - shift, b - shift) for a, b in offsets]


@functools.lru_cache(maxsize=2)
def _encoder(model_dir: str) -> BertEncoder:  # one copy per process, shared by cross-validation folds
    return BertEncoder(Path(model_dir))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Sentence and per-token e5 features for the message text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["tokenizers", "safetensors"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_path": "var/models/e5-small"}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.model_dir = os.environ.get("GOVBOT_EMBEDDING_MODEL") or self._config["model_path"]

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._add_features(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _add_features(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT])
        text = message.get(TEXT)
        if not tokens or not text:
            return
        states, spans = _encoder(self.model_dir).encode(text)
        sentence = states.mean(0)
        sentence /= np.linalg.norm(sentence) or 1.0
        sequence = np.zeros((len(tokens), states.shape[1]), dtype=np.float32)
        for i, tok in enumerate(tokens):
            rows = [j for j, (a, b) in enumerate(spans) if b > a and a < tok.end and b > tok.start]
            if rows:
                sequence[i] = states[rows].mean(0)
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
        message.add_features(Features(sentence[None, :].astype(np.float32), FEATURE_TYPE_SENTENCE, TEXT, alias))
