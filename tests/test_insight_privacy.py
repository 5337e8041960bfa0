"""No ID-card or phone number a citizen types reaches the turn log, the analytics tables, exports,
reports or logs."""
from __future__ import annotations

import asyncio
import csv
import io
import logging

from sqlalchemy import text

from tests.conftest import auth

ID_CARD, PHONE = "110101199003071234", "13957246018"
SECRETS = (ID_CARD, PHONE, "19900307", "957246")  # whole numbers and the digits masking hides


class ScriptedRasa:
    """Stands in for the Rasa server (a separate process): replies with the metadata our actions attach."""

    def __init__(self) -> None:
        self.replies = []

    async def send(self, sender_id: str, message: str, channel: str):
        return self.replies.pop(0)


def test_numbers_typed_by_citizens_never_reach_analytics_exports_or_logs(app_client, tmp_path, caplog):
    from bot.gateway import Gateway
    from bot.rasa_client import BotTurn
    from insight.analytics import Period
    from insight.report import write_report
    from insight.rollup import catch_up

    caplog.set_level(logging.DEBUG)
    svc = app_client.app.state.services
    rasa = ScriptedRasa()
    gateway = Gateway(svc.conversations, rasa, lambda sender, text: ([], {}), svc.safety)
    said = [(f"我的身份证号{ID_CARD}，帮我查下养狗要办狗证吗", {"decision": "handoff", "matches": []}),
            (f"养犬登记怎么办 电话{PHONE}", {"decision": "handoff", "matches": []}),
            (f"护照怎么办，身份证 {ID_CARD}", {"decision": "answer", "matches": [
                {"code": "GA-CR-01", "title": "普通护照申领", "score": 0.93}], "intent": "ask_service"}),
            (f"转人工 {PHONE}", {"decision": "handoff", "matches": [], "mode": "human", "intent": "request_human"})]
    for i, (message, meta) in enumerate(said):
        rasa.replies.append(BotTurn([{"text": "好的"}], meta))
        asyncio.run(gateway.handle(f"p{i % 2}", message, "wechat_official"))
    svc.conversations.rate_last_answer("p0", "unsatisfied")
    assert catch_up(svc.db, settle_seconds=0) == 8
    assert svc.gaps.mine(Period.last_days(2)), "the unanswered questions form a gap cluster"

    exported = app_client.get("/api/v1/insight/export.csv", headers=auth("editor")).text
    assert [r for r in csv.reader(io.StringIO(exported)) if r[0] == "questions"] == [["questions", "total", "4"]]
    report = tmp_path / "report.html"
    summary = write_report(svc.insight, svc.gaps.list(), Period.last_days(2), report)
    gaps = app_client.get("/api/v1/insight/gaps", headers=auth("editor")).text
    questions = app_client.get("/api/v1/insight/questions", headers=auth("editor")).text

    stored = []
    with svc.db.engine.connect() as c:
        tables = [t for (t,) in c.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
                  if t == "turns" or t.startswith("insight_")]
        assert {"turns", "insight_daily", "insight_question_daily", "insight_gaps"} <= set(tables)
        for table in tables:
            stored += [str(row) for row in c.execute(text(f'SELECT * FROM "{table}"'))]
    logs = caplog.text + "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.log"))
    places = {"analytics tables": "\n".join(stored), "CSV export": exported, "report": report.read_text(),
              "summary": summary, "gap API": gaps, "questions API": questions, "logs": logs}
    assert "养狗要办狗证吗" in places["analytics tables"] and "****" in places["questions API"]
    for where, content in places.items():
        for secret in SECRETS:
            assert secret not in content, f"{secret} found in {where}"

    with svc.db.engine.connect() as c:
        rows = c.execute(text("SELECT channel, intent, handoff FROM turns WHERE author = 'bot' ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("wechat_official", "", 0), ("wechat_official", "", 0),
                                        ("wechat_official", "ask_service", 0), ("wechat_official", "request_human", 1)]
