"""The hand-off queue without the app: atomic claims under racing agents (SQLite and PostgreSQL), release of
offline agents, transfer, the working-hours calendar and SLA, and migration 0007 keeping existing tickets."""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from core.db import Base, Database
from core.hub import Hub
from govbot.migrations import upgrade
from handoff.calendar import ConfigFile, HandoffConfig
from handoff.models import Conversation, Ticket
from handoff.tickets import PRESENCE_TIMEOUT, Desk, HandoffError
from knowledge_base.workflow import KnowledgeBase
from tests.test_postgres import pg_url  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
HANDOFF_TABLES = ("tickets", "ticket_messages", "handoff_agents", "conversations")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_desk(url: str, clock: Clock | None = None) -> Desk:
    db = Database(url)
    upgrade(db)
    return Desk(db, Hub(), KnowledgeBase(db), ConfigFile(), clock or Clock(WEDNESDAY_10))


@pytest.fixture
def desk(tmp_path) -> Desk:
    return make_desk(f"sqlite:///{tmp_path / 'q.db'}")


def _race(desk: Desk, ticket_id: int, agents: list[str]) -> list[str]:
    """Every agent claims the same ticket at the same moment; the names of those who got it."""
    start, winners = threading.Barrier(len(agents)), []

    def claim(agent: str) -> None:
        start.wait()
        try:
            desk.claim(ticket_id, agent)
            winners.append(agent)
        except HandoffError as exc:
            assert exc.status == 409

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return winners


def _check_races(desk: Desk, rounds: int = 15) -> None:
    for i in range(rounds):
        opened = desk.open(f"race-{i}", "web", "handoff", "asked", [{"author": "citizen", "text": "转人工"}])
        winners = _race(desk, opened.ticket.id, ["agent-a", "agent-b", "agent-c"])
        assert len(winners) == 1, winners
        assert desk.get(opened.ticket.id).assignee == winners[0]


def test_racing_agents_one_wins_on_sqlite(desk):
    _check_races(desk)


@pytest.mark.postgres
def test_racing_agents_one_wins_on_postgres(pg_url):  # noqa: F811
    _check_races(make_desk(pg_url))


