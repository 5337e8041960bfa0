"""The Rasa project at the repo root: model fingerprints, training.

The NLU model knows no service names: Rasa's tokenizer uses jieba's own dictionary, so a city's knowledge
base (its titles and aliases) never needs a retrained model; which service a question is about is the
retrieval layer's job, over the live knowledge base."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from core.settings import Settings

INPUTS = ("config.yml", "bot/domain.yml", "training_data", "bot/nlu")


def rasa_bin(settings: Settings) -> Path:
    path = settings.root / ".venv-rasa" / "bin" / "rasa"
    if not path.exists():
        raise SystemExit("Rasa is not installed: run `make setup` (creates .venv-rasa from requirements/rasa.txt)")
    return path


def fingerprint(settings: Settings, epochs_scale: float = 1.0) -> str:
    h = hashlib.sha256(f"epochs={epochs_scale}".encode())
    for name in INPUTS:
        p = settings.root / name
        files = sorted(p.rglob("*")) if p.is_dir() else [p]
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(settings.root)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:12]


def model_path(settings: Settings, epochs_scale: float = 1.0) -> Path:
    return settings.root / "models" / f"govbot-{fingerprint(settings, epochs_scale)}.tar.gz"


def scaled_config(settings: Settings, epochs_scale: float) -> Path:
    """config.yml with fewer epochs (for tests); the original when the scale is 1."""
    if epochs_scale == 1.0:
        return settings.root / "config.yml"
    import yaml

    cfg = yaml.safe_load((settings.root / "config.yml").read_text())
    for part in cfg["pipeline"] + cfg["policies"]:
        if "epochs" in part:
            part["epochs"] = max(5, int(part["epochs"] * epochs_scale))
    out = settings.var_dir / "config.scaled.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return out


def train(settings: Settings, force: bool = False, epochs_scale: float = 1.0) -> Path:
    """Train only when config, domain, training data or the NLU components changed since the last model."""
    target = model_path(settings, epochs_scale)
    if target.exists() and not force:
        print(f"Rasa model up to date: {target.relative_to(settings.root)}")
        return target
    log = settings.var_dir / "logs" / "rasa-train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"training the Rasa model (log: {log}) …", flush=True)
    t0 = time.time()
    cmd = [str(rasa_bin(settings)), "train", "--config", str(scaled_config(settings, epochs_scale)),
           "--domain", "bot/domain.yml", "--data", "training_data", "--out", "models",
           "--fixed-model-name", target.name.removesuffix(".tar.gz")]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=settings.root, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                                     "GOVBOT_EMBEDDING_MODEL": str(settings.embedding_model)})
        while proc.poll() is None:
            time.sleep(5)
            sys.stdout.write(f"\r  … {int(time.time() - t0)} s")
            sys.stdout.flush()
    print()
    if proc.returncode != 0 or not target.exists():
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:])
        raise SystemExit(f"Rasa training failed (exit {proc.returncode}). Last lines of {log}:\n{tail}")
    print(f"trained {target.name} in {time.time() - t0:.0f} s")
    return target
