"""The citizen chat API (`POST /api/v1/chat`), the conversation read back and heard live (agent messages
over a WebSocket), the rating of the human service, and the web chat page.

The chat API sets an HttpOnly cookie on a conversation's first message; only the browser holding it may read
that conversation (`GET /api/v1/conversations/{sender_id}/messages`), listen to it (`…/ws`) or rate it."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.wechat_channel import hot_questions
from connectors.wechat_miniprogram import SENDER_PREFIX, token_owns
from core.hub import relay
from handoff.api import same_origin
from handoff.delivery import conversation_topic
from handoff.tickets import HandoffError
from retrieval.normalize import strip_zero_width

STATIC = Path(__file__).parent / "static"
CHAT_COOKIE = "govbot_chat"
SENDER_PATTERN = r"^[\w.:@-]+$"
OFFICIAL_ACCOUNT_PREFIX = "wx-oa:"  # an official-account citizen's conversation: only WeChat's signed pushes post
router = APIRouter()


class ChatRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=120, pattern=SENDER_PATTERN)
    message: str = Field(min_length=1, max_length=500)
    channel: Literal["web", "miniprogram", "wechat", "api"] = "web"

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not strip_zero_width(v).strip():
            raise ValueError("消息不能为空")
        return v.strip()


class Button(BaseModel):
    title: str
    payload: str


class Message(BaseModel):
    text: str
    buttons: list[Button] | None = None


class MatchOut(BaseModel):
    code: str
    title: str
    score: float


class ChatResponse(BaseModel):
    sender_id: str
    messages: list[Message]
    decision: Literal["answer", "clarify", "handoff", "dialogue"]
    matches: list[MatchOut]
    mode: Literal["bot", "human"]
    topic: str | None = None  # the safety topic the message was on (then decision handoff or dialogue)
    degraded: bool = False  # the dialogue service was unreachable: the knowledge base answered alone


@router.post("/api/v1/chat", response_model=ChatResponse, response_model_exclude_none=True)
async def chat(req: ChatRequest, request: Request, response: Response) -> dict:
    if req.sender_id.startswith(OFFICIAL_ACCOUNT_PREFIX):
        raise HTTPException(403, detail="该会话属于微信公众号，请在公众号中继续咨询。")
    if req.sender_id.startswith(SENDER_PREFIX) and not await run_in_threadpool(token_owns, request, req.sender_id):
        raise HTTPException(401, detail="请先在小程序中登录后再发送消息。")
    conversations = request.app.state.services.conversations
    secret = await run_in_threadpool(conversations.start_session, req.sender_id, req.channel)
    if secret is not None:  # the conversation's first message: this browser owns it
        # Over https the chat may sit in the widget's iframe on a city page of another site: the cookie must
        # then go cross-site (SameSite=None, Secure); plain http is local use and stays Strict.
        https = request.url.scheme == "https"
        response.set_cookie(CHAT_COOKIE, secret, path="/api/v1/", httponly=True, secure=https,
                            samesite="none" if https else "strict")
    said = await request.app.state.gateway.handle(req.sender_id, req.message, req.channel)
    if said["decision"] == "safety":  # the contract's decisions; `topic` tells it was the safety policy's answer
        said = {**said, "decision": "handoff" if said["mode"] == "human" else "dialogue"}
    return said


def _owner(request: Request | WebSocket, sender_id: str) -> str | None:
    """How the caller proves the conversation is theirs: its browser's cookie, or the signed-in mini-program
    user's bearer token; None when it cannot."""
    if token_owns(request, sender_id):
        return "token"
    if request.app.state.services.conversations.owned_by(sender_id, request.cookies.get(CHAT_COOKIE)):
        return "cookie"
    return None


NOT_YOURS = "只能查看本浏览器发起的对话 / only the browser that started this conversation may read it"


@router.get("/api/v1/conversations/{sender_id}/messages")
def conversation_messages(sender_id: str, request: Request) -> dict:
    """The conversation so far (citizen, bot, agents, hand-off notices), for its own browser session only."""
    if not _owner(request, sender_id):
        raise HTTPException(403, detail=NOT_YOURS)
    conversations = request.app.state.services.conversations
    return {"sender_id": sender_id, "mode": conversations.mode(sender_id),
            "messages": conversations.history(sender_id)}


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: Literal["satisfied", "unsatisfied"]


@router.post("/api/v1/conversations/{sender_id}/rating")
def rate_human_service(sender_id: str, body: RatingRequest, request: Request) -> dict:
    """The citizen's rating of the human service they just had."""
    if not _owner(request, sender_id):
        raise HTTPException(403, detail=NOT_YOURS)
    try:
        ticket = request.app.state.services.desk.rate(sender_id, body.rating)
    except HandoffError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc
    return {"ticket": ticket.id, "rating": ticket.rating}


@router.websocket("/api/v1/conversations/{sender_id}/ws")
async def conversation_socket(ws: WebSocket, sender_id: str) -> None:
    """Agent messages and hand-off notices for this conversation, live."""
    owner = await run_in_threadpool(_owner, ws, sender_id)
    if owner is None or (owner == "cookie" and not same_origin(ws)):  # a bearer token is no ambient credential
        await ws.close(code=4403)
        return
    await ws.accept()
    async with ws.app.state.services.hub.subscribe(conversation_topic(sender_id)) as queue:
        with contextlib.suppress(WebSocketDisconnect):  # the page sends nothing: reading notices it leaving
            await relay(queue, ws.send_json, ws.receive_text())


@router.get("/api/v1/hot-questions")
def hot(request: Request) -> dict:
    """What citizens ask most lately, for the chips on an empty chat."""
    return {"questions": hot_questions(request.app.state.services)}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> str:
    return (STATIC / "chat.html").read_text(encoding="utf-8")
