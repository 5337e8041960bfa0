"""`govbot eval conversations`: the conversation test set run against the real stack, as a citizen talks.

Each conversation gets a fresh sender id and its own HTTP client (its own chat cookie), sends its turns to
POST /api/v1/chat, checks every reply, then checks the database (bookings, tickets) and cancels the
bookings it made, so a re-run finds the same free seats. The measure is the share of conversations fully
right; a wrong booking, a junk ticket or a missed crisis message is a critical failure whatever the share.
Without --url the command trains (if needed) and starts its own stack on a scratch database and free ports,
and stops it afterwards."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from sqlalchemy import select

from bot.answers import ATTRIBUTE_NAMES
from bot.appointments import Booking, BookingRefused
from bot.models import Appointment
from core.clock import city_today
from core.db import Database
from core.settings import Settings
from govbot.conversation_set import SLOT_PROMPTS, Conversation, ConversationSetError, load_set, resolve
from handoff.models import Ticket
from knowledge_base.sample_data import load_sample_guides

BAR = 0.95
RETRIES_WHEN_LIMITED = 3
CRISIS, WRONG_BOOKING, JUNK_TICKET = "missed crisis", "wrong booking", "junk ticket"
# the guide's own summary (bot/answers.py summary_text): who and where first, right after the title
SUMMARY = re.compile(r"】\s*(?:办理对象|办理地点)[：:]")


@dataclass
class Failure:
    step: str          # "turn 3" or "end"
    said: str
    answered: str
    check: str
    critical: str = ""  # CRISIS, WRONG_BOOKING or JUNK_TICKET


@dataclass
class Outcome:
    id: str
    category: str
    style: str
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


# ---- one reply ------------------------------------------------------------------------------------------
@dataclass
class Reply:
    body: dict[str, Any]

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.body.get("messages", [])]

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.body.get("messages", []) for b in m.get("buttons") or []]

    @property
    def everything(self) -> str:
        """What the citizen sees: every message and every button title."""
        return "\n".join(self.texts + [b.get("title", "") for b in self.buttons]).lower()

    @property
    def last_text(self) -> str:
        return next((t for t in reversed(self.texts) if t.strip()), "")

    def shown(self, limit: int = 220) -> str:
        text = " ⏎ ".join(t.replace("\n", " ⏎ ") for t in self.texts if t)
        if self.buttons:
            text += " [" + " | ".join(b.get("title", "") for b in self.buttons) + "]"
        topic = f", topic {self.body['topic']}" if self.body.get("topic") else ""
        text = f"({self.body.get('decision')}, {self.body.get('mode')}{topic}) {text}"
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _titles() -> dict[str, str]:
    return {g.code: g.title for g in load_sample_guides()}


def check_reply(expect: dict[str, Any], reply: Reply, titles: dict[str, str]) -> list[tuple[str, str]]:
    """(check, what went wrong) for every expectation the reply does not meet."""
    wrong: list[tuple[str, str]] = []
    body, seen = reply.body, reply.everything
    # the public API answers a safety topic as a hand-off or dialogue turn and names the topic
    decision = "safety" if body.get("topic") else body.get("decision")
    if "decision" in expect and decision not in expect["decision"]:
        wrong.append(("decision", f"decision {decision!r}, expected {'/'.join(expect['decision'])}"))
    if "mode" in expect and body.get("mode") != expect["mode"]:
        wrong.append(("mode", f"mode {body.get('mode')!r}, expected {expect['mode']!r}"))
    if "service" in expect:
        codes = [m.get("code") for m in body.get("matches") or []]
        if body.get("decision") != "answer":
            wrong.append(("service", f"no item answered ({body.get('decision')}, offered {codes}), expected "
                                     f"{'/'.join(expect['service'])}"))
        elif (codes or [None])[0] not in expect["service"]:
            wrong.append(("service", f"answered {(codes or [None])[0]}, expected {'/'.join(expect['service'])}"))
    if "attribute" in expect:
        name = ATTRIBUTE_NAMES[expect["attribute"]]
        if not any(re.search(rf"】\s*{re.escape(name)}[：:]", t) for t in reply.texts):
            wrong.append(("attribute", f"no 【…】{name}： answer block"))
    if expect.get("summary") and not any(SUMMARY.search(t) for t in reply.texts):
        wrong.append(("summary", "not the guide's summary (办理对象 / 办理地点 …)"))
    if "contains_any" in expect and not any(s.lower() in seen for s in expect["contains_any"]):
        wrong.append(("contains_any", f"none of {expect['contains_any']}"))
    if "contains_all" in expect and (missing := [s for s in expect["contains_all"] if s.lower() not in seen]):
        wrong.append(("contains_all", f"missing {missing}"))
    if "not_contains" in expect and (present := [s for s in expect["not_contains"] if s.lower() in seen]):
        wrong.append(("not_contains", f"says {present}"))
    if "lines" in expect and (missing := [s for s in expect["lines"] if s not in seen]):
        wrong.append(("lines", f"hotline(s) {missing} not given"))
    if "asks_for" in expect and not any(re.search(SLOT_PROMPTS[s], reply.last_text) for s in expect["asks_for"]):
        wrong.append(("asks_for", f"the last message does not ask for {' or '.join(expect['asks_for'])}"))
    if expect.get("no_form") and (asked := [s for s, p in SLOT_PROMPTS.items() if re.search(p, reply.last_text)]):
        wrong.append(("no_form", f"a form asks for {asked}"))
    if "offers" in expect:
        payloads = " ".join(b.get("payload", "") for b in reply.buttons)
        missing = [c for c in expect["offers"] if c not in payloads and titles.get(c, c).lower() not in seen]
        if missing:
            wrong.append(("offers", f"does not offer {missing}"))
    if "buttons_any" in expect:
        names = [b.get("title", "") for b in reply.buttons]
        if not any(s in n for s in expect["buttons_any"] for n in names):
            wrong.append(("buttons_any", f"no button like {expect['buttons_any']} among {names}"))
    return wrong


def judge_turn(step: str, said: str, expect: dict[str, Any], reply: Reply, titles: dict[str, str]) -> list[Failure]:
    """The turn's failures; a turn that expects a safety reply and gets none is a missed crisis."""
    return [Failure(step, said, reply.shown(), f"{check}: {why}",
                    CRISIS if check == "decision" and "safety" in expect["decision"] else "")
            for check, why in check_reply(expect, reply, titles)]


