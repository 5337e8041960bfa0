"""The action webhook refuses strangers and malformed payloads; every action re-checks what it acts on.

Each test replays one reproduction from the issue through the real webhook (token, pydantic shape, actions,
SQLite), and checks that it fails safely and changes nothing. One app serves the module (building the
index is the slow part), so each test keeps to its own citizens, slots and application numbers."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import func, select

from bot.actions.protocol import Slots
from bot.appointments import date_problem
from bot.models import Appointment, SlotSeats
from core.clock import city_today
from core.db import Database
from core.settings import ROOT
from handoff.models import Conversation, Ticket
from bot.tail_check import MAX_WRONG_TAILS, TailCheck
from bot.when import spoken
from tests.conftest import make_settings
from tests.test_actions import call, meta, slot_events, webhook


@pytest.fixture(scope="module")
def app_client(tmp_path_factory, encoder):
    from fastapi.testclient import TestClient

    from govbot.app import create_app
    from govbot.services import Services

    services = Services(make_settings(tmp_path_factory.mktemp("webhook")))
    services.__dict__["encoder"] = encoder  # cached_property slot: reuse the session's model
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def _workday(after: int = 1) -> dt.date:
    """The `after`-th bookable working day from today."""
    today, day, found = city_today(), city_today(), 0
    while found < after:
        day += dt.timedelta(days=1)
        found += date_problem(day, today) is None
    return day


def _text(result: dict) -> str:
    return "\n".join(m.get("text", "") for m in result["responses"])


def _payload(action: str, sender: str = "w1", **tracker) -> dict:
    return {"next_action": action, "sender_id": sender, "tracker": {"sender_id": sender, **tracker}}


def _tickets(services, sender: str) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(Ticket).where(Ticket.sender_id == sender))


def _taken(services, day: dt.date, slot: str) -> int:
    with services.db.session() as s:
        seats = s.get(SlotSeats, ("GA-CR-01", day, slot))
        return seats.taken if seats else 0


def _book(client, sender: str, slot: str, day: dt.date | None = None) -> str:
    done = call(client, "action_book_appointment", sender=sender, slots={
        "appt_service": "GA-CR-01", "appt_date": (day or _workday()).isoformat(), "appt_slot": slot,
        "appt_name": "王小明", "appt_phone": "13812345678", "appt_confirmed": "yes"})
    assert "预约成功" in _text(done), _text(done)
    with client.app.state.services.db.session() as s:
        return s.scalars(select(Appointment.code).where(Appointment.sender_id == sender)
                         .order_by(Appointment.created_at.desc())).first()


# ---- only Rasa may call -----------------------------------------------------------------------------
def test_a_strangers_call_is_refused_and_changes_nothing(app_client):
    services = app_client.app.state.services
    handoff = _payload("action_handoff", "victim", latest_message={"text": "转人工", "intent": {"name": "request_human"}})
    assert app_client.post("/rasa/webhook", json=handoff).status_code == 401
    assert app_client.post("/rasa/webhook?token=guess", json=handoff).status_code == 403
    wrong_length = services.settings.action_token + "x"
    r = app_client.post(f"/rasa/webhook?token={wrong_length}", json=handoff)
    assert r.status_code == 403 and r.json()["detail"] == "访问令牌无效"
    assert app_client.post("/rasa/webhook?token=", content=b"not json").status_code == 401
    assert services.conversations.mode("victim") == "bot" and _tickets(services, "victim") == 0
    # the same call with Rasa's token does run (so the refusals above were the token's doing)
    assert app_client.post(webhook(app_client), json=handoff).status_code == 200
    assert services.conversations.mode("victim") == "human"


@pytest.mark.parametrize("body, field", [
    ({"next_action": "action_answer", "sender_id": "w1", "tracker": "x"}, "tracker"),
    ({"next_action": "action_answer", "tracker": {}}, "sender_id"),
    (_payload("action_answer", slots={"offered_services": "GA-CR-01"}), "tracker.slots.offered_services"),
    (_payload("action_answer", slots={"complaint_kind": "spam"}), "tracker.slots.complaint_kind"),
    (_payload("action_answer", latest_message={"entities": [{"value": "x"}]}),
     "tracker.latest_message.entities.0.entity"),
    (_payload("action_submit_complaint", slots={"complaint_content": "长" * 200_000}),
     "tracker.slots.complaint_content"),
    ({**_payload("action_handoff", "attacker"), "sender_id": "victim"}, "tracker"),
])
def test_malformed_payloads_get_a_4xx_naming_the_field(app_client, body, field):
    r = app_client.post(webhook(app_client), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field and r.json()["detail"].startswith("请求有误")


def test_invalid_json_is_a_422_and_missing_slots_are_simply_empty(app_client):
    r = app_client.post(webhook(app_client), content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = app_client.post(webhook(app_client), json=_payload("action_book_appointment"))  # no slots at all
    assert r.status_code == 200 and _text(r.json()) == ""  # as after a form the citizen left: nothing to say


def test_the_payload_model_knows_every_slot_of_the_domain():
    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["slots"]) == set(Slots.model_fields)


# ---- progress: only with the right phone tail ----------------------------------------------------------
def test_progress_result_needs_the_right_tail(app_client):
    none = call(app_client, "action_progress_result", slots={"application_no": "SQ20261102001"})
    wrong = call(app_client, "action_progress_result", slots={"application_no": "SQ20261102001", "phone_tail": "1111"})
    right = call(app_client, "action_progress_result", slots={"application_no": "SQ20261102001", "phone_tail": "5678"})
    assert "审批通过" not in _text(none) + _text(wrong) and "不一致" in _text(wrong)
    assert "审批通过" in _text(right)


def test_five_wrong_tails_lock_the_number_for_fifteen_minutes_across_processes(app_client):
    number = {"application_no": "SQ20261105017"}
    for left in range(MAX_WRONG_TAILS - 1, 0, -1):
        wrong = call(app_client, "validate_progress_form", "0000", slots=number, set_now={"phone_tail": "0000"})
        assert f"还可尝试{left}次" in _text(wrong) and slot_events(wrong)["phone_tail"] is None
    locked = call(app_client, "validate_progress_form", "0000", slots=number, set_now={"phone_tail": "0000"})
    assert "已暂时锁定" in _text(locked) and slot_events(locked)["application_no"] is None
    right = call(app_client, "action_progress_result", slots={**number, "phone_tail": "1234"})
    assert "锁定" in _text(right) and "审核中" not in _text(right)
    again = call(app_client, "validate_progress_form", "SQ20261105017", set_now=number)
    assert "锁定" in _text(again) and slot_events(again)["application_no"] is None
    # another process (its own engine on the same database) sees the lock, and it ends after 15 minutes
    other = Database(app_client.app.state.services.settings.database_url)
    assert TailCheck(other).locked_until("application:SQ20261105017") is not None
    later = TailCheck(other, clock=lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15, seconds=1))
    assert later.check("application:SQ20261105017", "1234", "1234").ok


# ---- bookings: re-validated when booked ---------------------------------------------------------------
@pytest.mark.parametrize("day, slot, name, phone, why", [
    (city_today() + dt.timedelta(days=(5 - city_today().weekday()) % 7 or 7), "09:00-10:00", "王小明",
     "13812345678", "周末"),
    (city_today() - dt.timedelta(days=3), "09:00-10:00", "王小明", "13812345678", "过去"),
    (_workday(), "08:00-09:00", "王小明", "13812345678", "没有这个预约时段"),
    (_workday(), "12:00-13:00", "王小明", "13812345678", "没有这个预约时段"),
    (_workday(), "09:00-10:00", "<script>", "13812345678", "姓名"),
    (_workday(), "09:00-10:00", "王小明", "12345", "手机号"),
])
def test_booking_refuses_what_the_form_would_have_refused(app_client, day, slot, name, phone, why):
    result = call(app_client, "action_book_appointment", sender="refused", slots={
        "appt_service": "GA-CR-01", "appt_date": day.isoformat(), "appt_slot": slot, "appt_name": name,
        "appt_phone": phone, "appt_confirmed": "yes"})
    assert "预约成功" not in _text(result) and why in _text(result)
    with app_client.app.state.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Appointment).where(Appointment.sender_id == "refused")) == 0


def test_spellings_of_a_slot_are_one_canonical_slot(app_client):
    day = _workday(3)
    _book(app_client, "spelling-a", " 14:30-15:30 ", day)
    _book(app_client, "spelling-b", "14:30－15:30", day)
    services = app_client.app.state.services
    assert _taken(services, day, "14:30-15:30") == 2
    with services.db.session() as s:
        assert set(s.scalars(select(Appointment.slot).where(Appointment.sender_id.like("spelling-%")))) == {
            "14:30-15:30"}


# ---- cancel and reschedule: code + owner + phone tail ----------------------------------------------------
def test_cancel_needs_the_owner_and_the_phone_tail(app_client):
    code = _book(app_client, "owner", "09:00-10:00")
    services = app_client.app.state.services
    yes = {"appt_confirmed": "yes"}
    stranger = call(app_client, "action_cancel_appointment", sender="stranger",
                    slots={"confirmation_code": code, "phone_tail": "5678", **yes})
    no_tail = call(app_client, "action_cancel_appointment", sender="owner", slots={"confirmation_code": code, **yes})
    wrong = call(app_client, "action_cancel_appointment", sender="owner",
                 slots={"confirmation_code": code, "phone_tail": "1111", **yes})
    assert all("已取消" not in _text(r) for r in (stranger, no_tail, wrong)) and "不一致" in _text(wrong)
    assert services.booking.owned(code, "owner") is not None
    done = call(app_client, "action_cancel_appointment", sender="owner",
                slots={"confirmation_code": code, "phone_tail": "5678", **yes})
    assert f"已取消预约 {code}" in _text(done) and services.booking.owned(code, "owner") is None
    assert _taken(services, _workday(), "09:00-10:00") == 0


def test_cancel_form_asks_the_tail_and_hides_other_peoples_codes(app_client):
    code = _book(app_client, "owner", "11:00-12:00")
    other = call(app_client, "validate_cancel_form", code, sender="stranger", set_now={"confirmation_code": code})
    assert slot_events(other)["confirmation_code"] is None and "没有找到" in _text(other)
    mine = call(app_client, "validate_cancel_form", code, sender="owner", set_now={"confirmation_code": code})
    assert slot_events(mine) == {"confirmation_code": code, "phone_tail": None}  # the tail is asked next
    tail = call(app_client, "validate_cancel_form", "尾号5678", sender="owner", slots={"confirmation_code": code},
                set_now={"phone_tail": "尾号5678"})
    assert slot_events(tail)["phone_tail"] == "5678"


def test_reschedule_moves_the_seat_and_rechecks_everything(app_client):
    code = _book(app_client, "owner", "13:30-14:30")
    services = app_client.app.state.services
    new_day = _workday(2)
    saturday = city_today() + dt.timedelta(days=(5 - city_today().weekday()) % 7 or 7)

    def reschedule(sender: str, day: dt.date, slot: str) -> str:
        return _text(call(app_client, "action_reschedule_appointment", sender=sender, slots={
            "confirmation_code": code, "phone_tail": "5678", "appt_date": day.isoformat(), "appt_slot": slot,
            "appt_confirmed": "yes"}))

    refused = [reschedule("stranger", new_day, "10:00-11:00"), reschedule("owner", saturday, "10:00-11:00"),
               reschedule("owner", new_day, "07:00-08:00")]
    assert all("改约未成功" in text for text in refused)
    assert f"{spoken(new_day)} 10:00-11:00" in reschedule("owner", new_day, "10:00-11:00")
    assert (_taken(services, _workday(), "13:30-14:30"), _taken(services, new_day, "10:00-11:00")) == (0, 1)


# ---- hand-off and complaints ------------------------------------------------------------------------
def test_handoff_only_when_the_citizen_just_asked_for_a_human(app_client):
    services = app_client.app.state.services
    forced = call(app_client, "action_handoff", "护照怎么办", "ask_service", sender="someone")
    assert services.conversations.mode("someone") == "bot" and "转人工" in _text(forced)
    asked = call(app_client, "action_handoff", "转人工", "request_human", sender="someone")
    assert meta(asked)["mode"] == "human" and services.conversations.mode("someone") == "human"
    with services.db.session() as s:
        assert s.get(Conversation, "someone").mode == "human"


def test_complaint_is_rechecked_when_submitted(app_client):
    services = app_client.app.state.services
    too_long = call(app_client, "action_submit_complaint", slots={
        "complaint_kind": "complaint", "complaint_content": "长" * 3000, "complaint_contact": "none"})
    bad_phone = call(app_client, "action_submit_complaint", slots={
        "complaint_kind": "complaint", "complaint_content": "窗口排队两个小时", "complaint_contact": "110"})
    assert "没有登记" in _text(too_long) and "没有登记" in _text(bad_phone) and _tickets(services, "a1") == 0
    ok = call(app_client, "action_submit_complaint", slots={
        "complaint_kind": "complaint", "complaint_content": "窗口排队两个小时", "complaint_contact": "13912345678"})
    assert "工单号" in _text(ok) and _tickets(services, "a1") == 1


def test_an_action_that_raises_leaves_a_polite_reply_and_a_human_offer(app_client, monkeypatch):
    from bot.actions.protocol import ACTIONS
    from core import metrics

    def broken(tracker, svc):
        raise RuntimeError("the approval system timed out")

    monkeypatch.setitem(ACTIONS, "action_broken_for_test", broken)
    before = metrics.ACTION_ERRORS.labels("action_broken_for_test")._value.get()
    r = app_client.post(f"/rasa/webhook?token={app_client.app.state.services.settings.action_token}",
                        json={"next_action": "action_broken_for_test", "sender_id": "s1",
                              "tracker": {"sender_id": "s1", "latest_message": {"text": "查进度"}}})
    assert r.status_code == 200, r.text
    said = [m for m in r.json()["responses"] if "text" in m]
    assert "出了点问题" in said[0]["text"] and said[0]["buttons"][0]["payload"] == "/request_human"
    assert metrics.ACTION_ERRORS.labels("action_broken_for_test")._value.get() == before + 1
