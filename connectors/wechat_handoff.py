"""Agents' replies to WeChat citizens (official account, mini-program customer service): through the
customer-service API, allowed within 48 hours of the citizen's last message. Every send is kept in the
outbox; a refusal (window closed, too many replies, API down) comes back to the agent's console."""
from __future__ import annotations

import datetime as dt

import httpx

from connectors.models import ChannelIdentity
from connectors.wechat_api import Outbox, WeChatApi, WeChatError
from connectors.wechat_channel import WeChat
from connectors.wechat_miniprogram import SENDER_PREFIX
from core.clock import utcnow
from core.db import Database
from handoff.delivery import Delivered

REPLY_WINDOW = dt.timedelta(hours=48)
WINDOW_CLOSED = "市民最后一条消息已超过48小时，微信不允许再发客服消息，请电话回访或等市民再次留言"
WECHAT_REFUSALS = {45015: WINDOW_CLOSED, 45047: "48小时内已连发5条客服消息，须等市民回复后才能再发"}


class WeChatAgentReplies:
    """The hand-off's channel sender for `wx-oa:` and `wx-mp:` conversations."""

    def __init__(self, wechat: WeChat, db: Database) -> None:
        self.wechat, self.db, self.outbox = wechat, db, Outbox(db)

    def handles(self, sender_id: str) -> bool:
        return sender_id.startswith(("wx-oa:", "wx-mp:"))

    def _api(self, channel: str) -> WeChatApi:
        return self.wechat.official_api if channel == "wx-oa" else self.wechat.miniprogram_api

    async def send(self, sender_id: str, text: str) -> Delivered:
        with self.db.session() as s:
            identity = s.get(ChannelIdentity, sender_id)
        if identity is None:
            if sender_id.startswith(SENDER_PREFIX):  # never wrote to customer service: the mini-program's page
                return Delivered("websocket")      # itself, which the hub's push has reached
            return Delivered("wechat", False, "找不到该微信用户 / unknown WeChat user")
        last = identity.last_inbound_at if identity.last_inbound_at.tzinfo else \
            identity.last_inbound_at.replace(tzinfo=dt.timezone.utc)
        outbox_id = self.outbox.hold(identity.channel, sender_id, "[人工客服回复]")
        if utcnow() - last > REPLY_WINDOW:
            self.outbox.settle(outbox_id, text, WeChatError(45015, "reply window closed (checked locally)"))
            return Delivered("wechat", False, WINDOW_CLOSED)
        try:
            await self._api(identity.channel).send_text(identity.external_id, text)
        except WeChatError as exc:
            self.outbox.settle(outbox_id, text, exc)
            return Delivered("wechat", False, WECHAT_REFUSALS.get(exc.errcode, f"微信拒绝发送（{exc.errcode}：{exc.errmsg}）"))
        except httpx.HTTPError as exc:
            self.outbox.settle(outbox_id, text, WeChatError(-1, f"WeChat API unreachable: {exc}"))
            return Delivered("wechat", False, "暂时无法连接微信接口，请稍后重发")
        self.outbox.settle(outbox_id, text)
        return Delivered("wechat")