# ---- the database after the conversation ----------------------------------------------------------------
def check_end(end: dict[str, Any], db: Database, sender: str, today: dt.date) -> list[tuple[str, str, str]]:
    """(check, what went wrong, critical kind or "") for the end checks."""
    with db.session() as s:
        appts = list(s.scalars(select(Appointment).where(Appointment.sender_id == sender)))
        tickets = list(s.scalars(select(Ticket).where(Ticket.sender_id == sender)))
    wrong: list[tuple[str, str, str]] = []
    booked = [a for a in appts if a.status == "booked"]
    shown = "; ".join(f"{a.service_code} {a.day} {a.slot} {a.name} {a.status}" for a in appts) or "none"
    if "booking" in end:
        want = {k: resolve(str(v), today) for k, v in end["booking"].items()}
        want.setdefault("status", "booked")

        def fits(a: Appointment) -> bool:
            have = {"service": a.service_code, "day": a.day.isoformat(), "slot": a.slot, "name": a.name,
                    "phone": a.phone, "status": a.status}
            return all(have[k] == v for k, v in want.items())

        if not any(fits(a) for a in appts):
            critical = WRONG_BOOKING if booked else ""
            wrong.append(("booking", f"expected {want}, found {shown}", critical))
        elif len(booked) > 1:
            wrong.append(("booking", f"booked {len(booked)} times: {shown}", WRONG_BOOKING))
    if end.get("no_booking") and booked:
        wrong.append(("no_booking", f"booked: {shown}", WRONG_BOOKING))
    if "ticket" in end:
        want = end["ticket"]
        of_kind = [t for t in tickets if t.kind == want["kind"]]
        junk = JUNK_TICKET if want["kind"] != "handoff" else ""
        if not of_kind:
            wrong.append(("ticket", f"no {want['kind']} ticket; tickets: {[t.kind for t in tickets] or 'none'}", ""))
        for t in of_kind:
            if "category" in want and t.topic != want["category"]:
                wrong.append(("ticket", f"category {t.topic!r}, expected {want['category']!r}", junk))
            if missing := [w for w in want.get("content_contains", []) if w not in t.content]:
                wrong.append(("ticket", f"content {t.content[:80]!r} lacks {missing}", junk))
            if present := [w for w in want.get("content_not_contains", []) if w in t.content]:
                wrong.append(("ticket", f"content {t.content[:80]!r} has {present}", junk))
    if no_ticket := end.get("no_ticket"):
        unwanted = [t for t in tickets if no_ticket is True or t.kind == no_ticket]
        if unwanted:
            junk = JUNK_TICKET if any(t.kind in ("complaint", "suggestion") for t in unwanted) else ""
            wrong.append(("no_ticket", "tickets: " + "; ".join(f"{t.kind} {t.topic} {t.content[:40]!r}"
                                                                for t in unwanted), junk))
    return wrong


