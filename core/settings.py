"""Runtime configuration, read once from environment variables (embedded defaults need none)."""
from __future__ import annotations

import os
import secrets
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
    rasa_token: str = ""    # Rasa's HTTP API; RASA_TOKEN, else generated once into var/secrets/ (0600)
    action_token: str = ""  # the action webhook Rasa calls; GOVBOT_ACTION_TOKEN, else generated likewise
    embedding_model: Path = field(
        default_factory=lambda: Path(_env("GOVBOT_EMBEDDING_MODEL", str(ROOT / "var" / "models" / "e5-small")))
    )
    retrieval_config: Path = field(
        default_factory=lambda: Path(_env("GOVBOT_RETRIEVAL_CONFIG", str(ROOT / "retrieval" / "retrieval.yml")))
    )
    sample_kb_dir: Path = ROOT / "knowledge_base" / "sample"
    # GOVBOT_SAMPLE_KB=off: a city's own instance starts with an empty knowledge base (no sample guides)
    sample_kb: bool = field(
        default_factory=lambda: _env("GOVBOT_SAMPLE_KB", "on").lower() not in ("off", "0", "false", "no")
    )
    applications_backend: str = field(default_factory=lambda: _env("GOVBOT_APPLICATIONS_URL", ""))
    # hand-off: working hours, holidays, SLA by priority, canned replies (read live)
    handoff_config: Path = field(
        default_factory=lambda: Path(_env("GOVBOT_HANDOFF_CONFIG", str(ROOT / "handoff" / "handoff.yml"))))
    # CSP frame-ancestors of the citizen chat page, e.g. "'self' https://www.example.gov.cn"; others: 'none'
    chat_frame_ancestors: str = field(default_factory=lambda: _env("GOVBOT_CHAT_FRAME_ANCESTORS", "'self'"))
    import_max_bytes: int = field(  # knowledge-base uploads larger than this get 413
        default_factory=lambda: int(_env("GOVBOT_IMPORT_MAX_BYTES", str(10 * 1024 * 1024))))
    # WeChat push (official account and mini-program customer service); the channel is off without a token
    wechat_token: str = field(default_factory=lambda: _env("WECHAT_TOKEN", ""))
    wechat_encoding_aes_key: str = field(default_factory=lambda: _env("WECHAT_ENCODING_AES_KEY", ""))
    wechat_appid: str = field(default_factory=lambda: _env("WECHAT_APPID", ""))
    wechat_appsecret: str = field(default_factory=lambda: _env("WECHAT_APPSECRET", ""))
    wechat_miniprogram_appid: str = field(default_factory=lambda: _env("WECHAT_MINIPROGRAM_APPID", ""))
    wechat_miniprogram_appsecret: str = field(default_factory=lambda: _env("WECHAT_MINIPROGRAM_APPSECRET", ""))
    wechat_api_base: str = field(default_factory=lambda: _env("WECHAT_API_BASE", "https://api.weixin.qq.com"))
    # Rasa's SQL tracker store (conversations survive restarts): var/tracker.db next to an SQLite app database,
    # the app's own database when that is PostgreSQL; GOVBOT_TRACKER_URL overrides
    tracker_url: str = field(default_factory=lambda: _env("GOVBOT_TRACKER_URL", ""))
    # the edge (connectors/edge.py): citizen messages per minute per sender and per client IP, request bodies
    rate_per_sender: int = field(default_factory=lambda: int(_env("GOVBOT_RATE_PER_SENDER", "30")))
    rate_per_ip: int = field(default_factory=lambda: int(_env("GOVBOT_RATE_PER_IP", "120")))
    max_request_bytes: int = field(default_factory=lambda: int(_env("GOVBOT_MAX_REQUEST_BYTES", str(1024 * 1024))))
    # origins allowed to call the API from a browser (comma-separated); none by default (same origin only)
    cors_origins: tuple[str, ...] = field(default_factory=lambda: tuple(
        o.strip() for o in _env("GOVBOT_CORS_ORIGINS", "").split(",") if o.strip()))
    log_format: str = field(default_factory=lambda: _env("GOVBOT_LOG_FORMAT", "json"))  # json | text

    def __post_init__(self) -> None:
        if not self.database_url:
            url = _env("DATABASE_URL", f"sqlite:///{self.var_dir / 'govbot.db'}")
            object.__setattr__(self, "database_url", url)
        if not self.tracker_url:
            sqlite = self.database_url.startswith("sqlite")
            object.__setattr__(self, "tracker_url",
                               f"sqlite:///{self.var_dir / 'tracker.db'}" if sqlite else self.database_url)
        for name, env in (("rasa_token", "RASA_TOKEN"), ("action_token", "GOVBOT_ACTION_TOKEN")):
            if not getattr(self, name):
                object.__setattr__(self, name, os.environ.get(env) or _instance_secret(self.var_dir, name))

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def cache_dir(self) -> Path:
        return self.var_dir / "cache"


def _instance_secret(var_dir: Path, name: str) -> str:
    """A random secret made on first use and kept in var/secrets/NAME (owner-only), never a default."""
    path = var_dir / "secrets" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
