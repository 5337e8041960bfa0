"""Personal data never reaches the turn log, tickets or the logs: end to end through the chat API, and
through a failed insert logged as uvicorn logs it into var/logs/app.log."""
from __future__ import annotations

import logging
import re
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from handoff.models import Ticket
from bot.rasa_client import BotTurn
from core.db import Database
from core.logs import MaskingFilter, setup_logging
from govbot.app import create_app
from insight.models import Turn
from govbot.services import Services
from tests.conftest import make_settings, need_service

# How citizens write personal numbers, and the number each one must never show again.
SPELLINGS = {
    "我的身份证110101199003071233": "110101199003071233",
    "老身份证号110101900307123": "110101900307123",
    "身份证 110101 19900307 1233": "110101199003071233",
    "手机138 1234 5678": "13812345678",
    "电话138-1234-5678": "13812345678",
    "+8613812345678": "13812345678",
    "手机１３８１２３４５６７８": "13812345678",
    "卡号6222 0212 3456 7890 128": "6222021234567890128",
    "银行卡4111111111111111": "4111111111111111",
    "座机0755-8888 6666": "075588886666",
    "护照E12345678": "E12345678",
}
_FOLD = str.maketrans("０１２３４５６７８９", "0123456789")


def _leaks(stored: str) -> list[str]:
    """The personal numbers still readable in `stored`, however they were spelled."""
    compact = re.sub(r"[^0-9A-Za-z*]", "", stored.translate(_FOLD))
    return [raw for raw in set(SPELLINGS.values()) if raw in compact]


class _EchoRasa:
    """Stands in for the Rasa server: a form that repeats what it understood, as confirmations do."""

    async def send(self, sender_id: str, message: str, channel: str) -> BotTurn:
        return BotTurn(messages=[{"text": f"您提供的是：{message}"}], meta={"decision": "dialogue"})

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def test_no_spelling_reaches_the_turn_log_or_tickets_through_the_chat_api(app_client, services):
    app_client.app.state.gateway.rasa = _EchoRasa()
    for i, message in enumerate(SPELLINGS):
        r = app_client.post("/api/v1/chat", json={"sender_id": f"pii-{i}", "message": message})
        assert r.status_code == 200 and r.json()["messages"][0]["text"].endswith(message)  # the citizen sees it
    transcript = [{"author": "citizen", "text": m} for m in SPELLINGS]
    services.conversations.open_ticket("complaint", "pii-0", transcript, category="服务态度",
                                       content="；".join(SPELLINGS), contact="13812345678")
    with services.db.session() as s:
        turns = s.scalars(select(Turn.text)).all()
        ticket = s.scalars(select(Ticket)).one()
        free_text = [ticket.content, *(line["text"] for line in ticket.transcript)]
    assert len(turns) == 2 * len(SPELLINGS)
    assert [t for t in turns if _leaks(t)] == [] and [t for t in free_text if _leaks(t)] == []
    assert ticket.contact == "13812345678"  # the call-back number lives in its own column, as form data


def _fail_an_insert(db: Database) -> DBAPIError:
    """Two tickets with the same id: the second insert fails with the contact and complaint as parameters."""
    def insert() -> None:
        with db.session() as s:
            s.add(Ticket(id=7, kind="complaint", sender_id="pii", contact="13812345678",
                         content="身份证110101199003071233"))
    insert()
    with pytest.raises(DBAPIError) as failure:
        insert()
    return failure.value


@pytest.fixture
def uvicorn_log(tmp_path):
    """A handler configured the way uvicorn configures its loggers before it calls the app factory."""
    path = tmp_path / "logs" / "app.log"
    path.parent.mkdir()
    handler = logging.FileHandler(path, encoding="utf-8")
    logger = logging.getLogger("uvicorn")
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    handler.close()


def test_a_failed_insert_logged_by_the_server_carries_no_personal_data(tmp_path, uvicorn_log):
    services = Services(make_settings(tmp_path))  # the database only: no index is built without the lifespan
    create_app(services.settings, services)  # the app's logging setup masks the server's handlers
    error = _fail_an_insert(services.db)
    assert "parameters hidden" in str(error) and "13812345678" not in str(error)
    logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=error)
    written = uvicorn_log.read_text(encoding="utf-8")
    assert "Exception in ASGI application" in written and "IntegrityError" in written
    assert _leaks(written) == []


def test_the_masking_filter_masks_messages_arguments_and_tracebacks(tmp_path):
    handler = logging.FileHandler(tmp_path / "app.log", encoding="utf-8")
    logger = logging.getLogger(f"govbot.test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.propagate = False
    setup_logging()
    assert any(isinstance(f, MaskingFilter) for f in handler.filters)
    logger.warning("citizen %s wrote %r", "手机138 1234 5678", {"id": "110101199003071233"})
    logger.warning("卡号6222 0212 3456 7890 128")
    try:
        raise ValueError("护照E12345678 座机0755-8888 6666")
    except ValueError:
        logger.exception("lookup failed for %(who)s", {"who": "+8613812345678"})
    handler.close()
    written = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "138****5678" in written and "ValueError" in written and "lookup failed" in written
    assert _leaks(written) == []


def _postgres_url() -> str:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    try:
        with create_engine(url, connect_args={"connect_timeout": 3}).connect() as c:
            c.execute(text("select 1"))
    except Exception:
        need_service(False, f"PostgreSQL at {url}")
    return url


@pytest.mark.postgres
def test_on_postgres_parameters_are_hidden_and_values_echoed_by_the_server_are_masked(tmp_path):
    db = Database(_postgres_url())
    handler = logging.FileHandler(tmp_path / "app.log", encoding="utf-8")
    logger = logging.getLogger("govbot.test.postgres")
    logger.addHandler(handler)
    setup_logging()
    with pytest.raises(DBAPIError) as failure, db.session() as s:  # PostgreSQL quotes the bad value itself
        s.execute(text("SELECT CAST(:phone AS integer)"), {"phone": "手机138 1234 5678"})
    assert "parameters hidden" in str(failure.value)
    logger.error("query failed", exc_info=failure.value)
    handler.close()
    written = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "invalid input syntax" in written and _leaks(written) == []
    db.engine.dispose()