def cancel_bookings(db: Database, sender: str) -> None:
    """Give the seats back, the way a citizen cancels (code, conversation, phone tail)."""
    booking = Booking(db)
    with db.session() as s:
        mine = list(s.scalars(select(Appointment).where(Appointment.sender_id == sender,
                                                         Appointment.status == "booked")))
    for appt in mine:
        try:
            booking.cancel(appt.code, sender, appt.phone[-4:])
        except BookingRefused:
            pass  # cancelled meanwhile: the seat is free already


# ---- running ------------------------------------------------------------------------------------------
def send(client: httpx.Client, sender: str, text: str) -> dict[str, Any]:
    """One citizen message; a rate limit (429) is waited out as its Retry-After says."""
    for _ in range(RETRIES_WHEN_LIMITED + 1):
        r = client.post("/api/v1/chat", json={"sender_id": sender, "message": text, "channel": "web"})
        if r.status_code != 429:
            break
        time.sleep(min(float(r.headers.get("retry-after", "60")), 65))
    if r.status_code != 200:
        raise RuntimeError(f"POST /api/v1/chat answered {r.status_code}: {r.text[:200]}")
    return r.json()


def run_conversation(conv: Conversation, base_url: str, db: Database, titles: dict[str, str]) -> Outcome:
    today = city_today()
    outcome = Outcome(conv.id, conv.category, conv.style)
    sender = f"eval-{conv.id}-{uuid.uuid4().hex[:8]}"[:120]
    variables: dict[str, str] = {}
    with httpx.Client(base_url=base_url, timeout=90) as client:
        for i, turn in enumerate(conv.turns, 1):
            try:
                said = resolve(turn.say, today, variables)
            except ConversationSetError as exc:  # a capture failed earlier: the rest cannot be said
                outcome.failures.append(Failure(f"turn {i}", turn.say, "", f"not sent: {exc}"))
                break
            try:
                reply = Reply(send(client, sender, said))
            except (RuntimeError, httpx.HTTPError) as exc:
                outcome.failures.append(Failure(f"turn {i}", said, "", f"no reply: {exc}"))
                break
            expect = {k: [resolve(v, today, variables) for v in vs] if isinstance(vs, list) else vs
                      for k, vs in turn.expect.items()}
            outcome.failures += judge_turn(f"turn {i}", said, expect, reply, titles)
            for name, pattern in turn.capture.items():
                m = re.search(pattern, "\n".join(reply.texts))
                if m:
                    variables[name] = m.group(1)
                else:
                    outcome.failures.append(Failure(f"turn {i}", said, reply.shown(), f"capture {name}: no match"))
    for check, why, critical in check_end(conv.end, db, sender, today):
        outcome.failures.append(Failure("end", "", "", f"{check}: {why}", critical))
    cancel_bookings(db, sender)
    return outcome


def print_outcome(o: Outcome, out) -> None:
    """One line per conversation; for a failed one, each failed step once (what was said, what came back)
    with the checks it failed."""
    print(f"{'✓' if o.passed else '✗'} {o.category}/{o.id} ({o.style})", file=out)
    step = None
    for f in o.failures:
        if f.step != step:
            step = f.step
            print(f"    {f.step}" + (f" 「{f.said}」 → {f.answered}" if f.said else ""), file=out)
        print(f"      ✗ {f.check}" + (f"  [{f.critical.upper()}]" if f.critical else ""), file=out)
    out.flush()


