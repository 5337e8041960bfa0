"""Runtime configuration, read once from environment variables (embedded defaults need none)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    root: Path = ROOT
    var_dir: Path = field(default_factory=lambda: Path(_env("GOVBOT_VAR_DIR", str(ROOT / "var"))))
    database_url: str = ""
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    host: str = field(default_factory=lambda: _env("GOVBOT_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("GOVBOT_PORT", "8000")))
    rasa_port: int = field(default_factory=lambda: int(_env("RASA_PORT", "5005")))
    rasa_token: str = field(default_factory=lambda: _env("RASA_TOKEN", "govbot-local-token"))
    embedding_model: Path = field(
        default_factory=lambda: Path(_env("GOVBOT_EMBEDDING_MODEL", str(ROOT / "var" / "models" / "e5-small")))
    )
    retrieval_config: Path = field(
        default_factory=lambda: Path(_env("GOVBOT_RETRIEVAL_CONFIG", str(ROOT / "retrieval" / "retrieval.yml")))
    )
    sample_kb_dir: Path = ROOT / "knowledge_base" / "sample"
    applications_backend: str = field(default_factory=lambda: _env("GOVBOT_APPLICATIONS_URL", ""))

    def __post_init__(self) -> None:
        if not self.database_url:
            url = _env("DATABASE_URL", f"sqlite:///{self.var_dir / 'govbot.db'}")
            object.__setattr__(self, "database_url", url)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def cache_dir(self) -> Path:
        return self.var_dir / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
