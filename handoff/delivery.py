"""How an agent's message reaches the citizen, per channel. The channels (connectors/, above this layer)
register their senders at app start; a conversation no sender claims is a web chat or mini-program page
listening on its WebSocket (the hub topic `conversation:{sender_id}`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.hub import Hub


@dataclass(frozen=True)
class Delivered:
    via: str  # websocket | wechat
    ok: bool = True
    error: str = ""  # why it did not reach the citizen, for the agent


class ChannelSender(Protocol):
    def handles(self, sender_id: str) -> bool:
        """Whether this channel owns the conversation (e.g. a WeChat openid)."""

    async def send(self, sender_id: str, text: str) -> Delivered:
        ...


def conversation_topic(sender_id: str) -> str:
    return f"conversation:{sender_id}"


class Deliveries:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.senders: list[ChannelSender] = []

    def register(self, sender: ChannelSender) -> None:
        self.senders.append(sender)

    def unregister(self, sender: ChannelSender) -> None:
        self.senders.remove(sender)

    def push(self, sender_id: str, event: dict[str, Any]) -> None:
        """An event for the citizen's open pages (every channel: a WeChat citizen may have none)."""
        self.hub.publish(conversation_topic(sender_id), event)

    async def send(self, sender_id: str, event: dict[str, Any]) -> Delivered:
        self.push(sender_id, event)
        for sender in self.senders:
            if sender.handles(sender_id):
                return await sender.send(sender_id, event["text"])
        return Delivered("websocket")
