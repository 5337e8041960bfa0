"""Conversations survive a restart of the whole stack: Rasa's SQL tracker store (var/tracker.db) keeps the
current service and a half-filled form."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

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
        assert "姓名" in texts(s.chat("p1", "上午10点"))  # the form goes on at the next slot: service and date kept
        fee = s.chat("p2", "那要多少钱")  # a follow-up on the service chosen before the restart
        assert fee["matches"][0]["code"] == "GA-CR-01" and "120元" in texts(fee)
    finally:
        stack.close()


def test_purge_deletes_what_is_older_than_the_retention_period(tmp_path):
    import datetime as dt

    from bot.models import Appointment
    from core.db import Database
    from govbot.migrations import upgrade
    from govbot.retention import parse_age, purge
    from handoff.models import Conversation, Ticket, TicketMessage
    from insight.models import Turn

    now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    old, recent = now - dt.timedelta(days=200), now - dt.timedelta(days=10)
    db = Database(f"sqlite:///{tmp_path / 'govbot.db'}")
    upgrade(db)
    with db.session() as s:
        for sender, at in (("old", old), ("new", recent), ("old-open", old)):
            s.add(Conversation(sender_id=sender, last_active_at=at))
            s.add(Turn(sender_id=sender, author="citizen", text="护照", at=at))
        s.add(Ticket(id=1, kind="handoff", sender_id="old", status="closed", closed_at=old, created_at=old))
        s.add(Ticket(id=2, kind="handoff", sender_id="new", status="closed", closed_at=recent, created_at=old))
        s.add(Ticket(id=3, kind="handoff", sender_id="old-open", status="new", created_at=old))
        s.add(TicketMessage(ticket_id=1, sender_id="old", author="citizen", text="你好", at=old))
        for code, day in (("OLD1", old.date()), ("NEW1", recent.date())):
            s.add(Appointment(code=code, sender_id="x", service_code="GA-CR-01", service_title="护照", day=day,
                              slot="09:00-10:00", name="王小明", phone="13812345678"))
    tracker = tmp_path / "tracker.db"
    with sqlite3.connect(tracker) as t:
        t.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, "
                  "intent_name TEXT, action_name TEXT, data TEXT)")
        t.executemany("INSERT INTO events (sender_id, type_name, timestamp) VALUES (?, 'user', ?)",
                      [("old", old.timestamp()), ("new", old.timestamp()), ("new", recent.timestamp())])

    removed = purge(db, f"sqlite:///{tracker}", parse_age("180d"), now=now)

    assert removed == {"ticket messages": 1, "closed tickets": 1, "turns": 2, "conversations": 1,
                       "appointments": 1, "rasa conversations": 1}
    with db.session() as s:
        assert set(s.scalars(select(Conversation.sender_id))) == {"new", "old-open"}  # an open ticket keeps it
        assert set(s.scalars(select(Ticket.id))) == {2, 3}
        assert set(s.scalars(select(Appointment.code))) == {"NEW1"}
    with sqlite3.connect(tracker) as t:  # a conversation still going keeps its older events too
        assert t.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id").fetchall() == [("new", 2)]
    with pytest.raises(ValueError):
        parse_age("180")
