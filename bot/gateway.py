"""One path for every citizen message: mode (bot or human) → Rasa → turn metadata → masked turn log.

In human mode the message goes to the conversation's ticket (the agent's console), not to Rasa; a message on
a sensitive topic (the hand-off settings' keyword list) goes to a human at once. When Rasa cannot be reached,
the knowledge base answers alone (degraded mode, `bot/degraded.py`) and the turn says so (`degraded`)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool

from bot.actions.answering import HUMAN_BUTTON
from bot.conversations import Conversations
from bot.rasa_client import BotTurn, RasaClient, RasaUnavailable
from retrieval.normalize import strip_zero_width


class Gateway:
    def __init__(self, conversations: Conversations, rasa: RasaClient,
                 without_rasa: Callable[[str, str], tuple[list[dict[str, Any]], dict[str, Any]]]) -> None:
        self.conversations, self.rasa, self.without_rasa = conversations, rasa, without_rasa

    async def handle(self, sender_id: str, text: str, channel: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        text = strip_zero_width(text)  # "护\u200b照" reaches NLU as 护照
        mode = self.conversations.mode(sender_id)
        self.conversations.log(sender_id, "citizen", text, channel=channel)
        desk = self.conversations.desk
        if mode == "human":
            answer = await run_in_threadpool(desk.citizen_says, sender_id, text)
            if answer is not None:  # None: no ticket is open any more, the bot answers
                return self._human(sender_id, answer, self.conversations.mode(sender_id))
        elif desk.config.sensitive(text):
            opened = await run_in_threadpool(self.conversations.hand_off, sender_id, "sensitive")
            said = desk.waiting_text(opened)
            self.conversations.log(sender_id, "bot", said, "handoff", [], int((time.perf_counter() - t0) * 1000),
                                   channel, handoff=True)
            return self._human(sender_id, [said], "human")
        try:
            turn = await self.rasa.send(sender_id, text, channel)
        except RasaUnavailable:
            turn = BotTurn(*await run_in_threadpool(self.without_rasa, sender_id, text))
            turn.meta["degraded"] = True
        decision = turn.meta.get("decision", "dialogue")
        matches = turn.meta.get("matches", []) if decision != "dialogue" else []
        latency = int((time.perf_counter() - t0) * 1000)
        self.conversations.log(sender_id, "bot", "\n".join(m["text"] for m in turn.messages), decision,
                               matches, latency, channel, intent=turn.meta.get("intent", ""),
                               handoff=turn.meta.get("mode") == "human")
        messages = turn.messages or [{"text": "抱歉，我暂时无法回答，请稍后再试或拨打12345。", "buttons": [HUMAN_BUTTON]}]
        return {"sender_id": sender_id, "messages": messages, "decision": decision, "matches": matches,
                "mode": turn.meta.get("mode", "bot"), "degraded": bool(turn.meta.get("degraded"))}

    @staticmethod
    def _human(sender_id: str, texts: list[str], mode: str) -> dict[str, Any]:
        return {"sender_id": sender_id, "messages": [{"text": t} for t in texts], "decision": "handoff",
                "matches": [], "mode": mode}
