"""The sample knowledge base shipped in the repo (YAML, our own writing) and its synonym dictionary, which
seeds the editor-managed alias table (`kb_aliases`) when the sample is loaded."""
from __future__ import annotations

from pathlib import Path

import yaml

from knowledge_base.schema import AliasDoc, GuideData

SAMPLE_DIR = Path(__file__).parent / "sample"
SAMPLE_LOADER = "sample-loader"  # the actor that publishes the sample on first start


def load_sample_guides(folder: Path = SAMPLE_DIR / "guides") -> list[GuideData]:
    guides = []
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("status", "version", "updated_by", "updated_at"):  # workflow state, not content
            raw.pop(key, None)
        guides.append(GuideData.model_validate(raw))
    return guides


def load_synonyms(path: Path = SAMPLE_DIR / "synonyms.yaml") -> tuple[dict[str, str], dict[str, str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return dict(raw.get("aliases") or {}), dict(raw.get("typos") or {})


def load_sample_aliases() -> list[AliasDoc]:
    aliases, typos = load_synonyms()
    return [AliasDoc(term=term, canonical=canonical, kind=kind)
            for kind, mapping in (("alias", aliases), ("typo", typos)) for term, canonical in mapping.items()]
