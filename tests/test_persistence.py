"""Conversations survive a restart of the whole stack: Rasa's SQL tracker store (var/tracker.db) keeps the
current service and a half-filled form."""
from __future__ import annotations

import sqlite3

import pytest

from core.settings import Settings
from govbot.stack import endpoints_file, rasa_env
from tests.conftest import make_settings
from tests.stack import run_stack


def texts(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def test_embedded_mode_keeps_conversations_in_sqlite_under_var(tmp_path):
    settings = make_settings(tmp_path, redis_url="")
    assert settings.tracker_url == f"sqlite:///{tmp_path / 'tracker.db'}"
    rendered = endpoints_file(settings).read_text()
    assert "type: SQL" in rendered and "type: in_memory" in rendered and "\n  type: redis" not in rendered
    assert rasa_env(settings)["GOVBOT_TRACKER_URL"] == settings.tracker_url


def test_distributed_mode_uses_postgresql_and_redis_locks(tmp_path):
    settings = make_settings(tmp_path, database_url="postgresql+psycopg://govbot:s%40cret@db:5432/govbot",
                             redis_url="redis://:pw@cache:6380/2", port=8100)
    env = rasa_env(settings)
    assert env["GOVBOT_TRACKER_URL"] == "postgresql://govbot:s%40cret@db:5432/govbot"  # psycopg2 in Rasa
    assert (env["GOVBOT_REDIS_HOST"], env["GOVBOT_REDIS_PORT"], env["GOVBOT_REDIS_DB"],
            env["GOVBOT_REDIS_PASSWORD"]) == ("cache", "6380", "2", "pw")
    rendered = endpoints_file(settings).read_text()
    assert "\n  type: redis" in rendered and "\n  type: in_memory" not in rendered
    assert "127.0.0.1:8100/rasa/webhook" in rendered and "pw" not in rendered  # secrets stay in the environment
    assert Settings(var_dir=tmp_path, database_url="sqlite:///x.db", tracker_url="sqlite:///t.db").tracker_url \
        == "sqlite:///t.db"


@pytest.mark.slow
def test_a_restart_keeps_the_current_service_and_a_half_filled_form(tmp_path):
    settings = make_settings(tmp_path, port=18010, rasa_port=15015, redis_url="")
    stack = run_stack(settings)
    s = next(stack)
    s.chat("p1", "护照怎么办")
    assert "哪一天" in texts(s.chat("p1", "我想预约办理"))
    day = s.chat("p1", "下周三")
    assert "可预约的时段" in texts(day)
    s.chat("p2", "护照怎么办")
    stack.close()  # stops Rasa and the app

    with sqlite3.connect(tmp_path / "tracker.db") as db:
        assert db.execute("select count(distinct sender_id) from events").fetchone()[0] == 2

    stack = run_stack(settings)
    s = next(stack)
    try:
        assert "姓名" in texts(s.chat("p1", "上午"))  # the form goes on at the next slot: service and date kept
        fee = s.chat("p2", "那要多少钱")  # a follow-up on the service chosen before the restart
        assert fee["matches"][0]["code"] == "GA-CR-01" and "120元" in texts(fee)
    finally:
        stack.close()
