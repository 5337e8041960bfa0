"""The agents' API (`/api/v1/tickets…`, `/api/v1/handoff/…`), their live WebSocket and the console page.

Agents and admins only: a bearer token (`govbot users add NAME --role agent`) or the sign-in page's session
cookie (writes need the X-CSRF-Token header); the WebSocket takes the session cookie from the same origin."""
from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.auth import SESSION_COOKIE, ApiUser, page_user, require, session_user
from core.hub import relay
from handoff.knowledge import to_knowledge
from handoff.models import CATEGORIES, Ticket, TicketMessage
from handoff.tickets import QUEUE_TOPIC, Desk
from knowledge_base.schema import GuideData
from knowledge_base.workflow import WorkflowError, validation_errors

STATIC = Path(__file__).parent / "static"
AGENT_ROLES = ("agent", "admin")
agent_only = require(*AGENT_ROLES)
router = APIRouter(tags=["hand-off"])
pages = APIRouter()


def _desk(request: Request) -> Desk:
    return request.app.state.services.desk


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).isoformat()


def ticket_out(t: Ticket) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "reason": t.reason, "sender_id": t.sender_id, "channel": t.channel,
            "status": t.status, "category": t.category, "topic": t.topic, "priority": t.priority,
            "skill_group": t.skill_group, "assignee": t.assignee, "callback": t.callback,
            "sla_due_at": _iso(t.sla_due_at), "created_at": _iso(t.created_at), "claimed_at": _iso(t.claimed_at),
            "first_response_at": _iso(t.first_response_at), "closed_at": _iso(t.closed_at),
            "resolution": t.resolution, "related_codes": t.related_codes, "rating": t.rating}


def message_out(m: TicketMessage) -> dict[str, Any]:
    return {"id": m.id, "author": m.author, "agent": m.agent, "text": m.text, "delivery": m.delivery,
            "error": m.error, "at": _iso(m.at)}


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: str = Field(min_length=1, max_length=2000)
    category: Literal["咨询", "投诉", "建议", "求助"]


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str = Field("", max_length=80)
    group: str = Field("", max_length=60)


class KnowledgeBody(BaseModel):
    """Defaults: the citizen's question and the agent's last answer; a new guide unless `code` names one."""
    model_config = ConfigDict(extra="forbid")
    question: str = Field("", max_length=500)
    answer: str = Field("", max_length=4000)
    code: str = Field("", max_length=40)
    title: str = Field("", max_length=60)


class PresenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    online: bool
    skills: list[str] | None = Field(None, max_length=20)


# ---- tickets ------------------------------------------------------------------------------------------
@router.get("/api/v1/tickets")
def list_tickets(request: Request, status: Literal["new", "assigned", "waiting", "resolved", "closed", ""] = "",
                 mine: bool = False, limit: int = Query(200, ge=1, le=500),
                 user: ApiUser = Depends(agent_only)) -> list[dict]:
    """Open tickets by default (new, assigned, waiting), the earliest SLA due first."""
    return [ticket_out(t) for t in _desk(request).list(status, user.name if mine else "", limit)]


@router.get("/api/v1/tickets/{ticket_id}")
def get_ticket(ticket_id: int, request: Request, _: ApiUser = Depends(agent_only)) -> dict:
    """The ticket, the transcript before the hand-off (the bot's decisions and matched items) and the human
    part since (citizen, agent, system lines and internal notes)."""
    desk = _desk(request)
    ticket = desk.get(ticket_id)
    return {**ticket_out(ticket), "contact": ticket.contact, "content": ticket.content,
            "transcript": ticket.transcript, "messages": [message_out(m) for m in desk.messages(ticket_id)]}


