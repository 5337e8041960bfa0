"""Migration 0009: the daily and monthly rollups are filled from the hourly and daily rows an instance already
has (figures whose turns were purged are kept), and the migrations build exactly the insight models' tables."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

import govbot.migrations
from core.db import Base, Database
from insight.buckets import day_number, month_of_day
from insight.models import Turn

INSIGHT_TABLES = {"turns", "insight_daily", "insight_hour_of_day", "insight_service_daily", "insight_service_monthly",
                  "insight_latency_daily", "insight_latency_monthly", "insight_question_daily",
                  "insight_question_monthly", "insight_cursor", "insight_gaps"}


def _upgrade(db: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(govbot.migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_the_new_rollups_are_filled_from_the_old_ones(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    _upgrade(db, "0008_aliases")
    jan31, feb1 = day_number(dt.date(2025, 1, 31)), day_number(dt.date(2025, 2, 1))
    late_jan31 = jan31 * 24 - 8 + 23  # 23:00 local on 31 January, in UTC hours since the epoch
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO insight_hourly VALUES (:h, 'web', 'citizen', '', false, 3), "
                       "(:h, 'web', 'bot', 'answer', false, 2), (:h + 1, 'web', 'citizen', '', false, 4), "
                       "(:h + 1, 'rest', 'bot', 'handoff', true, 1)"), {"h": late_jan31})
        c.execute(text("INSERT INTO insight_question_daily VALUES (:a, '护照怎么办', 2), (:b, '护照怎么办', 5), "
                       "(:a - 1, '护照怎么办', 1)"), {"a": jan31, "b": feb1})
        c.execute(text("INSERT INTO insight_latency_daily VALUES (:a, 120, 2), (:b, 120, 1)"), {"a": jan31, "b": feb1})
        c.execute(text("INSERT INTO insight_service_daily VALUES (:a, 'GA-CR-01', 2)"), {"a": jan31})
    _upgrade(db, "head")
    with db.engine.connect() as c:
        def rows(sql: str) -> set[tuple]:
            return {tuple(r) for r in c.execute(text(sql))}

        assert rows("SELECT day, channel, author, decision, handoff, n FROM insight_daily") == {
            (jan31, "web", "citizen", "", False, 3), (jan31, "web", "bot", "answer", False, 2),
            (feb1, "web", "citizen", "", False, 4), (feb1, "rest", "bot", "handoff", True, 1)}
        assert rows("SELECT day, hour, n FROM insight_hour_of_day") == {(jan31, 23, 3), (feb1, 0, 4)}
        jan, feb = month_of_day(jan31), month_of_day(feb1)
        assert rows("SELECT month, question, n FROM insight_question_monthly") == {(jan, "护照怎么办", 3),
                                                                                 (feb, "护照怎么办", 5)}
        assert rows("SELECT month, latency_ms, n FROM insight_latency_monthly") == {(jan, 120, 2), (feb, 120, 1)}
        assert rows("SELECT month, code, n FROM insight_service_monthly") == {(jan, "GA-CR-01", 2)}
        assert not c.execute(text("SELECT name FROM sqlite_master WHERE name = 'insight_hourly'")).first()
    db.engine.dispose()


def test_the_migrations_build_the_insight_models_tables(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    _upgrade(db, "head")
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert Turn.__table__ is Base.metadata.tables["turns"]
    assert [d for d in diffs if any(f"'{table}'" in repr(d) for table in INSIGHT_TABLES)] == []
    db.engine.dispose()
