"""The WeChat server API we call (access_token, customer-service send, jscode2session) and the outbox that
keeps every answer sent that way, with staff's view of it (`GET /api/v1/channels/outbox`)."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from connectors.models import AccessToken, OutboxMessage
from core.auth import require
from core.clock import utcnow
from core.db import Database
from core.masking import mask_personal_data

TOKEN_REFRESH_MARGIN_S = 300  # refresh this long before WeChat's expiry (old tokens stay valid 5 min anyway)
TOKEN_REJECTED = {40001, 40014, 42001}  # invalid / malformed / expired access_token: refresh once, retry


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode (ours: -1 when the app is not configured)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class WeChatApi:
    """One WeChat app (official account or mini-program): its access_token and the calls we make with it."""

    def __init__(self, db: Database, http: httpx.AsyncClient, api_base: str, appid: str, secret: str) -> None:
        self.db, self.http = db, http
        self.api_base, self.appid, self.secret = api_base.rstrip("/"), appid, secret
        self._token, self._expires_at = "", 0
        self._refresh = asyncio.Lock()  # one refresh at a time; the others wait and reuse its token

    @property
    def configured(self) -> bool:
        return bool(self.appid and self.secret)

    async def _get(self, path: str, **params: str) -> dict:
        resp = await self.http.get(f"{self.api_base}{path}", params=params)
        resp.raise_for_status()
        data = resp.json()
        if data.get("errcode"):
            raise WeChatError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    def _usable(self, expires_at: int) -> bool:
        return expires_at - time.time() > TOKEN_REFRESH_MARGIN_S

    async def access_token(self, rejected: str = "") -> str:
        """A valid token from this process, else from the database (another replica's), else from WeChat.
        `rejected` is a token WeChat just refused: it is not reused."""
        if not self.configured:
            raise WeChatError(-1, "WECHAT_APPID / WECHAT_APPSECRET 未配置 / not configured")
        if self._token and self._token != rejected and self._usable(self._expires_at):
            return self._token
        async with self._refresh:
            with self.db.session() as s:
                shared = s.get(AccessToken, self.appid)
                if shared and shared.token != rejected and self._usable(shared.expires_at):
                    self._token, self._expires_at = shared.token, shared.expires_at
                    return self._token
            data = await self._get("/cgi-bin/token", grant_type="client_credential", appid=self.appid,
                                   secret=self.secret)
            self._token, self._expires_at = data["access_token"], int(time.time()) + int(data["expires_in"])
            with self.db.session() as s:
                row = s.get(AccessToken, self.appid) or AccessToken(appid=self.appid)
                row.token, row.expires_at = self._token, self._expires_at
                s.add(row)
            return self._token

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (allowed within 48 h of the citizen's last message, 5 at most)."""
        body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
        token = await self.access_token()
        for attempt in (1, 2):
            resp = await self.http.post(f"{self.api_base}/cgi-bin/message/custom/send",
                                        params={"access_token": token}, content=body.encode(),
                                        headers={"Content-Type": "application/json; charset=utf-8"})
            resp.raise_for_status()
            data = resp.json()
            errcode = int(data.get("errcode", 0))
            if errcode in TOKEN_REJECTED and attempt == 1:
                token = await self.access_token(rejected=token)
                continue
            if errcode:
                raise WeChatError(errcode, str(data.get("errmsg", "")))
            return

    async def code_to_openid(self, code: str) -> str:
        """The mini-program's wx.login code exchanged for the user's openid (the session_key is not kept)."""
        if not self.configured:
            raise WeChatError(-1, "小程序 AppID / AppSecret 未配置 / not configured")
        data = await self._get("/sns/jscode2session", appid=self.appid, secret=self.secret, js_code=code,
                               grant_type="authorization_code")
        return str(data["openid"])


class Outbox:
    """Answers that go out through the customer-service API, held before the push is acknowledged."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def hold(self, channel: str, sender_id: str, question: str) -> int:
        with self.db.session() as s:
            row = OutboxMessage(channel=channel, sender_id=sender_id, question=mask_personal_data(question))
            s.add(row)
            s.flush()
            return row.id

    def settle(self, outbox_id: int, text: str, error: WeChatError | None = None) -> None:
        with self.db.session() as s:
            row = s.get_one(OutboxMessage, outbox_id)
            row.text, row.updated_at = mask_personal_data(text), utcnow()
            row.status = "failed" if error else "sent"
            row.errcode, row.error = (error.errcode, error.errmsg[:200]) if error else (0, "")

    def list(self, status: str = "", limit: int = 100) -> list[OutboxMessage]:
        with self.db.session() as s:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
            if status:
                stmt = stmt.where(OutboxMessage.status == status)
            return list(s.scalars(stmt))


router = APIRouter()


@router.get("/api/v1/channels/outbox", dependencies=[Depends(require("admin", "agent"))])
def outbox(request: Request, status: Literal["pending", "sent", "failed", ""] = "",
           limit: int = Query(100, ge=1, le=500)) -> list[dict]:
    """Answers sent (or not) through WeChat's customer-service API, newest first: staff follow up the failed."""
    rows = Outbox(request.app.state.services.db).list(status, limit)
    return [{"id": r.id, "channel": r.channel, "sender_id": r.sender_id, "question": r.question, "text": r.text,
             "status": r.status, "errcode": r.errcode, "error": r.error, "created_at": r.created_at.isoformat(),
             "updated_at": r.updated_at.isoformat()} for r in rows]
