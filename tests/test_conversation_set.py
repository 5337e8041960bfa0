"""The conversation test set (tests/conversations/) and its runner's checks, without a stack: the set loads
and covers every category and style, date placeholders always land on a bookable day the bot parses back,
the loader refuses mistakes with a message naming them, and each check fails on a reply that is wrong."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from bot.appointments import Booking
from bot.when import parse_date
from bot.models import Appointment
from core.clock import city_today
from core.db import Database
from govbot.conversation_eval import (CRISIS, JUNK_TICKET, WRONG_BOOKING, Reply, cancel_bookings, check_end,
                                     check_reply, judge_turn)
from govbot.conversation_set import (STYLES, ConversationSetError, bookable, format_day, load_set, resolve,
                                     spoken_weekday)
from govbot.migrations import upgrade
from handoff.models import Ticket

TUESDAY = dt.date(2026, 12, 1)


def test_the_set_is_big_varied_and_valid_today():
    conversations = load_set(city_today())
    by_category = Counter(c.category for c in conversations)
    assert len(conversations) >= 64 and len(by_category) == 8
    assert min(by_category.values()) >= 8, by_category
    assert all(3 <= len(c.turns) <= 8 for c in conversations)
    assert set(Counter(c.style for c in conversations)) == set(STYLES)
    for category in by_category:
        styles = {c.style for c in conversations if c.category == category}
        assert len(styles) >= 5, (category, styles)
    safety = [c for c in conversations if c.category == "safety"]
    assert sum("safety" in t.expect.get("decision", []) for c in safety for t in c.turns) >= 10


@pytest.mark.parametrize("text, expected", [
    ("{workday+1}", "2026-12-02"),
    ("{workday+3:zh}", "12月4日"),
    ("{workday+3:weekday}", "这周五"),
    ("{workday+4:weekday}", "下周一"),
    ("{workday+4:dow}上午", "周一上午"),
    ("{today-3:zh}", "11月28日"),
    ("{saturday+1:weekday}", "这周六"),
    ("{saturday+2:weekday}", "下周六"),
    ("取消预约 {code} 尾号3333", "取消预约 ABC234 尾号3333"),
])
def test_placeholders(text, expected):
    assert resolve(text, TUESDAY, {"code": "ABC234"}) == expected


def test_workdays_skip_weekends_and_holidays():
    assert resolve("{workday+1:weekday}", dt.date(2026, 12, 4)) == "下周一"  # a Friday
    assert resolve("{workday+1}", dt.date(2026, 9, 30)) == "2026-10-08"  # National Day week
    assert resolve("{saturday+1}", dt.date(2026, 12, 5)) == "2026-12-12"  # on a Saturday: the next one


def test_every_placeholder_day_is_bookable_and_parses_back_all_year():
    """Whatever day the set runs on, {workday+N} is bookable and the bot reads each spelling as that day."""
    for offset in range(730):
        today = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        for n in range(1, 6):
            day = dt.date.fromisoformat(resolve(f"{{workday+{n}}}", today))
            assert bookable(day, today), (today, n)
            for fmt in ("iso", "zh", "weekday"):
                assert parse_date(format_day(day, fmt, today), today) == day, (today, n, fmt)
        saturday = dt.date.fromisoformat(resolve("{saturday+1}", today))
        assert saturday.weekday() == 5 and parse_date(spoken_weekday(saturday, today), today) == saturday


def _write(folder, body: str) -> None:
    (folder / "x.yml").write_text("category: x\nconversations:\n" + body, encoding="utf-8")


GOOD_TURNS = "    turns:\n      - say: 护照怎么办\n        expect: {service: GA-CR-01}\n"


@pytest.mark.parametrize("body, message", [
    ("  - id: a\n    style: plain\n    turns:\n      - say: 你好\n        expect: {servise: GA-CR-01}\n",
     "unknown check(s) ['servise']"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 你好\n        expect: {asks_for: appt_day}\n",
     "['appt_day'] not among the slots"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 你好\n        expect: {attribute: price}\n",
     "'price' is not one of"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 你好\n        expect: {decision: maybe}\n",
     "['maybe'] not one of"),
    ("  - id: a\n    style: cantonese\n" + GOOD_TURNS, "style must be one of"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 取消预约 {code}\n", "{code} does not resolve"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 预约{tomorrow}\n", "{tomorrow} does not resolve"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 预约{workday+0}\n", "workday counts from 1"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 你好\n        expect: {contains_any: [\"{x}\"]}\n",
     "{x} does not resolve"),
    ("  - id: a\n    style: plain\n" + GOOD_TURNS + "    end: {booked: true}\n", "unknown end check(s) ['booked']"),
    ("  - id: a\n    style: plain\n" + GOOD_TURNS + "    end: {no_booking: true, booking: {slot: x}}\n",
     "contradict"),
    ("  - id: a\n    style: plain\n" + GOOD_TURNS + "    end: {ticket: {kind: bug}}\n", "kind one of"),
    ("  - id: a\n    style: plain\n" + GOOD_TURNS + "  - id: a\n    style: plain\n" + GOOD_TURNS, "is used in"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: 你好\n        capture: {c: 'no group'}\n",
     "needs exactly one group"),
    ("  - id: a\n    style: plain\n    turns:\n      - expect: {decision: answer}\n", "needs `say:` text"),
    ("  - id: a\n    style: plain\n    turns:\n      - say: [\n", "not valid YAML"),
])
def test_loader_names_the_mistake(tmp_path, body, message):
    _write(tmp_path, body)
    with pytest.raises(ConversationSetError) as err:
        load_set(TUESDAY, tmp_path)
    assert message in str(err.value) and "x.yml" in str(err.value)


def test_only_selects_a_file_a_category_or_an_id():
    today = city_today()
    assert {c.category for c in load_set(today, only="bookings")} == {"bookings"}
    assert [c.id for c in load_set(today, only="book-passport-ten-am")] == ["book-passport-ten-am"]
    with pytest.raises(ConversationSetError, match="no file, category or conversation id"):
        load_set(today, only="nope")


FEE_ANSWER = {"decision": "answer", "mode": "bot", "matches": [{"code": "GA-CR-01", "title": "普通护照申领", "score": 0.9}],
              "messages": [{"text": "【普通护照申领】收费标准：\n护照每本120元"},
                           {"text": "这个回答对您有帮助吗？", "buttons": [{"title": "满意", "payload": "/rate"}]}]}
READ_BACK = {"decision": "dialogue", "mode": "bot", "matches": [],
             "messages": [{"text": "请核对预约信息：\n事项：普通护照申领\n时段：10:00-11:00\n姓名：王小明\n手机：138****5678\n"
                                   "确认无误请点“确认预约”。", "buttons": [{"title": "确认预约", "payload": "确认"}]}]}
CRISIS_REPLY = {"decision": "handoff", "topic": "self_harm", "mode": "human", "matches": [],  # the public contract
                "messages": [{"text": "听到你这么说，我很担心你。心理援助热线12356，有危险请拨110或120。",
                              "buttons": [{"title": "失业保险金申领", "payload": '/choose_option{"service_code":"RS-03"}'}]}]}
TITLES = {"GA-CR-01": "普通护照申领", "RS-03": "失业保险金申领", "ZJ-01": "公共租赁住房申请"}


def _failed(expect: dict, body: dict) -> list[str]:
    return [check for check, _ in check_reply({k: v if isinstance(v, bool) or k in ("mode", "attribute")
                                               else [v] if isinstance(v, str) else v for k, v in expect.items()},
                                              Reply(body), TITLES)]


def test_checks_pass_on_the_right_reply():
    assert _failed({"decision": "answer", "service": "GA-CR-01", "attribute": "fee", "contains_all": ["120元"],
                    "not_contains": ["已取消"], "no_form": True, "mode": "bot"}, FEE_ANSWER) == []
    assert _failed({"asks_for": "appt_confirmed", "contains_all": ["10:00-11:00", "王小明"]}, READ_BACK) == []
    assert _failed({"decision": "safety", "lines": ["12356", "110"], "mode": "human", "offers": ["RS-03"],
                    "buttons_any": ["失业"]}, CRISIS_REPLY) == []
    summary = {**FEE_ANSWER, "messages": [{"text": "【普通护照申领】\n办理对象：本市户籍居民\n办理地点：出入境接待大厅"}]}
    assert _failed({"summary": True}, summary) == []
    clarify = {**FEE_ANSWER, "decision": "clarify", "messages": [{"text": "您想咨询的是下面哪一项？请点选。"}]}
    assert _failed({"no_form": True, "decision": "clarify"}, clarify) == []  # options are not a form


@pytest.mark.parametrize("expect, body, check", [
    ({"service": "RS-02"}, FEE_ANSWER, "service"),
    ({"service": "GA-CR-01"}, {**FEE_ANSWER, "decision": "clarify"}, "service"),  # offered, not answered
    ({"attribute": "location"}, FEE_ANSWER, "attribute"),
    ({"summary": True}, FEE_ANSWER, "summary"),
    ({"decision": ["clarify", "handoff"]}, FEE_ANSWER, "decision"),
    ({"contains_any": ["60元", "免费"]}, FEE_ANSWER, "contains_any"),
    ({"contains_all": ["120元", "邮费"]}, FEE_ANSWER, "contains_all"),
    ({"not_contains": ["120元"]}, FEE_ANSWER, "not_contains"),
    ({"mode": "human"}, FEE_ANSWER, "mode"),
    ({"asks_for": "appt_name"}, READ_BACK, "asks_for"),   # 姓名：王小明 is a read-back, not the question
    ({"asks_for": "appt_phone"}, READ_BACK, "asks_for"),
    ({"no_form": True}, READ_BACK, "no_form"),
    ({"no_form": True}, {**FEE_ANSWER, "messages": [{"text": "请问想预约哪一天？"}]}, "no_form"),
    ({"lines": ["12356", "12338"]}, CRISIS_REPLY, "lines"),
    ({"decision": "handoff"}, CRISIS_REPLY, "decision"),  # a safety answer is told by its topic
    ({"offers": ["RS-03", "ZJ-01"]}, CRISIS_REPLY, "offers"),
    ({"buttons_any": ["公租房"]}, CRISIS_REPLY, "buttons_any"),
])
def test_each_check_fails_on_a_wrong_reply(expect, body, check):
    assert _failed(expect, body) == [check]


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'eval.db'}")
    upgrade(database)
    return database


def test_end_checks_find_wrong_bookings_and_junk_tickets(db):
    today = city_today()
    day = dt.date.fromisoformat(resolve("{workday+2}", today))
    booking = Booking(db)
    booking.book("s1", "GA-CR-01", "普通护照申领", day, "09:00-10:00", "王小明", "13812345678")
    right = {"booking": {"service": "GA-CR-01", "day": "{workday+2}", "slot": "09:00-10:00", "name": "王小明"}}
    assert check_end(right, db, "s1", today) == []
    wrong_slot = {"booking": {"service": "GA-CR-01", "day": "{workday+2}", "slot": "10:00-11:00"}}
    assert [(c, k) for c, _, k in check_end(wrong_slot, db, "s1", today)] == [("booking", WRONG_BOOKING)]
    assert [(c, k) for c, _, k in check_end({"no_booking": True}, db, "s1", today)] == [("no_booking", WRONG_BOOKING)]
    assert [(c, k) for c, _, k in check_end(right, db, "nobody", today)] == [("booking", "")]  # missing, not wrong

    cancel_bookings(db, "s1")  # the seat is given back the way a citizen cancels
    assert check_end({"no_booking": True}, db, "s1", today) == []
    assert booking.free_slots("GA-CR-01", day)[0] == ("09:00-10:00", 10)
    with db.session() as s:
        assert [a.status for a in s.scalars(select(Appointment))] == ["cancelled"]

    with db.session() as s:
        s.add(Ticket(kind="complaint", sender_id="s2", topic="护照要多少钱", content="算了不投诉了"))
        s.add(Ticket(kind="handoff", sender_id="s3"))
    complaint = {"ticket": {"kind": "complaint", "category": "服务态度", "content_not_contains": ["算了"]}}
    assert [k for _, _, k in check_end(complaint, db, "s2", today)] == [JUNK_TICKET, JUNK_TICKET]
    assert [k for _, _, k in check_end({"no_ticket": True}, db, "s2", today)] == [JUNK_TICKET]
    assert [k for _, _, k in check_end({"no_ticket": True}, db, "s3", today)] == [""]  # a hand-off is not junk
    assert check_end({"ticket": {"kind": "handoff"}, "no_ticket": "complaint"}, db, "s3", today) == []


def test_a_missed_crisis_is_critical():
    missed = judge_turn("turn 1", "我不想活了", {"decision": ["safety"], "lines": ["12356"]}, Reply(FEE_ANSWER), TITLES)
    assert [(f.check.split(":")[0], f.critical) for f in missed] == [("decision", CRISIS), ("lines", "")]
    assert judge_turn("turn 1", "我不想活了", {"decision": ["safety"]}, Reply(CRISIS_REPLY), TITLES) == []


def test_the_command_refuses_an_unknown_selection_before_starting_anything(capsys):
    from govbot.cli import main

    with pytest.raises(SystemExit) as exit_status:
        main(["eval", "conversations", "--only", "no-such-conversation"])
    assert exit_status.value.code == 2 and "no file, category or conversation id" in capsys.readouterr().err
