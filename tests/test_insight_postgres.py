"""The rollups and dashboard queries on a real PostgreSQL server: same figures, concurrent catch-up passes."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from tests.test_insight_figures import LOCAL, expected
from tests.test_postgres import pg_url  # noqa: F401  (fixture: a scratch schema)

pytestmark = pytest.mark.postgres


def test_figures_and_concurrent_catch_up_on_postgres(pg_url):  # noqa: F811
    from core.db import Database
    from govbot.migrations import upgrade
    from insight.analytics import Analytics, Period
    from insight.rollup import catch_up
    from insight.synthetic import generate, replay
    from knowledge_base.sample_data import load_sample_guides
    from knowledge_base.workflow import KnowledgeBase

    db = Database(pg_url)
    upgrade(db)
    kb = KnowledgeBase(db)
    kb.publish_directly(load_sample_guides(), actor="test", note="sample")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=1)
    records = list(generate(1200, now, 14, [(g.code, g.title) for g in kb.live()], seed=21))
    replay(db, records)
    counted: list[int] = []
    threads = [threading.Thread(target=lambda: counted.append(catch_up(db, batch=150))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted.append(catch_up(db))
    assert sum(counted) == 2400  # every turn counted exactly once

    today = (now + LOCAL).date()
    first = today - dt.timedelta(days=14)
    want = expected(records, first, today)
    analytics = Analytics(db, kb)
    o = analytics.overview(Period(first, today))
    for key in ("questions", "replies", "by_day", "by_hour", "by_channel", "decisions", "handoffs", "rates",
                "satisfaction", "latency"):
        assert o[key] == want[key], key
    s = analytics.services(Period(first, today))
    assert s["by_theme"] == want["by_theme"]
    top = analytics.questions(Period(first, today))["top"]
    assert [(t["question"], t["count"]) for t in top] == want["top_questions"]
    db.engine.dispose()
