"""Safety and sensitive topics: the policy as knowledge-base data (seeded once, edited over the API, audited,
validated), recognition on paraphrases (tests/data/safety_cases.yaml) against ordinary questions, the one
message path in bot and human mode, the NLU's action over the webhook, and — with the real stack — a crisis
message in the middle of a booking form."""
from __future__ import annotations

from unittest.mock import ANY

import httpx
import pytest
import yaml
from sqlalchemy import select

from core.auth import add_user
from core.settings import ROOT
from handoff.models import Ticket, TicketMessage
from insight.models import Turn
from knowledge_base.safety import SAFETY_LOG_CODE, SafetyPolicy, load_sample_policy
from knowledge_base.models import AuditEvent
from tests.conftest import auth, make_settings
from tests.test_actions import call, meta, webhook

CASES = yaml.safe_load((ROOT / "tests" / "data" / "safety_cases.yaml").read_text(encoding="utf-8"))
CRISIS = ("self_harm", "emergency")
FORM_ANSWERS = ("张三", "王小明", "13812345678", "尾号5678", "5678", "明天", "下周三上午10点", "10:30", "下午两点半",
                "SQ20261112008", "ＳＱ２０２６１１１２００８", "好的", "是的", "确认", "不留", "算了", "取消", "服务态度",
                "其他", "改成后天", "换个时间", "算了不投诉了", "算了不取消了，我再想想", "结束人工", "不用人工了", "转人工",
                "我要投诉", "返回机器人")


def ordinary_questions() -> list[str]:
    """Every in-scope question of the retrieval sets: what citizens ordinarily ask."""
    return [row["q"] for name in ("dev", "test")
            for row in yaml.safe_load((ROOT / "retrieval" / "eval_data" / f"{name}.yaml").read_text(encoding="utf-8"))
            if row.get("code")]


@pytest.fixture(scope="module")
def app(tmp_path_factory, encoder):
    from fastapi.testclient import TestClient

    from govbot.app import create_app
    from govbot.services import Services

    services = Services(make_settings(tmp_path_factory.mktemp("safety"), rasa_port=1))  # no Rasa: degraded answers
    services.__dict__["encoder"] = encoder
    for role in ("editor", "agent"):
        add_user(services.db, f"test-{role}", role, token=f"{role}-token")
    with TestClient(create_app(services.settings, services)) as client:
        services.safety.refresh()  # the start's warm-up done: the vectors judge from the first message
        yield client


def chat(app, sender: str, message: str) -> dict:
    r = app.post("/api/v1/chat", json={"sender_id": sender, "message": message, "channel": "web"})
    assert r.status_code == 200, r.text
    return r.json()


