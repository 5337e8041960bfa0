"""One path for every citizen message: mode (bot or human) → Rasa → turn metadata → masked turn log."""
from __future__ import annotations

import time
from typing import Any

from bot.conversations import Conversations
from bot.rasa_client import RasaClient
from retrieval.normalize import strip_zero_width

HUMAN_MODE_ACK = "已收到，人工客服正在处理您的问题，请稍候。"


class Gateway:
    def __init__(self, conversations: Conversations, rasa: RasaClient) -> None:
        self.conversations, self.rasa = conversations, rasa

    async def handle(self, sender_id: str, text: str, channel: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        text = strip_zero_width(text)  # "护\u200b照" reaches NLU as 护照
        mode = self.conversations.mode(sender_id)
        self.conversations.log(sender_id, "citizen", text, channel=channel)
        if mode == "human":
            return {"sender_id": sender_id, "messages": [{"text": HUMAN_MODE_ACK}], "decision": "handoff",
                    "matches": [], "mode": "human"}
        turn = await self.rasa.send(sender_id, text, channel)
        decision = turn.meta.get("decision", "dialogue")
        matches = turn.meta.get("matches", []) if decision != "dialogue" else []
        latency = int((time.perf_counter() - t0) * 1000)
        self.conversations.log(sender_id, "bot", "\n".join(m["text"] for m in turn.messages), decision,
                               matches, latency, channel, intent=turn.meta.get("intent", ""),
                               handoff=turn.meta.get("mode") == "human")
        messages = turn.messages or [{"text": "抱歉，我暂时无法回答，请稍后再试或拨打12345。"}]
        return {"sender_id": sender_id, "messages": messages, "decision": decision, "matches": matches,
                "mode": turn.meta.get("mode", "bot")}
