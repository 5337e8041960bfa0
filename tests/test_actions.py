"""Custom actions over the real action-server webhook protocol (what Rasa POSTs), without a Rasa server."""
from __future__ import annotations

import datetime as dt

from core.clock import city_today


def webhook(client) -> str:
    """The webhook with the token Rasa sends (endpoints.yml: ?token=${GOVBOT_ACTION_TOKEN})."""
    return f"/rasa/webhook?token={client.app.state.services.settings.action_token}"


def call(client, action: str, text: str = "", intent: str = "inform", slots: dict | None = None,
         entities: list | None = None, set_now: dict | None = None, sender: str = "a1",
         first_turn: bool = False) -> dict:
    """One action call as Rasa makes it. A form's validation (validate_<form>) runs inside its form: at the
    form's first turn (`first_turn`, the loop set after the citizen's message), else with the loop open and
    the slot the citizen just answered (the first of `set_now`) as the requested one."""
    events = [{"event": "user", "text": text}]
    loop = {"name": action.removeprefix("validate_")} if action.startswith("validate_") else {}
    if loop and first_turn:
        events.append({"event": "active_loop", "name": loop["name"]})
    elif loop and set_now:
        slots = {"requested_slot": next(iter(set_now)), **(slots or {})}
    events += [{"event": "slot", "name": k, "value": v} for k, v in (set_now or {}).items()]
    payload = {"next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
               "tracker": {"sender_id": sender, "slots": {**(slots or {}), **(set_now or {})}, "events": events,
                           "active_loop": loop, "latest_message": {"text": text, "intent": {"name": intent},
                                                                   "entities": entities or []}}}
    r = client.post(webhook(client), json=payload)
    assert r.status_code == 200, r.text
    return r.json()


def slot_events(result: dict) -> dict:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


def meta(result: dict) -> dict:
    return next(m["custom"]["govbot"] for m in result["responses"] if "custom" in m)


def test_unknown_action_gets_rasas_404(app_client):
    r = app_client.post(webhook(app_client), json={"next_action": "action_nope", "tracker": {}, "sender_id": "x"})
    assert r.status_code == 404 and r.json()["detail"]["action_name"] == "action_nope"


def test_answer_sets_context_and_follow_up_uses_it(app_client):
    first = call(app_client, "action_answer", "护照怎么办", "ask_service")
    assert meta(first)["decision"] == "answer" and slot_events(first)["current_service"] == "GA-CR-01"
    follow = call(app_client, "action_answer", "那要多少钱", "ask_attribute",
                  slots={"current_service": "GA-CR-01"},
                  entities=[{"entity": "attribute", "value": "要多少钱"}])  # raw span from DIET is normalised
    assert "收费标准" in follow["responses"][0]["text"] and "120元" in follow["responses"][0]["text"]


def test_clarify_offers_buttons_and_an_option_can_be_chosen(app_client):
    vague = call(app_client, "action_answer", "证件丢了", "ask_service")
    assert meta(vague)["decision"] == "clarify"
    offered = slot_events(vague)["offered_services"]
    assert 2 <= len(offered) <= 3
    chosen = call(app_client, "action_answer", "第二个", "choose_option", slots={"offered_services": offered},
                  entities=[{"entity": "option_index", "value": "2"}])
    assert slot_events(chosen)["current_service"] == offered[1]


def test_unknown_question_twice_hands_off_to_a_human(app_client):
    once = call(app_client, "action_fallback", "asdfgh qwerty", "nlu_fallback")
    assert slot_events(once)["failed_turns"] == 1 and meta(once)["decision"] == "handoff"
    assert app_client.app.state.services.conversations.mode("a1") == "bot"
    twice = call(app_client, "action_fallback", "zxcv", "nlu_fallback", slots={"failed_turns": 1})
    assert meta(twice)["mode"] == "human" and "工单号" in twice["responses"][0]["text"]
    assert app_client.app.state.services.conversations.mode("a1") == "human"
    assert any(b["payload"] == "结束人工" for b in twice["responses"][0].get("buttons", []))  # never stuck


def test_appointment_validation_rejects_then_accepts(app_client):
    today = city_today()
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    bad = call(app_client, "validate_appointment_form", saturday.isoformat(), set_now={"appt_date": saturday.isoformat()},
               slots={"appt_service": "GA-CR-01"})
    assert slot_events(bad)["appt_date"] is None and "周末" in bad["responses"][0]["text"]
    wednesday = saturday + dt.timedelta(days=4)
    good = call(app_client, "validate_appointment_form", "下周三", set_now={"appt_date": wednesday.isoformat()},
                slots={"appt_service": "GA-CR-01"})
    assert slot_events(good)["appt_date"] == wednesday.isoformat()
    phone = call(app_client, "validate_appointment_form", "138 1234 5678", set_now={"appt_phone": "138 1234 5678"})
    assert slot_events(phone)["appt_phone"] == "13812345678"


def test_rating_is_stored_on_the_last_answer(app_client):
    services = app_client.app.state.services
    services.conversations.log("r1", "bot", "答案", decision="answer")
    call(app_client, "action_rate_answer", "不满意", "rate_answer", sender="r1",
         entities=[{"entity": "rating", "value": "unsatisfied"}])
    from insight.models import Turn

    with services.db.session() as s:
        assert s.query(Turn).filter_by(sender_id="r1").one().rating == "unsatisfied"
