"""The citizen chat API (`POST /api/v1/chat`) and the web chat page."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, field_validator

from bot.rasa_client import RasaUnavailable
from retrieval.normalize import strip_zero_width

STATIC = Path(__file__).parent / "static"
router = APIRouter()


class ChatRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=120, pattern=r"^[\w.:@-]+$")
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


@router.post("/api/v1/chat", response_model=ChatResponse, response_model_exclude_none=True)
async def chat(req: ChatRequest, request: Request) -> dict:
    try:
        return await request.app.state.gateway.handle(req.sender_id, req.message, req.channel)
    except RasaUnavailable as exc:
        raise HTTPException(503, detail="对话服务暂时不可用，请稍后再试或拨打12345热线。") from exc


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> str:
    return (STATIC / "chat.html").read_text(encoding="utf-8")
