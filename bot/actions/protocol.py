"""The action-server webhook protocol: what Rasa sends (tracker, domain) and what an action returns.

Rasa POSTs {"next_action", "sender_id", "tracker", "domain", "version"}; we answer
{"events": [...], "responses": [...]}. Responses are Rasa bot messages: text, buttons, and `custom`
(a JSON payload the REST channel passes through; we use it to carry the turn's decision and matches).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tracker:
    raw: dict[str, Any]

    @property
    def sender_id(self) -> str:
        return self.raw.get("sender_id", "")

    @property
    def slots(self) -> dict[str, Any]:
        return self.raw.get("slots", {})

    def slot(self, name: str) -> Any:
        return self.slots.get(name)

    @property
    def latest(self) -> dict[str, Any]:
        return self.raw.get("latest_message") or {}

    @property
    def text(self) -> str:
        return (self.latest.get("text") or "").strip()

    @property
    def intent(self) -> str:
        return (self.latest.get("intent") or {}).get("name", "")

    def entity(self, name: str) -> str | None:
        for e in self.latest.get("entities") or []:
            if e.get("entity") == name and e.get("value") not in (None, ""):
                return str(e["value"])
        return None

    def entities(self, name: str) -> list[str]:
        return [str(e["value"]) for e in self.latest.get("entities") or [] if e.get("entity") == name]

    @property
    def active_form(self) -> str | None:
        return (self.raw.get("active_loop") or {}).get("name")

    def slots_to_validate(self) -> dict[str, Any]:
        """Slot values set since the citizen's last message (what a form validation must check)."""
        found: dict[str, Any] = {}
        for event in reversed(self.raw.get("events") or []):
            if event.get("event") == "user":
                break
            if event.get("event") == "slot" and event.get("name") != "requested_slot":
                found.setdefault(event["name"], event.get("value"))
        return found

    def transcript(self, limit: int = 30) -> list[dict[str, str]]:
        lines = [{"author": "citizen" if e["event"] == "user" else "bot", "text": e.get("text") or ""}
                 for e in self.raw.get("events") or [] if e.get("event") in ("user", "bot") and e.get("text")]
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
