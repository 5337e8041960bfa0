"""The action-server webhook protocol: what Rasa sends (tracker, domain) and what an action returns.

Rasa POSTs {"next_action", "sender_id", "tracker", "domain", "version"}; we answer
{"events": [...], "responses": [...]}. Responses are Rasa bot messages: text, buttons, and `custom`
(a JSON payload the REST channel passes through; we use it to carry the turn's decision and matches).
The payload's shape is checked on the way in (`ActionCall`): the domain's slots with their types, the
latest message and the events; anything else is refused with a 4xx before an action runs. Slot *values*
are still re-checked by the actions themselves, at the moment they act.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MAX_TEXT = 10_000  # no slot or message of a real conversation comes near it (the web chat allows 500)
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class _Open(BaseModel):
    """Rasa sends more than we read: unknown keys pass through; numbers given for text become text."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Slots(_Open):
    """The slots of bot/domain.yml with their types (tests/test_action_webhook.py keeps the two in step)."""

    current_service: Text | None = None
    offered_services: list[Text] | None = Field(None, max_length=20)
    discussed_services: list[Text] | None = Field(None, max_length=20)
    failed_turns: float | None = None
    application_no: Text | None = None
    phone_tail: Text | None = None
    appt_service: Text | None = None
    appt_date: Text | None = None
    appt_slot: Text | None = None
    appt_name: Text | None = None
    appt_phone: Text | None = None
    appt_confirmed: Text | None = None  # "yes" once the read-back was confirmed (the citizen's raw reply before)
    confirmation_code: Text | None = None
    complaint_kind: Literal["complaint", "suggestion"] | None = None
    complaint_category: Text | None = None
    complaint_content: Text | None = None
    complaint_contact: Text | None = None


class Entity(_Open):
    entity: str = Field(max_length=100)
    value: Text | None = None


class Intent(_Open):
    name: str | None = Field(None, max_length=100)


class Message(_Open):
    text: Text | None = None
    intent: Intent = Intent()
    entities: list[Entity] = []


class Event(_Open):
    event: str = Field(max_length=100)
    name: str | None = None
    value: Any = None
    text: str | None = None


class Loop(_Open):
    name: str | None = Field(None, max_length=100)


class TrackerState(_Open):
    sender_id: str | None = None
    slots: Slots = Slots()
    latest_message: Message | None = None
    events: list[Event] = []
    active_loop: Loop = Loop()  # the form in progress ({} when none)


class ActionCall(_Open):
    next_action: str = Field(min_length=1, max_length=100)
    sender_id: str = Field(min_length=1, max_length=120)
    tracker: TrackerState = TrackerState()

    @field_validator("tracker")
    @classmethod
    def _one_conversation(cls, tracker: TrackerState, info: ValidationInfo) -> TrackerState:
        if tracker.sender_id not in (None, info.data.get("sender_id")):
            raise ValueError("tracker.sender_id 与 sender_id 不一致")
        return tracker


@dataclass
class Tracker:
    """Read access to one validated call: the conversation, its slots, the latest message, the events."""

    call: ActionCall

    @property
    def sender_id(self) -> str:
        return self.call.sender_id

    def slot(self, name: str) -> Any:
        return getattr(self.call.tracker.slots, name, None)

    @property
    def latest(self) -> Message:
        return self.call.tracker.latest_message or Message()

    @property
    def text(self) -> str:
        return (self.latest.text or "").strip()

    @property
    def intent(self) -> str:
        return self.latest.intent.name or ""

    @property
    def active_loop(self) -> str | None:
        return self.call.tracker.active_loop.name

    def entity(self, name: str) -> str | None:
        for e in self.latest.entities:
            if e.entity == name and e.value not in (None, ""):
                return e.value
        return None

    def slots_to_validate(self) -> dict[str, Any]:
        """Slot values set since the citizen's last message (what a form validation must check)."""
        found: dict[str, Any] = {}
        for event in reversed(self.call.tracker.events):
            if event.event == "user":
                break
            if event.event == "slot" and event.name and event.name != "requested_slot":
                found.setdefault(event.name, event.value)
        return found

    def transcript(self, limit: int = 30) -> list[dict[str, str]]:
        lines = [{"author": "citizen" if e.event == "user" else "bot", "text": e.text}
                 for e in self.call.tracker.events if e.event in ("user", "bot") and e.text]
        return lines[-limit:]


@dataclass
class Reply:
    """What an action returns: events for the tracker, messages for the citizen."""

    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, buttons: list[dict[str, str]] | None = None) -> "Reply":
        msg: dict[str, Any] = {"text": text}
        if buttons:
            msg["buttons"] = buttons
        self.messages.append(msg)
        return self

    def template(self, name: str) -> "Reply":
        self.messages.append({"response": name})
        return self

    def meta(self, **data: Any) -> "Reply":
        """Turn metadata (decision, matches, mode) for the app; never shown to the citizen."""
        self.messages.append({"custom": {"govbot": data}})
        return self

    def set(self, name: str, value: Any) -> "Reply":
        self.events.append({"event": "slot", "name": name, "value": value, "timestamp": None})
        return self

    def as_json(self) -> dict[str, Any]:
        return {"events": self.events, "responses": self.messages}


Action = Callable[[Tracker, Any], Reply]  # (tracker, govbot.services.Services) -> Reply
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn

    return register
