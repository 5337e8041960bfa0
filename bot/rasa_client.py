"""Talks to the Rasa server: one REST-channel round trip per citizen message."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml

log = logging.getLogger("govbot.rasa")
DOMAIN = Path(__file__).parent / "domain.yml"


@cache
def form_slots() -> dict[str, tuple[str, ...]]:
    """Each form of the domain with the slots it asks for."""
    forms = yaml.safe_load(DOMAIN.read_text(encoding="utf-8")).get("forms") or {}
    return {name: tuple(spec.get("required_slots") or ()) for name, spec in forms.items()}


class RasaUnavailable(RuntimeError):
    pass


@dataclass
class BotTurn:
    messages: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.base_url, self.token = base_url.rstrip("/"), token
        self._http = httpx.AsyncClient(timeout=timeout)

    async def send(self, sender_id: str, text: str, channel: str) -> BotTurn:
        try:
            resp = await self._http.post(f"{self.base_url}/webhooks/rest/webhook",
                                         json={"sender": sender_id, "message": text,
                                               "metadata": {"channel": channel}})
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        turn = BotTurn()
        for msg in resp.json():
            custom = msg.get("custom") or {}
            if "govbot" in custom:
                turn.meta.update(custom["govbot"])
                continue
            out: dict[str, Any] = {"text": msg.get("text") or ""}
            if msg.get("buttons"):
                out["buttons"] = [{"title": b.get("title", ""), "payload": b.get("payload", "")}
                                  for b in msg["buttons"]]
            if out["text"] or "buttons" in out:
                turn.messages.append(out)
        return turn

    async def stop_form(self, sender_id: str) -> str | None:
        """Leaves the form the conversation is in, if any, with its slots emptied (as if the citizen had said
        "算了"), through the tracker API; returns the form's name. A message answered before Rasa (the safety
        policy's) must not leave the citizen inside a form still waiting for its slot. Best effort: when Rasa
        cannot be reached the form stays, and the next message is judged by it as usual."""
        url, auth = f"{self.base_url}/conversations/{sender_id}/tracker", {"token": self.token}
        try:
            resp = await self._http.get(url, params={**auth, "include_events": "NONE"})
            resp.raise_for_status()
            form = (resp.json().get("active_loop") or {}).get("name")
            if not form:
                return None
            slots = ("requested_slot", *form_slots().get(form, ()))
            events = [{"event": "active_loop", "name": None},
                      *({"event": "slot", "name": name, "value": None} for name in slots)]
            resp = await self._http.post(f"{url}/events", params={**auth, "include_events": "NONE"}, json=events)
            resp.raise_for_status()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not stop the form of %s: %s", sender_id, exc)
            return None
        return form

    async def ready(self) -> bool:
        try:
            resp = await self._http.get(f"{self.base_url}/status", params={"token": self.token}, timeout=2.0)
            return resp.status_code == 200 and bool(resp.json().get("model_file"))
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        await self._http.aclose()
