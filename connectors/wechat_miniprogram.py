"""The WeChat mini-program: customer-service message push (`/wechat/miniprogram`, XML or JSON) and sign-in
(`POST /api/v1/miniprogram/login`: wx.login code → openid → our session token).

The mini-program's customer-service channel takes no passive text reply: every push is acknowledged at once
("success") after its answer is held in the outbox, and the answer goes out through the customer-service API.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import time

import httpx
from fastapi import APIRouter, HTTPException, Request, WebSocket
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import delete

from connectors.models import MiniProgramSession
from connectors.wechat_api import WeChatError
from connectors.wechat_channel import WeChatChannel
from core.db import Database

SESSION_TTL_S = 7 * 24 * 3600
ACK = "success"
SENDER_PREFIX = "wx-mp:"  # the mini-program user's conversation: pushes and the front end share it
# jscode2session errcodes a citizen can cause (a stale or reused code) vs. WeChat's rate limit
BAD_CODE = {40029, 40163, 40226}
RATE_LIMITED = {45011}

router = APIRouter()


def _channel(request: Request) -> WeChatChannel:
    channel = request.app.state.wechat.miniprogram
    if channel is None:
        raise HTTPException(404, detail="未启用小程序客服消息（未配置 WECHAT_TOKEN） / mini-program push not configured")
    return channel


@router.get("/wechat/miniprogram", response_class=PlainTextResponse, include_in_schema=False)
def verify(request: Request) -> str:
    return _channel(request).verify_url(dict(request.query_params))


@router.post("/wechat/miniprogram", response_class=PlainTextResponse, include_in_schema=False)
async def push(request: Request) -> str:
    channel = _channel(request)
    message, _ = await channel.accept(request)
    sender_id = await channel.to_answer(message)
    if sender_id is None:
        return ACK
    outbox_id = channel.outbox.hold(channel.name, sender_id, channel.question(message))
    answer = asyncio.create_task(channel.respond(request.app.state.gateway, request.app.state.services,
                                                 sender_id, message))
    request.app.state.wechat.spawn(channel.deliver(answer, outbox_id, message.source))
    return ACK


class MiniProgramSessions:
    """Our session tokens for signed-in mini-program users (random; only the SHA-256 is stored)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, openid: str) -> str:
        token, now = secrets.token_urlsafe(32), int(time.time())
        with self.db.session() as s:
            s.execute(delete(MiniProgramSession).where(MiniProgramSession.expires_at < now))
            s.add(MiniProgramSession(token_sha256=self._hash(token), openid=openid, expires_at=now + SESSION_TTL_S))
        return token

    def openid(self, token: str) -> str | None:
        """The signed-in user's openid, or None for an unknown or expired token."""
        with self.db.session() as s:
            row = s.get(MiniProgramSession, self._hash(token))
            return row.openid if row and row.expires_at > time.time() else None


def token_owns(request: Request | WebSocket, sender_id: str) -> bool:
    """Whether the caller is the signed-in mini-program user of this conversation: `Authorization: Bearer
    <session token>` whose openid is the `wx-mp:<openid>` conversation's (mini-programs keep no cookies)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token or not sender_id.startswith(SENDER_PREFIX):
        return False
    openid = MiniProgramSessions(request.app.state.services.db).openid(token.strip())
    return openid is not None and sender_id == SENDER_PREFIX + openid


class LoginRequest(BaseModel):
    code: str = Field(min_length=1, max_length=128, pattern=r"^[\w-]+$")


class LoginResponse(BaseModel):
    token: str
    expires_in: int
    sender_id: str


@router.post("/api/v1/miniprogram/login", response_model=LoginResponse)
async def login(req: LoginRequest, request: Request) -> dict:
    api = request.app.state.wechat.miniprogram_api
    if not api.configured:
        raise HTTPException(503, detail="小程序登录未开通（未配置 AppID / AppSecret），请稍后再试。")
    try:
        openid = await api.code_to_openid(req.code)
    except WeChatError as exc:
        if exc.errcode in BAD_CODE:
            raise HTTPException(400, detail="登录凭证无效或已使用，请重新进入小程序后再试。") from exc
        if exc.errcode in RATE_LIMITED:
            raise HTTPException(429, detail="登录请求过于频繁，请稍后再试。") from exc
        raise HTTPException(502, detail=f"微信登录服务返回错误（{exc.errcode}），请稍后再试。") from exc
    except httpx.HTTPError as exc:
        raise HTTPException(503, detail="暂时无法连接微信登录服务，请稍后再试。") from exc
    token = MiniProgramSessions(request.app.state.services.db).start(openid)
    return {"token": token, "expires_in": SESSION_TTL_S, "sender_id": SENDER_PREFIX + openid}
