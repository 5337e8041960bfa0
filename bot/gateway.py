"""One path for every citizen message: mode (bot or human) → Rasa → turn metadata → masked turn log.

Every message is first checked against the knowledge base's safety policy (`bot/safety.py`): a message on a
safety topic (self-harm, an emergency, corruption, …) gets the topic's answer before anything else, a human at
once when the topic says so (in human mode its ticket becomes urgent), and a form open in Rasa is stopped so
that the citizen is not left in it. In human mode the message goes to the conversation's ticket (the agent's
console), not to Rasa; only a service button the bot offered is still answered by the bot. When Rasa cannot be reached,
the knowledge base answers alone (degraded mode, `bot/degraded.py`) and the turn says so (`degraded`)."""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool

from bot.actions.answering import HUMAN_BUTTON
from bot.conversations import Conversations
from bot.rasa_client import BotTurn, RasaClient, RasaUnavailable
from bot.safety import SafetyCheck, Verdict, respond
from retrieval.normalize import strip_zero_width

log = logging.getLogger("govbot.gateway")
CHOSEN_SERVICE = re.compile(r'^/choose_option\{"service_code":\s*"[A-Z0-9-]+"\}$')  # a service button's payload
FORM_STOPPED = "（刚才的办理已暂停，需要时可以重新开始。）"


class Gateway:
    def __init__(self, conversations: Conversations, rasa: RasaClient,
                 without_rasa: Callable[[str, str], tuple[list[dict[str, Any]], dict[str, Any]]],
                 safety: SafetyCheck) -> None:
        self.conversations, self.rasa, self.without_rasa, self.safety = conversations, rasa, without_rasa, safety

    async def handle(self, sender_id: str, text: str, channel: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        text = strip_zero_width(text)  # "护\u200b照" reaches NLU as 护照
        mode = self.conversations.mode(sender_id)
        self.conversations.log(sender_id, "citizen", text, channel=channel)
        verdict = await run_in_threadpool(self.safety.check, text)  # before anything else answers
        desk = self.conversations.desk
        if mode == "human" and not (verdict is None and CHOSEN_SERVICE.match(text)):
            answer = await run_in_threadpool(desk.citizen_says, sender_id, text)
            if answer is not None:  # None: no ticket is open any more, the bot answers
                if verdict is not None:
                    return await self._safety(sender_id, verdict, "human", channel, t0, then=answer)
                return self._human(sender_id, answer, self.conversations.mode(sender_id))
            mode = "bot"
        if verdict is not None:
            return await self._safety(sender_id, verdict, "bot", channel, t0)
        try:
            turn = await self.rasa.send(sender_id, text, channel)
        except RasaUnavailable:
            turn = BotTurn(*await run_in_threadpool(self.without_rasa, sender_id, text))
            turn.meta["degraded"] = True
        decision = turn.meta.get("decision", "dialogue")
        matches = turn.meta.get("matches", []) if decision != "dialogue" else []
        latency = int((time.perf_counter() - t0) * 1000)
        # mode is still "human" when a service button was answered while the conversation waits for its agent
        handed_off = turn.meta.get("mode") == "human" and mode == "bot"
        intent = f"safety:{turn.meta.get('topic', '')}" if decision == "safety" else turn.meta.get("intent", "")
        self.conversations.log(sender_id, "bot", "\n".join(m["text"] for m in turn.messages), decision,
                               matches, latency, channel, intent=intent, handoff=handed_off)
        messages = turn.messages or [{"text": "抱歉，我暂时无法回答，请稍后再试或拨打12345。", "buttons": [HUMAN_BUTTON]}]
        reply = {"sender_id": sender_id, "messages": messages, "decision": decision, "matches": matches,
                 "mode": "human" if handed_off or mode == "human" else "bot",
                 "degraded": bool(turn.meta.get("degraded"))}
        return reply | ({"topic": turn.meta.get("topic", "")} if decision == "safety" else {})

    async def _safety(self, sender_id: str, verdict: Verdict, mode: str, channel: str, t0: float,
                      then: list[str] | None = None) -> dict[str, Any]:
        """The safety policy's answer; in bot mode a form open in Rasa is stopped first (the message never
        reaches Rasa, so the form would otherwise still wait for its slot)."""
        stopped = await self.rasa.stop_form(sender_id) if mode == "bot" else None
        reply = await run_in_threadpool(respond, verdict, self.conversations, sender_id, mode)
        messages = reply.messages + [{"text": t} for t in then or []]
        if stopped:
            messages.append({"text": FORM_STOPPED})
        topic = verdict.topic.key
        log.warning("safety topic %s (%s); form stopped: %s; mode %s", topic, verdict.evidence, stopped or "-",
                    reply.meta["mode"])
        self.conversations.log(sender_id, "bot", "\n".join(m["text"] for m in messages), "safety", [],
                               int((time.perf_counter() - t0) * 1000), channel, intent=f"safety:{topic}",
                               handoff=mode == "bot" and reply.meta["mode"] == "human")
        return {"sender_id": sender_id, "messages": messages, "decision": "safety", "matches": [],
                "mode": reply.meta["mode"], "topic": topic}

    @staticmethod
    def _human(sender_id: str, texts: list[str], mode: str) -> dict[str, Any]:
        return {"sender_id": sender_id, "messages": [{"text": t} for t in texts], "decision": "handoff",
                "matches": [], "mode": mode}
