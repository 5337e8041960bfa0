"""A citizen talking to one form over the real action webhook, the way Rasa runs a form (without a Rasa server):
at the first turn the form's validation runs with the loop just set; afterwards every message fills the
requested slot (the from_text mappings of bot/domain.yml) and is validated; then the next empty required slot
is asked (action_ask_<form>_<slot>, action_ask_<slot> or the utter_ask_ response), and a finished or left form
runs its completing action, as the "finish" rules do. Required slots and ask responses come from the domain,
so the tests follow it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.actions.protocol import ACTIONS
from core.settings import ROOT
from tests.test_actions import webhook

DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
COMPLETING = {"progress_form": "action_progress_result", "appointment_form": "action_book_appointment",
              "cancel_form": "action_cancel_appointment", "reschedule_form": "action_reschedule_appointment",
              "complaint_form": "action_submit_complaint"}


@dataclass
class Said:
    """What the bot said in one turn."""

    messages: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(m.get("text", "") for m in self.messages)

    @property
    def buttons(self) -> list[str]:
        return [b["title"] for m in self.messages for b in m.get("buttons", [])]

    @property
    def meta(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for m in self.messages:
            found.update(m.get("custom", {}).get("govbot", {}))
        return found


@dataclass
class Citizen:
    client: Any
    sender: str
    slots: dict[str, Any] = field(default_factory=dict)
    form: str | None = None

    def _call(self, action: str, text: str, intent: str, entities: list, events: list) -> dict:
        payload = {"next_action": action, "sender_id": self.sender, "version": "3.6.21", "domain": {},
                   "tracker": {"sender_id": self.sender, "slots": dict(self.slots), "events": events,
                               "active_loop": {"name": self.form} if self.form else {},
                               "latest_message": {"text": text, "intent": {"name": intent}, "entities": entities}}}
        r = self.client.post(webhook(self.client), json=payload)
        assert r.status_code == 200, r.text
        return r.json()

    def _apply(self, result: dict) -> tuple[list[dict], bool]:
        ended = False
        for e in result["events"]:
            if e["event"] == "slot":
                self.slots[e["name"]] = e["value"]
            elif e["event"] == "active_loop" and e.get("name") is None:
                ended = True
        return result["responses"], ended

    def start(self, form: str, text: str, intent: str = "inform", entities: list | None = None) -> Said:
        """The form's first turn: the NLU picked the form's intent for `text`."""
        self.form, self.slots["requested_slot"] = form, None
        events = [{"event": "user", "text": text}, {"event": "active_loop", "name": form}]
        return self._turn(f"validate_{form}", text, intent, entities or [], events)

    def says(self, text: str, intent: str = "inform", entities: list | None = None) -> Said:
        assert self.form, "no form is open"
        asked = self.slots.get("requested_slot")
        self.slots[asked] = text  # the from_text mapping
        events = [{"event": "user", "text": text}, {"event": "slot", "name": asked, "value": text}]
        return self._turn(f"validate_{self.form}", text, intent, entities or [], events)

    def _turn(self, action: str, text: str, intent: str, entities: list, events: list) -> Said:
        messages, ended = self._apply(self._call(action, text, intent, entities, events))
        form = self.form
        required = DOMAIN["forms"][form]["required_slots"]
        missing = next((s for s in required if self.slots.get(s) is None), None)
        if ended or missing is None:
            self.slots["requested_slot"] = None
            finished, _ = self._apply(self._call(COMPLETING[form], text, intent, entities, events))
            self.form = None
            return Said(messages + finished)
        self.slots["requested_slot"] = missing
        for ask in (f"action_ask_{form}_{missing}", f"action_ask_{missing}"):
            if ask in ACTIONS:
                asked, _ = self._apply(self._call(ask, text, intent, entities, events))
                return Said(messages + asked)
        for utter in (f"utter_ask_{form}_{missing}", f"utter_ask_{missing}"):
            if utter in DOMAIN["responses"]:
                return Said(messages + [DOMAIN["responses"][utter][0]])
        raise AssertionError(f"nothing asks for {missing}")