@pytest.mark.postgres
def test_claim_next_skips_locked_rows_on_postgres(pg_url):  # noqa: F811
    """Six agents pull from a queue of twelve at once (SKIP LOCKED): every ticket goes to exactly one."""
    desk = make_desk(pg_url)
    ids = {desk.open(f"pull-{i}", "web", "handoff", "asked", []).ticket.id for i in range(12)}
    start, got, lock = threading.Barrier(6), [], threading.Lock()

    def pull(agent: str) -> None:
        start.wait()
        while (ticket := desk.claim_next(agent)) is not None:
            with lock:
                got.append(ticket.id)

    threads = [threading.Thread(target=pull, args=(f"agent-{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == sorted(ids)


def test_an_offline_agents_tickets_go_back_to_the_queue(desk):
    a = desk.open("off-1", "web", "handoff", "asked", []).ticket
    desk.heartbeat("agent-a")
    desk.claim(a.id, "agent-a")
    assert desk.counts()["agents_online"] == 1
    desk.clock.now += PRESENCE_TIMEOUT + dt.timedelta(seconds=1)  # the console fell silent
    desk.list()
    assert desk.get(a.id).status == "new" and desk.get(a.id).assignee == ""
    assert desk.counts()["agents_online"] == 0
    desk.claim(a.id, "agent-b")
    assert desk.offline("agent-b") == [a.id]


def test_transfer_to_an_agent_or_a_group_and_only_the_holder_acts(desk):
    t = desk.open("tr-1", "web", "handoff", "asked", []).ticket
    desk.claim(t.id, "agent-a")
    with pytest.raises(HandoffError) as refused:
        desk.transfer(t.id, "agent-b", to_agent="agent-c")
    assert refused.value.status == 403
    assert desk.transfer(t.id, "agent-a", to_agent="agent-b").assignee == "agent-b"
    moved = desk.transfer(t.id, "agent-b", to_group="出入境")
    assert (moved.status, moved.assignee, moved.skill_group) == ("new", "", "出入境")


def test_citizen_ends_the_hand_off_and_is_never_stuck(desk):
    opened = desk.open("end-1", "web", "handoff", "asked", [])
    assert desk.citizen_says("end-1", "你好")[0].startswith("已收到。您前面还有 0 位")
    assert desk.citizen_says("end-1", "结束人工") and desk.get(opened.ticket.id).status == "resolved"
    with desk.db.session() as s:
        assert s.get(Conversation, "end-1").mode == "bot"
    # a conversation left in human mode without an open ticket goes back to the bot on its next message
    desk.set_mode("end-1", "human")
    assert desk.citizen_says("end-1", "还在吗") is None
    with desk.db.session() as s:
        assert s.get(Conversation, "end-1").mode == "bot"


def test_outside_working_hours_a_callback_is_recorded_with_consent(desk):
    desk.clock.now = dt.datetime(2026, 3, 4, 22, 30, tzinfo=SHANGHAI)
    opened = desk.open("cb-1", "web", "handoff", "asked", [])
    said = desk.waiting_text(opened)
    assert "非工作时间" in said and "09:00" in said and opened.ticket.callback
    assert opened.ticket.sla_due_at == dt.datetime(2026, 3, 5, 9, 10, tzinfo=SHANGHAI)  # counted from opening
    assert desk.get(opened.ticket.id).contact == ""  # no number without the citizen giving it
    answer = desk.citizen_says("cb-1", "可以，打我电话13812345678")
    assert "138****5678" in answer[0]
    assert desk.get(opened.ticket.id).contact == "13812345678"
    assert all("13812345678" not in m.text for m in desk.messages(opened.ticket.id))  # stored masked


def test_working_hours_holidays_and_sla():
    cfg = HandoffConfig.parse({"hours": {d: ["09:00", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                               "holidays": ["2026-03-05"], "extra_workdays": ["2026-03-07"],
                               "sla_minutes": {"normal": 30}})
    at = lambda *a: dt.datetime(*a, tzinfo=SHANGHAI)  # noqa: E731
    assert cfg.is_open(at(2026, 3, 4, 9, 0)) and not cfg.is_open(at(2026, 3, 4, 18, 0))
    assert not cfg.is_open(at(2026, 3, 5, 10, 0))  # a holiday
    assert cfg.is_open(at(2026, 3, 7, 10, 0))  # a Saturday worked
    # 17:50 Wednesday + 30 working minutes: 10 today, Thursday is a holiday, 20 on Friday
    assert cfg.sla_due(at(2026, 3, 4, 17, 50), "normal") == at(2026, 3, 6, 9, 20)
    assert cfg.next_open(at(2026, 3, 6, 19, 0)) == at(2026, 3, 7, 9, 0)
    assert cfg.hours_text() == "周一至周五 09:00-18:00"
    with pytest.raises(ValueError):
        HandoffConfig.parse({"hours": {"mon": ["18:00", "09:00"]}})


def test_the_settings_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "handoff.yml"
    path.write_text("canned_replies: [您好]\n", encoding="utf-8")
    config = ConfigFile(path)
    assert config.get().canned_replies == ("您好",)
    path.write_text("canned_replies: [请稍等]\n", encoding="utf-8")
    import os
    os.utime(path, (1, 1))  # a different mtime even within the clock's resolution
    assert config.get().canned_replies == ("请稍等",)


def test_migration_0007_keeps_existing_tickets_and_builds_the_models_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(upgrade.__code__.co_filename).parent))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006_operator_signin")
        conn.execute(text("INSERT INTO conversations (sender_id, channel, mode, started_at) VALUES "
                          "('old-1', 'wechat', 'human', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO tickets (kind, sender_id, status, category, content, contact, transcript, "
                          "assignee, created_at) VALUES ('complaint', 'old-1', 'open', '服务态度', '排队太久', "
                          "'13812345678', '[]', '', '2026-01-01 00:00:00'), ('handoff', 'old-1', 'open', '', '', '', "
                          "'[]', '', '2026-01-01 00:00:00')"))
    upgrade(db)
    with db.session() as s:
        complaint, handoff = s.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert (complaint.status, complaint.category, complaint.topic, complaint.priority, complaint.channel) == (
        "new", "投诉", "服务态度", "high", "wechat")
    assert complaint.contact == "13812345678" and complaint.content == "排队太久" and complaint.related_codes == []
    assert (handoff.status, handoff.category, handoff.reason) == ("new", "咨询", "asked")
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if any(f"'{t}'" in repr(d) for t in HANDOFF_TABLES)] == []


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.mark.redis
def test_the_hub_carries_events_between_replicas_through_redis():
    """What one replica publishes (from any thread) reaches a subscriber on another replica."""
    import asyncio

    from tests.conftest import need_service

    need_service(_redis_up(), "Redis at 127.0.0.1:6379")

    async def scenario() -> tuple[dict, dict]:
        here, there = Hub("redis://127.0.0.1:6379/0"), Hub("redis://127.0.0.1:6379/0")
        await here.start()
        try:
            async with here.subscribe("queue") as queue:
                await asyncio.to_thread(there.publish, "queue", {"type": "ticket", "id": 7})
                other = await asyncio.wait_for(queue.get(), 5)
                here.publish("queue", {"type": "ticket", "id": 8})
                own = await asyncio.wait_for(queue.get(), 5)
                return other, own
        finally:
            await here.close()
            await there.close()

    assert asyncio.run(scenario()) == ({"type": "ticket", "id": 7}, {"type": "ticket", "id": 8})


def test_the_in_process_hub_delivers_from_a_worker_thread():
    import asyncio

    async def scenario() -> dict:
        hub = Hub()
        async with hub.subscribe("conversation:x") as queue:
            await asyncio.to_thread(hub.publish, "conversation:x", {"text": "您好"})
            hub.publish("conversation:y", {"text": "not for x"})
            return await asyncio.wait_for(queue.get(), 5)

    assert asyncio.run(scenario()) == {"text": "您好"}
