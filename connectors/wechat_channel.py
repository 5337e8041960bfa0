"""What the official account and the mini-program share once a push is checked: de-duplication across
replicas, openid → conversation, numbered choices, the answer through the gateway, delivery via the outbox."""
from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from typing import Any, Protocol

import httpx
import redis.asyncio as aioredis
from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wechatpy.crypto import WeChatCrypto
from wechatpy.messages import BaseMessage

from bot.actions.answering import HUMAN_BUTTON
from connectors.models import ChannelIdentity, SeenMessage
from connectors.wechat_api import Outbox, WeChatApi, WeChatError
from connectors.wechat_protocol import (dedup_key, numbered, open_envelope, parse_fields, picked, read_body,
                                        to_message, verify_signature)
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from insight.models import Turn

log = logging.getLogger("govbot.wechat")

SEEN_TTL_S = 24 * 3600  # WeChat retries within ~15 s; a day is ample
MAX_QUESTION_CHARS = 500  # as on the web chat
SENDER_ID = re.compile(r"^[\w.:@-]+$")
WELCOME_EVENTS = {"subscribe", "user_enter_tempsession"}
BROKEN = "抱歉，系统出了点问题，请稍后再试或拨打12345热线。"
VOICE_UNRECOGNISED = "抱歉，没能听清您的语音，请用文字告诉我您要办理的事项。"
IMAGE_RECEIVED = "已收到您的图片。我目前只能看懂文字，请用文字描述您要办理的事项，比如“身份证丢了怎么补”。"
OTHER_MESSAGE = "抱歉，我目前只能处理文字和语音消息，请用文字描述您要办理的事项。"
WELCOME = "您好！我是政务通智能客服，可以解答办事指南、查询办件进度、预约办理，也可以帮您转人工（12345）。" \
          "请直接输入您的问题，或回复数字查看大家常问的事项："


class SeenMessages(Protocol):
    async def claim(self, key: str) -> bool:
        """True for the first delivery of `key`, False for every retry (in any replica)."""


class DatabaseSeen:
    """The default: a unique insert into the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, key: str) -> bool:
        try:
            with self.db.session() as s:
                s.add(SeenMessage(key=key))
        except IntegrityError:
            return False
        return True


class RedisSeen:
    """With REDIS_URL: SET NX with a TTL, so the ids expire on their own."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def claim(self, key: str) -> bool:
        return bool(await self.client.set(f"govbot:wechat:seen:{key}", 1, nx=True, ex=SEEN_TTL_S))


class Identities:
    """openid → our conversation id, and the options last offered there (a reply "1" picks the first)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def touch(self, channel: str, openid: str) -> str:
        sender_id = f"{channel}:{openid}"
        if not SENDER_ID.match(sender_id) or len(sender_id) > 120:
            raise HTTPException(400, detail="FromUserName 格式不正确 / bad openid")
        try:
            with self.db.session() as s:
                row = s.get(ChannelIdentity, sender_id) or ChannelIdentity(sender_id=sender_id, channel=channel,
                                                                           external_id=openid)
                row.last_inbound_at = utcnow()
                s.add(row)
        except IntegrityError:  # the same citizen's first two messages raced; the other one created the row
            pass
        return sender_id

    def offered(self, sender_id: str) -> list[dict[str, str]]:
        with self.db.session() as s:
            row = s.get(ChannelIdentity, sender_id)
            return list(row.offered) if row else []

    def offer(self, sender_id: str, options: list[dict[str, str]]) -> None:
        with self.db.session() as s:
            s.get_one(ChannelIdentity, sender_id).offered = options


def hot_questions(svc: Any, n: int = 3) -> list[str]:
    """The services answered most often lately (from the turn log); published guides when the log is empty."""
    with svc.db.session() as s:
        recent = s.scalars(select(Turn.matches).where(Turn.author == "bot", Turn.decision == "answer")
                           .order_by(Turn.id.desc()).limit(500))
        counts = Counter(m[0]["title"] for m in recent if m)
    titles = [t for t, _ in counts.most_common(n)]
    for guide in svc.kb.list(status="published", limit=n):
        if len(titles) < n and guide.title not in titles:
            titles.append(guide.title)
    return titles


def with_human_choice(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Never a dead end: a clarifying or unanswered turn with the bot always offers 转人工."""
    messages = list(result["messages"])
    offered = {b["payload"] for m in messages for b in m.get("buttons") or []}
    stuck = result["mode"] == "bot" and result["decision"] in ("clarify", "handoff")
    if stuck and HUMAN_BUTTON["payload"] not in offered:
        messages.append({"text": "", "buttons": [HUMAN_BUTTON]})
    return messages


