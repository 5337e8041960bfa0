"""The conversation test set (tests/conversations/*.yml): scripted multi-turn conversations with checks.

One file per category; each conversation has an id, a style (how the citizen talks), 3–8 turns of
`say:` + `expect:` checks, and `end:` checks run on the database after the last turn. The loader refuses a
file with a clear message (file, conversation, turn) for an unknown key or check, a slot or attribute the
bot does not have, or a placeholder that does not resolve, so a typo never silently passes.

Dates are placeholders resolved against the city's today, so the set is valid on any day:
`{workday+N}` is the N-th bookable working day after today (never a weekend or holiday, within the booking
window), `{today-N}` / `{today+N}` a calendar day, `{saturday+N}` the N-th coming Saturday; each with a
format: `:iso` (default, 2026-12-04), `:zh` (12月4日), `:weekday` (这周四 / 下周四 / 下下周四, the date
written as 12月4日 when it is further away) or `:dow` (周四). `capture: {name: regex}` on a turn keeps the
regex's group from the bot's reply (e.g. a booking's confirmation code) for a later `{name}`."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.answers import ATTRIBUTE_NAMES
from bot.appointments import date_problem
from core.settings import ROOT

SET_DIR = ROOT / "tests" / "conversations"
STYLES = ("plain", "colloquial", "elderly", "dialect", "typo", "traditional")
DECISIONS = ("answer", "clarify", "handoff", "safety", "dialogue")

# The form's question for each slot, as the bot words it (bot/domain.yml utter_ask_*, the ask actions):
# specific enough that a read-back ("姓名：张三") is not taken for the question itself.
SLOT_PROMPTS = {
    "application_no": r"(输入|提供|告诉我).{0,8}办件编号|办件编号是",
    "phone_tail": r"后4位|后四位|尾号",
    "appt_service": r"预约.{0,6}(什么|哪个|哪一)个?(事项|项|业务)",
    "appt_date": r"哪一天|哪天|(选择|换|重新选).{0,2}(日期|一天)|什么日期",
    "appt_slot": r"时段.{0,12}(选择|选一个)|(选择|选一个|哪个).{0,4}时段|几点",
    "appt_name": r"(告诉我|输入|提供|请问|留下?).{0,8}(姓名|名字)",
    "appt_phone": r"(留|输入|提供|告诉我).{0,8}手机号",
    "appt_confirmed": r"确认预约|请确认|是否确认|确认无误|确认改约|确认取消",
    "confirmation_code": r"(提供|输入|告诉我).{0,6}确认码",
    "complaint_category": r"哪方面|哪一类|什么类别",
    "complaint_content": r"描述|具体说说|经过",
    "complaint_contact": r"回访|不留",
}

TURN_CHECKS = {"decision", "mode", "service", "attribute", "contains_any", "contains_all", "not_contains",
               "asks_for", "no_form", "summary", "lines", "offers", "buttons_any"}
END_CHECKS = {"booking", "no_booking", "ticket", "no_ticket"}
BOOKING_FIELDS = {"service", "day", "slot", "name", "phone", "status"}
TICKET_FIELDS = {"kind", "category", "content_contains", "content_not_contains"}
TICKET_KINDS = ("complaint", "suggestion", "handoff")

_DATE = re.compile(r"\{(today|workday|saturday)([+-]\d+)?(?::(iso|zh|weekday|dow))?\}")
_VARIABLE = re.compile(r"\{(\w+)\}")
_DOW = "一二三四五六日"


class ConversationSetError(ValueError):
    """The set cannot be used as written; the message says where and why."""


@dataclass
class Turn:
    say: str
    expect: dict[str, Any] = field(default_factory=dict)
    capture: dict[str, str] = field(default_factory=dict)


@dataclass
class Conversation:
    id: str
    category: str
    style: str
    about: str
    turns: list[Turn]
    end: dict[str, Any] = field(default_factory=dict)
    source: str = ""


# ---- dates ---------------------------------------------------------------------------------------------
def bookable(day: dt.date, today: dt.date) -> bool:
    return date_problem(day, today) is None


def _base_day(base: str, offset: int, today: dt.date) -> dt.date:
    if base == "today":
        return today + dt.timedelta(days=offset)
    if offset < 1:
        raise ConversationSetError(f"{{{base}{offset:+d}}}: {base} counts from 1 (the next one)")
    if base == "workday":
        day, found = today, 0
        while found < offset:
            day += dt.timedelta(days=1)
            found += bookable(day, today)
        if not bookable(day, today):
            raise ConversationSetError(f"{{workday+{offset}}} falls outside the booking window")
        return day
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    return saturday + dt.timedelta(weeks=offset - 1)


def spoken_weekday(day: dt.date, today: dt.date) -> str:
    """这周四 / 下周四 / 下下周四 by calendar week (Monday first), as bookings parse them; further: 12月4日."""
    weeks = (day - (today - dt.timedelta(days=today.weekday()))).days // 7
    prefix = {0: "这", 1: "下", 2: "下下"}.get(weeks)
    return f"{prefix}周{_DOW[day.weekday()]}" if prefix else f"{day.month}月{day.day}日"


def format_day(day: dt.date, fmt: str, today: dt.date) -> str:
    if fmt == "zh":
        return f"{day.month}月{day.day}日"
    if fmt == "weekday":
        return spoken_weekday(day, today)
    if fmt == "dow":
        return f"周{_DOW[day.weekday()]}"
    return day.isoformat()


def resolve(text: str, today: dt.date, variables: dict[str, str] | None = None) -> str:
    """Date placeholders, then captured variables; a placeholder left over is an error."""
    def date(m: re.Match) -> str:
        return format_day(_base_day(m.group(1), int(m.group(2) or 0), today), m.group(3) or "iso", today)

    out = _DATE.sub(date, text)
    known = variables or {}

    def variable(m: re.Match) -> str:
        if m.group(1) not in known:
            raise ConversationSetError(f"placeholder {m.group(0)} does not resolve (no date, nothing captured)")
        return known[m.group(1)]

    return _VARIABLE.sub(variable, out)


# ---- loading and validation ----------------------------------------------------------------------------
def _strings(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, (str, int)) for v in items):
        raise ConversationSetError(f"{where}: expected a string or a list of strings")
    return [str(v) for v in items]


def _check_turn(expect: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = set(expect) - TURN_CHECKS
    if unknown:
        raise ConversationSetError(f"{where}: unknown check(s) {sorted(unknown)}; known: {sorted(TURN_CHECKS)}")
    out = dict(expect)
    for key in ("decision", "service", "asks_for", "contains_any", "contains_all", "not_contains", "lines",
                "offers", "buttons_any"):
        if key in out:
            out[key] = _strings(out[key], f"{where}.{key}")
    if bad := set(out.get("decision", [])) - set(DECISIONS):
        raise ConversationSetError(f"{where}.decision: {sorted(bad)} not one of {DECISIONS}")
    if out.get("mode", "bot") not in ("bot", "human"):
        raise ConversationSetError(f"{where}.mode: bot or human")
    if "attribute" in out and out["attribute"] not in ATTRIBUTE_NAMES:
        raise ConversationSetError(f"{where}.attribute: {out['attribute']!r} is not one of {sorted(ATTRIBUTE_NAMES)}")
    if bad := set(out.get("asks_for", [])) - set(SLOT_PROMPTS):
        raise ConversationSetError(f"{where}.asks_for: {sorted(bad)} not among the slots {sorted(SLOT_PROMPTS)}")
    for flag in ("no_form", "summary"):
        if flag in out and out[flag] is not True:
            raise ConversationSetError(f"{where}.{flag}: only `true`")
    return out


def _check_end(end: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = set(end) - END_CHECKS
    if unknown:
        raise ConversationSetError(f"{where}: unknown end check(s) {sorted(unknown)}; known: {sorted(END_CHECKS)}")
    if "booking" in end:
        booking = end["booking"]
        if not isinstance(booking, dict) or set(booking) - BOOKING_FIELDS:
            raise ConversationSetError(f"{where}.booking: a mapping of {sorted(BOOKING_FIELDS)}")
    if "ticket" in end:
        ticket = end["ticket"]
        if not isinstance(ticket, dict) or set(ticket) - TICKET_FIELDS or ticket.get("kind") not in TICKET_KINDS:
            raise ConversationSetError(f"{where}.ticket: a mapping of {sorted(TICKET_FIELDS)} with kind one of "
                                       f"{TICKET_KINDS}")
    if "no_booking" in end and end["no_booking"] is not True:
        raise ConversationSetError(f"{where}.no_booking: only `true`")
    if "no_ticket" in end and end["no_ticket"] is not True and end["no_ticket"] not in TICKET_KINDS:
        raise ConversationSetError(f"{where}.no_ticket: `true` (no ticket at all) or one of {TICKET_KINDS}")
    if "booking" in end and "no_booking" in end:
        raise ConversationSetError(f"{where}: `booking` and `no_booking` contradict each other")
    if "ticket" in end and end.get("no_ticket") in (True, end["ticket"]["kind"]):
        raise ConversationSetError(f"{where}: `ticket` and `no_ticket` contradict each other")
    return end


def _texts_of(conv: Conversation) -> list[tuple[str, str]]:
    texts = [(f"turn {i}.say", t.say) for i, t in enumerate(conv.turns, 1)]
    for i, t in enumerate(conv.turns, 1):
        texts += [(f"turn {i}.expect.{k}", s) for k, v in t.expect.items() if isinstance(v, list) for s in v]
    for key in ("booking", "ticket"):
        texts += [(f"end.{key}.{k}", str(v)) for k, v in conv.end.get(key, {}).items() if isinstance(v, str)]
    return texts


def _check_placeholders(conv: Conversation, where: str, today: dt.date) -> None:
    """Every placeholder resolves: dates now, variables once a turn before has captured them."""
    captured: set[str] = set()
    for i, turn in enumerate(conv.turns, 1):
        try:
            resolve(turn.say, today, {name: "X" for name in captured})
        except ConversationSetError as exc:
            raise ConversationSetError(f"{where} turn {i}: {exc}") from None
        captured |= set(turn.capture)
    for what, text in _texts_of(conv):
        try:
            resolve(text, today, {name: "X" for name in captured})
        except ConversationSetError as exc:
            raise ConversationSetError(f"{where} {what}: {exc}") from None


def _conversation(raw: Any, category: str, source: str, today: dt.date) -> Conversation:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ConversationSetError(f"{source}: every conversation needs an `id`")
    where = f"{source} [{raw['id']}]"
    unknown = set(raw) - {"id", "style", "about", "turns", "end"}
    if unknown:
        raise ConversationSetError(f"{where}: unknown key(s) {sorted(unknown)}")
    if raw.get("style") not in STYLES:
        raise ConversationSetError(f"{where}: style must be one of {STYLES}, not {raw.get('style')!r}")
    if not isinstance(raw.get("turns"), list) or not raw["turns"]:
        raise ConversationSetError(f"{where}: `turns` must be a non-empty list")
    turns = []
    for i, t in enumerate(raw["turns"], 1):
        if not isinstance(t, dict) or not isinstance(t.get("say"), str) or not t["say"].strip():
            raise ConversationSetError(f"{where} turn {i}: needs `say:` text")
        if set(t) - {"say", "expect", "capture"}:
            raise ConversationSetError(f"{where} turn {i}: unknown key(s) {sorted(set(t) - {'say', 'expect', 'capture'})}")
        capture = t.get("capture") or {}
        for name, pattern in capture.items():
            try:
                if re.compile(pattern).groups != 1:
                    raise ConversationSetError(f"{where} turn {i}: capture {name} needs exactly one group")
            except re.error as exc:
                raise ConversationSetError(f"{where} turn {i}: capture {name}: {exc}") from None
        turns.append(Turn(t["say"], _check_turn(t.get("expect") or {}, f"{where} turn {i}"), capture))
    conv = Conversation(raw["id"], category, raw["style"], str(raw.get("about", "")), turns,
                        _check_end(raw.get("end") or {}, f"{where} end"), source)
    _check_placeholders(conv, where, today)
    return conv


def load_file(path: Path, today: dt.date) -> list[Conversation]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConversationSetError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"category", "conversations"}:
        raise ConversationSetError(f"{path.name}: expected exactly the keys `category` and `conversations`")
    return [_conversation(raw, str(doc["category"]), path.name, today) for raw in doc["conversations"] or []]


def load_set(today: dt.date, folder: Path = SET_DIR, only: str | None = None) -> list[Conversation]:
    """Every conversation of the folder's files (or those of one file / one id with `only`); ids unique."""
    conversations = [c for path in sorted(folder.glob("*.yml")) for c in load_file(path, today)]
    seen: dict[str, str] = {}
    for c in conversations:
        if c.id in seen:
            raise ConversationSetError(f"id {c.id!r} is used in {seen[c.id]} and {c.source}")
        seen[c.id] = c.source
    if only:
        conversations = [c for c in conversations if only in (c.id, c.source, Path(c.source).stem, c.category)]
        if not conversations:
            raise ConversationSetError(f"--only {only!r}: no file, category or conversation id of that name")
    return conversations