def texts(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def tickets(app, sender: str) -> list[Ticket]:
    with app.app.state.services.db.session() as s:
        return list(s.scalars(select(Ticket).where(Ticket.sender_id == sender)))


# ---- the policy as data ---------------------------------------------------------------------------------
def test_the_shipped_policy_is_seeded_once_and_a_citys_edits_are_kept(services):
    policy = services.safety_policy
    keys = [t.key for t in policy.topics()]
    assert keys[:2] == list(CRISIS) and {"domestic_violence", "corruption", "medical", "legal", "political"} <= set(keys)
    self_harm = next(t for t in policy.topics() if t.key == "self_harm")
    assert [line.number for line in self_harm.lines] == ["12356", "110", "120"] and self_harm.handoff
    assert {r.code for r in self_harm.related} == {"RS-03", "ZJ-01", "MZ-04"}
    edited = self_harm.model_copy(update={"lines": self_harm.lines[:1]})
    policy.put(edited, "editor-e")
    assert not policy.seed(load_sample_policy(), "sample-loader")  # a later start does not undo the edit
    assert [line.number for line in policy.get("self_harm")[0].lines] == ["12356"]


def test_an_instance_without_the_sample_guides_is_protected_too(tmp_path, encoder):
    from govbot.services import Services
    import dataclasses

    svc = Services(dataclasses.replace(make_settings(tmp_path), sample_kb=False))
    svc.__dict__["encoder"] = encoder
    assert svc.kb.count() == 0
    topics = svc.safety_policy.topics()
    assert len(topics) == len(load_sample_policy()) and all(not t.related for t in topics)  # no guides to offer
    assert svc.safety.check("我不想活了").topic.key == "self_harm"


def test_editors_read_and_change_topics_every_change_audited_and_live_at_once(app):
    listed = app.get("/api/v1/kb/safety-topics", headers=auth("editor"))
    assert listed.status_code == 200 and [t["key"] for t in listed.json()][:2] == list(CRISIS)
    assert listed.json()[0]["updated_by"] == "sample-loader"
    assert app.get("/api/v1/kb/safety-topics", headers=auth("agent")).status_code == 403
    assert app.get("/api/v1/kb/safety-topics").status_code == 401
    assert app.get("/api/v1/kb/safety-topics/nope", headers=auth("editor")).status_code == 404

    shipped = app.get("/api/v1/kb/safety-topics/self_harm", headers=auth("editor")).json()
    topic = {**shipped, "lines": [{"name": "本市心理危机干预热线", "number": "0571-85029595", "note": "24小时"}]}
    changed = app.put("/api/v1/kb/safety-topics/self_harm", json=topic, headers=auth("editor"))
    assert changed.status_code == 200 and changed.json()["updated_by"] == "test-editor"
    assert "0571-85029595" in texts(chat(app, "safety-live-1", "我真的不想活了"))  # the next message uses it
    assert app.put("/api/v1/kb/safety-topics/self_harm", json=shipped, headers=auth("editor")).status_code == 200

    new = {"key": "gas_smell", "title": "燃气异味", "priority": 95, "handoff": False, "keywords": ["有股怪味*燃气"],
           "response": "请立即开窗通风、不要开关电器，到室外拨打燃气抢修电话。",
           "lines": [{"name": "燃气抢修", "number": "96777"}], "related": [{"code": "GY-02", "when": ["燃气"]}]}
    assert app.put("/api/v1/kb/safety-topics/gas_smell", json=new, headers=auth("editor")).status_code == 200
    reply = chat(app, "safety-live-2", "家里有股怪味像是燃气漏了")
    assert (reply["decision"], reply["topic"]) == ("dialogue", "gas_smell") and "96777" in texts(reply)
    assert reply["messages"][-1]["buttons"][0]["title"] == "居民燃气开户与过户"

    audit = app.get("/api/v1/kb/audit", params={"code": SAFETY_LOG_CODE}, headers=auth("editor")).json()
    assert [(e["action"], e["actor"], e["detail"]) for e in audit[:4]] == [
        ("safety_add", "test-editor", "gas_smell 燃气异味"), ("safety_update", "test-editor", "self_harm: lines"),
        ("safety_update", "test-editor", "self_harm: lines"), ("safety_seed", "sample-loader", ANY)]
    switched_off = {**new, "enabled": False}
    assert app.put("/api/v1/kb/safety-topics/gas_smell", json=switched_off, headers=auth("editor")).status_code == 200
    assert chat(app, "safety-live-3", "家里有股怪味像是燃气漏了")["topic"] == "emergency"  # the shipped one


@pytest.mark.parametrize("change, field, words", [
    ({"key": "Self Harm"}, "key", "小写字母"),
    ({"response": ""}, "response", "不能为空"),
    ({"lines": [{"name": "热线", "number": "call-us"}]}, "lines.0.number", "电话号码"),
    ({"keywords": [], "examples": []}, "(document)", "至少要有一个关键词"),
    ({"related": [{"code": "rs03", "when": ["失业"]}]}, "related.0.code", "事项编码"),
    ({"priority": -1}, "priority", "不能小于"),
])
def test_an_invalid_topic_gets_a_422_naming_the_field(app, change, field, words):
    topic = app.get("/api/v1/kb/safety-topics/legal", headers=auth("editor")).json()
    body = {k: v for k, v in topic.items() if k not in ("updated_by", "updated_at")} | change
    r = app.put("/api/v1/kb/safety-topics/legal", json=body, headers=auth("editor"))
    assert r.status_code == 422, r.text
    if field == "key":  # the URL names one topic, the body another
        assert "不一致" in r.json()["detail"]
        return
    errors = r.json()["detail"]["errors"]
    assert errors[0]["field"] == field and words in errors[0]["reason"], errors


def test_a_topic_offering_a_service_the_knowledge_base_lacks_is_refused(app):
    topic = app.get("/api/v1/kb/safety-topics/legal", headers=auth("editor")).json()
    topic["related"] = [{"code": "XX-99", "when": ["官司"]}]
    r = app.put("/api/v1/kb/safety-topics/legal", json=topic, headers=auth("editor"))
    assert r.status_code == 422 and "XX-99" in r.json()["detail"]


# ---- recognition ------------------------------------------------------------------------------------
def test_recognition_on_paraphrases_against_ordinary_questions(services, capsys):
    services.safety.refresh()
    check = services.safety.check
    per_topic, missed = {}, []
    for topic, phrasings in CASES["crisis"].items():
        found = [(q, check(q)) for q in phrasings]
        per_topic[topic] = sum(v is not None and v.topic.key == topic for _, v in found) / len(found)
        missed += [(topic, q, v and v.topic.key) for q, v in found if v is None or v.topic.key != topic]
    ordinary = ordinary_questions() + CASES["tricky"]
    flagged = [(q, v.topic.key, v.evidence) for q in ordinary if (v := check(q)) is not None]
    form_answers = [(q, v.topic.key) for q in FORM_ANSWERS if (v := check(q)) is not None]  # steering the dialogue
    total = sum(len(p) for p in CASES["crisis"].values())
    with capsys.disabled():
        print(f"\nsafety recognition: {total} crisis/sensitive phrasings, recall per topic "
              + ", ".join(f"{k} {v:.0%}" for k, v in per_topic.items())
              + f"; {len(ordinary)} ordinary questions ({len(CASES['tricky'])} tricky), "
                f"{len(flagged)} flagged ({len(flagged) / len(ordinary):.1%}): {flagged}; missed: {missed}")
    assert len(CASES["crisis"]["self_harm"]) + len(CASES["crisis"]["emergency"]) >= 40 and total >= 60
    assert len(ordinary) >= 200
    assert all(per_topic[t] == 1.0 for t in CRISIS), missed  # a missed crisis message is never acceptable
    assert all(v >= 0.85 for v in per_topic.values()), per_topic
    assert len(flagged) <= 0.01 * len(ordinary), flagged
    assert not [f for f in flagged if f[1] in CRISIS], flagged  # 死亡证明, 丧葬补贴 … are never a crisis
    assert not form_answers, form_answers


def test_the_evaluation_phrasings_are_not_taught(services):
    """Neither the policy's example phrasings nor the NLU's sensitive_topic examples copy a phrasing of the
    evaluation set (after normalisation), so the figures above measure paraphrases. (A keyword may be a whole
    short message: "救命".)"""
    from bot.safety import _compact

    nlu = yaml.safe_load((ROOT / "training_data" / "nlu" / "safety.yml").read_text(encoding="utf-8"))["nlu"][0]
    taught = {_compact(line.strip()[2:]) for line in nlu["examples"].splitlines() if line.strip().startswith("- ")}
    taught |= {_compact(p) for t in load_sample_policy() for p in t.examples}
    asked = {_compact(q) for phrasings in CASES["crisis"].values() for q in phrasings}
    assert not asked & taught, asked & taught


def test_recognition_normalises_like_retrieval_and_names_the_services_the_message_mentions(services):
    check = services.safety.check  # keywords judge at once, before the vectors are built
    for spelling in ("我想自殺", "我不想\u200b活了", "我不想活了！！！", "ＷＯ不想活了", "活著真沒意思"):
        assert check(spelling).topic.key == "self_harm", spelling
    verdict = check("活着没意思，失业了房租也交不起")
    assert [code for code, _ in verdict.related] == ["RS-03", "ZJ-01"]
    assert [code for code, _ in check("不想活了，没钱吃不上饭").related] == ["MZ-04"]
    assert check("跳楼价甩卖") is None and check('/choose_option{"service_code":"RS-03"}') is None


# ---- the one message path ---------------------------------------------------------------------------
def test_a_crisis_message_gets_empathy_the_lines_and_a_human_at_once(app):
    reply = chat(app, "safety-1", "活着没意思，失业了房租也交不起")
    assert (reply["decision"], reply["topic"], reply["mode"]) == ("handoff", "self_harm", "human")
    first, waiting, services = reply["messages"][0]["text"], reply["messages"][1]["text"], reply["messages"][2]
    assert first.startswith("听到您这么说，我很担心您") and "12356" in first and "110" in first and "120" in first
    assert "工单号" in waiting
    assert [b["title"] for b in services["buttons"]] == ["失业保险金申领", "公共租赁住房申请"]
    [ticket] = tickets(app, "safety-1")
    assert (ticket.priority, ticket.reason, ticket.topic, ticket.category) == ("urgent", "sensitive", "自杀与轻生风险", "求助")
    with app.app.state.services.db.session() as s:
        logged = s.scalars(select(Turn).where(Turn.sender_id == "safety-1", Turn.author == "bot")).one()
    assert (logged.decision, logged.intent, logged.handoff) == ("safety", "safety:self_harm", True)
    # a service button is answered by the bot while the citizen waits for the agent
    answered = chat(app, "safety-1", services["buttons"][0]["payload"])
    assert answered["mode"] == "human" and answered["matches"][0]["code"] == "RS-03"
    assert app.app.state.services.conversations.mode("safety-1") == "human"


def test_corruption_goes_to_the_discipline_channel_not_the_complaint_form(app):
    reply = chat(app, "safety-2", "窗口的人说不送礼就不给办")
    assert (reply["decision"], reply["topic"], reply["mode"]) == ("dialogue", "corruption", "bot")
    assert "12388" in texts(reply) and "www.ccdi.gov.cn" in texts(reply)
    assert reply["messages"][0]["buttons"] == [{"title": "转人工服务", "payload": "/request_human"}]
    assert tickets(app, "safety-2") == []  # no complaint ticket


def test_in_human_mode_a_crisis_message_makes_the_ticket_urgent_and_tells_the_agent(app):
    services = app.app.state.services
    opened = services.conversations.hand_off("safety-3", "asked")
    assert opened.ticket.priority == "normal"
    reply = chat(app, "safety-3", "我想自杀")
    assert (reply["decision"], reply["topic"], reply["mode"]) == ("handoff", "self_harm", "human")
    assert "12356" in texts(reply) and len(tickets(app, "safety-3")) == 1
    with services.db.session() as s:
        ticket = s.get(Ticket, opened.ticket.id)
        said = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).all()
    assert ticket.priority == "urgent" and ticket.sla_due_at <= opened.ticket.sla_due_at.replace(tzinfo=None)
    assert [(m.author, m.text) for m in said][0] == ("citizen", "我想自杀")  # the agent reads it
    assert any(m.author == "note" and "自杀与轻生风险" in m.text for m in said)