class WeChatChannel:
    """One WeChat app's push endpoint: `wx-oa` (official account) or `wx-mp` (mini-program)."""

    def __init__(self, name: str, gateway_channel: str, token: str, crypto: WeChatCrypto | None, api: WeChatApi,
                 seen: SeenMessages, db: Database) -> None:
        self.name, self.gateway_channel, self.token, self.crypto, self.api = name, gateway_channel, token, crypto, api
        self.seen, self.identities, self.outbox = seen, Identities(db), Outbox(db)

    def verify_url(self, params: dict[str, str]) -> str:
        """WeChat's server check when the URL is configured: echo `echostr` if the signature holds."""
        verify_signature(self.token, params.get("signature", ""), params.get("timestamp", ""), params.get("nonce", ""))
        return params.get("echostr", "")

    async def accept(self, request: Request) -> tuple[BaseMessage, dict[str, str]]:
        """The checked, decrypted, parsed push (403 forged or stale, 413 too large, 400 malformed)."""
        params = dict(request.query_params)
        verify_signature(self.token, params.get("signature", ""), params.get("timestamp", ""), params.get("nonce", ""))
        fields = open_envelope(parse_fields(await read_body(request)), params, self.crypto)
        message = to_message(fields)
        if not message.source:
            raise HTTPException(400, detail="缺少 FromUserName / missing FromUserName")
        return message, params

    async def to_answer(self, message: BaseMessage) -> str | None:
        """The conversation a push is answered in, or None: an event that needs no answer (only welcomes
        do), or a retry of a message already taken (de-duplicated across replicas)."""
        if message.type == "event" and message.event not in WELCOME_EVENTS:
            return None
        if not await self.seen.claim(f"{self.name}:{dedup_key(message)}"):
            return None
        return self.identities.touch(self.name, message.source)

    def question(self, message: BaseMessage) -> str:
        """What the citizen said, for the outbox record."""
        if message.type == "text":
            return message.content or ""
        if message.type == "voice":
            return message.recognition or "[voice]"
        return f"[{message.event or message.type}]" if message.type == "event" else f"[{message.type}]"

    async def respond(self, gateway: Any, svc: Any, sender_id: str, message: BaseMessage) -> str:
        """The answer's text; failures become an apology, so the citizen is never left without one."""
        try:
            if message.type == "event":
                return self._offer(sender_id, [{"text": WELCOME, "buttons": [
                    {"title": t, "payload": t} for t in hot_questions(svc)]}])
            if message.type == "voice" and not message.recognition:
                return VOICE_UNRECOGNISED
            if message.type == "image":
                return IMAGE_RECEIVED
            if message.type not in ("text", "voice"):
                return OTHER_MESSAGE
            text = (message.content if message.type == "text" else message.recognition).strip()
            if not text:
                return WELCOME
            said = picked(text, self.identities.offered(sender_id)) or text[:MAX_QUESTION_CHARS]
            result = await gateway.handle(sender_id, said, self.gateway_channel)
            return self._offer(sender_id, with_human_choice(result))
        except Exception:
            log.exception("answering a %s push failed", self.name)
            return BROKEN

    def _offer(self, sender_id: str, messages: list[dict[str, Any]]) -> str:
        text, options = numbered(messages)
        self.identities.offer(sender_id, options)
        return text

    async def deliver(self, answer: asyncio.Task[str], outbox_id: int, openid: str) -> None:
        """Send the answer through the customer-service API once it is ready; refusals stay in the outbox."""
        text = await answer
        if not text:  # nothing to say now (an agent is on it and will answer)
            self.outbox.settle(outbox_id, text)
            return
        try:
            await self.api.send_text(openid, text)
        except WeChatError as exc:
            log.warning("%s customer-service send refused: %s", self.name, exc)
            self.outbox.settle(outbox_id, text, exc)
            return
        except httpx.HTTPError as exc:
            self.outbox.settle(outbox_id, text, WeChatError(-1, f"WeChat API unreachable: {exc}"))
            return
        self.outbox.settle(outbox_id, text)


class WeChat:
    """Both channels of one app instance, their HTTP client and the deliveries still running."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.http = httpx.AsyncClient(timeout=10.0)
        self.redis = aioredis.from_url(settings.redis_url) if settings.redis_url else None
        seen: SeenMessages = RedisSeen(self.redis) if self.redis else DatabaseSeen(db)
        self.tasks: set[asyncio.Task] = set()
        self.official_api = WeChatApi(db, self.http, settings.wechat_api_base, settings.wechat_appid,
                                      settings.wechat_appsecret)
        self.miniprogram_api = WeChatApi(db, self.http, settings.wechat_api_base,
                                         settings.wechat_miniprogram_appid or settings.wechat_appid,
                                         settings.wechat_miniprogram_appsecret or settings.wechat_appsecret)

        def channel(name: str, gateway_channel: str, api: WeChatApi) -> WeChatChannel | None:
            if not settings.wechat_token:  # push is off; the mini-program login may still be configured
                return None
            crypto = (WeChatCrypto(settings.wechat_token, settings.wechat_encoding_aes_key, api.appid)
                      if settings.wechat_encoding_aes_key else None)
            return WeChatChannel(name, gateway_channel, settings.wechat_token, crypto, api, seen, db)

        self.official = channel("wx-oa", "wechat", self.official_api)
        self.miniprogram = channel("wx-mp", "miniprogram", self.miniprogram_api)

    def spawn(self, work: Any) -> None:
        """Run a delivery in the background, keeping a reference until it is done."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)
        await self.http.aclose()
        if self.redis:
            await self.redis.aclose()
