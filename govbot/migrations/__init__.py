"""The schema of every package's tables, brought to the newest Alembic revision (top layer: it sees them all)."""
from __future__ import annotations

from pathlib import Path

from core.db import Database


def upgrade(db: Database) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