@router.post("/api/v1/tickets/next")
def claim_next(request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    ticket = _desk(request).claim_next(user.name)
    if ticket is None:
        raise HTTPException(404, detail="队列中没有待接工单 / the queue is empty")
    return ticket_out(ticket)


@router.post("/api/v1/tickets/{ticket_id}/claim")
def claim(ticket_id: int, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    return ticket_out(_desk(request).claim(ticket_id, user.name))


@router.post("/api/v1/tickets/{ticket_id}/messages")
async def reply(ticket_id: int, body: TextBody, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    """Sent through the citizen's channel; `delivery` is `failed` (with `error`) when it could not be."""
    return message_out(await _desk(request).reply(ticket_id, user.name, body.text.strip()))


@router.post("/api/v1/tickets/{ticket_id}/notes")
def note(ticket_id: int, body: TextBody, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    return message_out(_desk(request).note(ticket_id, user.name, body.text.strip()))


@router.post("/api/v1/tickets/{ticket_id}/close")
async def close(ticket_id: int, body: CloseBody, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    return ticket_out(await _desk(request).close(ticket_id, user.name, body.resolution.strip(), body.category))


@router.post("/api/v1/tickets/{ticket_id}/handback")
def hand_back(ticket_id: int, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    return ticket_out(_desk(request).hand_back(ticket_id, user.name))


@router.post("/api/v1/tickets/{ticket_id}/reopen")
def reopen(ticket_id: int, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    return ticket_out(_desk(request).reopen(ticket_id, user.name))


@router.post("/api/v1/tickets/{ticket_id}/transfer")
def transfer(ticket_id: int, body: TransferBody, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    return ticket_out(_desk(request).transfer(ticket_id, user.name, body.agent.strip(), body.group.strip()))


@router.post("/api/v1/tickets/{ticket_id}/knowledge")
def turn_into_knowledge(ticket_id: int, body: KnowledgeBody, request: Request,
                        user: ApiUser = Depends(agent_only)) -> dict:
    """A draft FAQ from the citizen's question and the agent's answer, queued for the reviewers."""
    desk = _desk(request)
    try:
        ticket = desk.get(ticket_id)
        drafted = to_knowledge(desk.kb, ticket, desk.messages(ticket_id), user.name, body.question, body.answer,
                               body.code.strip().upper(), body.title.strip())
    except WorkflowError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc
    except ValidationError as exc:
        raise HTTPException(422, detail=validation_errors(exc)) from exc
    desk.relate(ticket_id, drafted.code)
    return {"code": drafted.code, "title": drafted.title, "status": drafted.status, "question": drafted.question,
            "answer": drafted.answer}


# ---- the desk -----------------------------------------------------------------------------------------
@router.get("/api/v1/handoff/summary")
def summary(request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    """Queue counts, working hours, canned replies, categories; and who is asking."""
    desk = _desk(request)
    config = desk.config
    return {"me": {"name": user.name, "role": user.role}, "counts": desk.counts(), "hours": config.hours_text(),
            "open_now": config.is_open(desk.clock()), "canned_replies": list(config.canned_replies),
            "categories": list(CATEGORIES)}


@router.post("/api/v1/handoff/presence")
def presence(body: PresenceBody, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    """Online (with skill groups), or offline: the agent's open tickets go back to the queue."""
    desk = _desk(request)
    if body.online:
        desk.heartbeat(user.name, body.skills)
        return {"online": True, "released": []}
    return {"online": False, "released": desk.offline(user.name)}


@router.get("/api/v1/handoff/conversations")
def live_conversations(request: Request, _: ApiUser = Depends(agent_only)) -> list[dict]:
    """Conversations the bot is handling now (active in the last 30 minutes), for an agent to pick up."""
    return [{"sender_id": c.sender_id, "channel": c.channel, "last_active_at": _iso(c.last_active_at)}
            for c in _desk(request).live_conversations()]


@router.post("/api/v1/handoff/conversations/{sender_id}/takeover")
def take_over(sender_id: str, request: Request, user: ApiUser = Depends(agent_only)) -> dict:
    services = request.app.state.services
    return ticket_out(_desk(request).take_over(sender_id, user.name, services.conversations.transcript(sender_id)))


@router.get("/api/v1/handoff/kb")
def kb_answers(request: Request, q: str = Query(min_length=1, max_length=200),
               _: ApiUser = Depends(agent_only)) -> list[dict]:
    """What the knowledge base says about `q` (the best three live items), to insert into a reply."""
    services = request.app.state.services
    found = []
    for match in services.retriever.search(q).offered[:3]:
        guide = services.kb.live_guide(match.code)
        if guide is not None:
            found.append({"code": guide.code, "title": guide.title, "text": guide_summary(guide, match.passage)})
    return found


def guide_summary(g: GuideData, passage: str = "") -> str:
    """The FAQ answer the passage belongs to, else the guide's essentials, as a reply an agent can send."""
    for faq in g.faqs:
        if passage and passage in (faq.question, *faq.similar_questions):
            return f"【{g.title}】{faq.answer}"
    parts = [("办理材料", "、".join(m.name for m in g.materials)), ("收费", g.fee), ("办理地点", g.location),
             ("办理时间", g.office_hours), ("咨询电话", g.phone)]
    return f"【{g.title}】" + "；".join(f"{k}：{v}" for k, v in parts if v) + "。"


# ---- live ---------------------------------------------------------------------------------------------
def same_origin(ws: WebSocket) -> bool:
    """A browser's WebSocket handshake names its page's origin: only our own pages may open one."""
    origin = ws.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == ws.headers.get("host", "")



@router.websocket("/api/v1/handoff/ws")
async def console_socket(ws: WebSocket) -> None:
    """Queue changes and citizens' messages for the console; the console's pings keep the agent online."""
    services = ws.app.state.services
    secret = ws.cookies.get(SESSION_COOKIE)
    user = await run_in_threadpool(session_user, services.db, secret) if secret else None
    if user is None or user.role not in AGENT_ROLES or not same_origin(ws):
        await ws.close(code=4401)
        return
    desk: Desk = services.desk
    await ws.accept()
    await run_in_threadpool(desk.heartbeat, user.name)
    async with desk.hub.subscribe(QUEUE_TOPIC) as queue:
        await ws.send_json({"type": "hello", "agent": user.name})

        async def pings() -> None:
            while True:
                await ws.receive_text()
                await run_in_threadpool(desk.heartbeat, user.name)

        with contextlib.suppress(WebSocketDisconnect):
            await relay(queue, ws.send_json, pings())


# ---- the page -----------------------------------------------------------------------------------------
@pages.get("/console", response_class=HTMLResponse, include_in_schema=False)
def console_page(request: Request) -> Response:
    if page_user(request) is None:
        return RedirectResponse("/login?next=/console", status_code=303)
    return HTMLResponse((STATIC / "console.html").read_text(encoding="utf-8"))