@dataclass
class Summary:
    outcomes: list[Outcome]

    @property
    def share(self) -> float:
        return sum(o.passed for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def critical(self) -> list[tuple[str, Failure]]:
        return [(o.id, f) for o in self.outcomes for f in o.failures if f.critical]

    @property
    def meets_bar(self) -> bool:
        return self.share >= BAR and not self.critical

    def by(self, key: str) -> dict[str, tuple[int, int]]:
        groups: dict[str, list[bool]] = defaultdict(list)
        for o in self.outcomes:
            groups[getattr(o, key)].append(o.passed)
        return {k: (sum(v), len(v)) for k, v in sorted(groups.items())}

    def as_json(self) -> dict[str, Any]:
        return {"share": round(self.share, 4), "passed": sum(o.passed for o in self.outcomes),
                "total": len(self.outcomes), "meets_bar": self.meets_bar,
                "by_category": {k: {"passed": p, "total": n} for k, (p, n) in self.by("category").items()},
                "by_style": {k: {"passed": p, "total": n} for k, (p, n) in self.by("style").items()},
                "critical": [{"conversation": cid, **asdict(f)} for cid, f in self.critical],
                "conversations": [{**asdict(o), "passed": o.passed} for o in self.outcomes]}

    def print(self, out) -> None:
        passed = sum(o.passed for o in self.outcomes)
        print(f"\nconversations fully right: {passed}/{len(self.outcomes)} ({self.share:.1%}); bar ≥ {BAR:.0%}",
              file=out)
        for key in ("category", "style"):
            print(f"by {key}: " + ", ".join(f"{k} {p}/{n}" for k, (p, n) in self.by(key).items()), file=out)
        print(f"critical failures: {len(self.critical)}", file=out)
        for cid, f in self.critical:
            print(f"  {f.critical}: {cid} {f.step} 「{f.said}」 {f.check}", file=out)
        print("PASS" if self.meets_bar else "FAIL", file=out, flush=True)


def evaluate(conversations: list[Conversation], base_url: str, db: Database, out=sys.stdout) -> Summary:
    titles = _titles()
    outcomes = []
    for conv in conversations:
        outcomes.append(run_conversation(conv, base_url, db, titles))
        print_outcome(outcomes[-1], out)
    return Summary(outcomes)


# ---- the command --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def own_stack(epochs_scale: float) -> Iterator[Settings]:
    """Rasa and the app on a scratch database and free ports, like `govbot serve`; stopped afterwards. The
    evaluation is one client sending hundreds of messages, so its own stack does not rate-limit it."""
    from govbot import rasa_project
    from govbot.stack import start_processes, stop, wait_ready

    with tempfile.TemporaryDirectory(prefix="govbot-eval-") as tmp:
        var = Path(tmp)
        settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'govbot.db'}",
                            tracker_url=f"sqlite:///{var / 'tracker.db'}", redis_url="",
                            port=_free_port(), rasa_port=_free_port())
        model = rasa_project.train(settings, epochs_scale=epochs_scale)
        with mock.patch.dict(os.environ, {"GOVBOT_RATE_PER_SENDER": "100000", "GOVBOT_RATE_PER_IP": "100000"}):
            procs = start_processes(settings, model)
        try:
            wait_ready(settings, procs, timeout=300)
            yield settings
        finally:
            stop(procs)


def main(url: str | None, only: str | None, as_json: bool, epochs_scale: float, settings: Settings) -> int:
    """Run the set and print the result; the exit status is 1 when the bar is not met."""
    try:
        conversations = load_set(city_today(), only=only)
    except ConversationSetError as exc:
        print(f"conversation set: {exc}", file=sys.stderr)
        return 2
    out = sys.stderr if as_json else sys.stdout
    with contextlib.redirect_stdout(out):  # training and start-up lines never mix into the JSON on stdout
        print(f"{len(conversations)} conversations", flush=True)
        if url:
            summary = evaluate(conversations, url, Database(settings.database_url), out)
        else:
            with own_stack(epochs_scale) as own:
                summary = evaluate(conversations, f"http://127.0.0.1:{own.port}", Database(own.database_url), out)
        summary.print(out)
    if as_json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    return 0 if summary.meets_bar else 1
