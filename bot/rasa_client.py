"""Talks to the Rasa server: one REST-channel round trip per citizen message."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


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

    async def ready(self) -> bool:
        try:
            resp = await self._http.get(f"{self.base_url}/status", params={"token": self.token}, timeout=2.0)
            return resp.status_code == 200 and bool(resp.json().get("model_file"))
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        await self._http.aclose()