def test_the_dashboard_counts_the_safety_answers(app):
    from insight.analytics import Period
    from insight.rollup import catch_up

    services = app.app.state.services
    chat(app, "safety-7", "我老公经常打我")
    catch_up(services.db, settle_seconds=0)
    with services.db.session() as s:
        logged = s.scalars(select(Turn.intent).where(Turn.decision == "safety")).all()
    assert services.insight.overview(Period.last_days(1))["decisions"]["safety"] == len(logged) >= 1
    assert "safety:domestic_violence" in logged


def test_ordinary_messages_still_go_to_the_bot(app):
    reply = chat(app, "safety-4", "死亡证明怎么开")
    assert "topic" not in reply and reply["mode"] == "bot" and tickets(app, "safety-4") == []


# ---- the NLU's defence in depth ------------------------------------------------------------------------
def test_action_safety_answers_by_the_same_policy_over_the_webhook(app):
    services = app.app.state.services
    crisis = call(app, "action_safety", "我想从楼上跳下去", "sensitive_topic", sender="safety-5")
    assert meta(crisis)["topic"] == "self_harm" and meta(crisis)["mode"] == "human"
    assert "12356" in crisis["responses"][0]["text"] and services.conversations.mode("safety-5") == "human"
    # below the policy's own bars, but the NLU says so too: two signals agree
    assert services.safety.check("最近压力好大睡不着") is None
    both = call(app, "action_safety", "最近压力好大睡不着", "sensitive_topic", sender="safety-6")
    assert meta(both)["decision"] == "safety" and meta(both)["topic"] == "medical"
    # the NLU slipped on an ordinary question: it is answered as one
    slip = call(app, "action_safety", "想用公积金贷款买房", "sensitive_topic", sender="safety-8")
    assert meta(slip)["decision"] != "safety" and meta(slip)["matches"][0]["code"] == "GJJ-04", meta(slip)
    assert app.post(webhook(app), json={"next_action": "action_safety", "sender_id": "x", "tracker": "x"}).status_code == 422


# ---- the real stack -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_crisis_message_in_the_middle_of_a_booking_form(shared_stack):
    sender = "safety-stack-1"
    started = shared_stack.chat(sender, "我想预约办护照")
    assert "topic" not in started
    reply = shared_stack.chat(sender, "我不想活了")
    assert (reply["decision"], reply["topic"], reply["mode"]) == ("handoff", "self_harm", "human"), reply
    assert "12356" in texts(reply) and "工单号" in texts(reply)
    settings = shared_stack.settings
    tracker = httpx.get(f"{settings.rasa_url}/conversations/{sender}/tracker",
                        params={"token": settings.rasa_token, "include_events": "NONE"}, timeout=30).json()
    assert not (tracker.get("active_loop") or {}).get("name"), tracker.get("active_loop")
    assert tracker["slots"].get("appt_service") is None and tracker["slots"].get("requested_slot") is None
    assert "已暂停" in texts(reply)
    back = shared_stack.chat(sender, "结束人工")
    assert back["mode"] == "bot"
    after = shared_stack.chat(sender, "护照要多少钱")  # answered as a question, not taken as a form's value
    assert after["decision"] == "answer" and after["matches"][0]["code"] == "GA-CR-01", after
