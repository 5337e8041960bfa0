"""The action-server webhook Rasa calls (`endpoints.yml`: action_endpoint → /rasa/webhook?token=…).

Only Rasa may call it: the token Rasa sends (GOVBOT_ACTION_TOKEN, `Settings.action_token`) is checked in
constant time before the body is even read; then the payload's shape (`ActionCall`), then the action."""
from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from bot.actions import answering, forms, handoff, safety  # noqa: F401  (registers the actions)
from bot.actions.answering import HUMAN_BUTTON
from bot.actions.protocol import ACTIONS, ActionCall, Reply, Tracker
from core import metrics

log = logging.getLogger("govbot.actions")
router = APIRouter()
ACTION_FAILED = "抱歉，系统处理您的请求时出了点问题，您刚才说的内容已记录。您可以稍后再试一次，或点“转人工服务”由工作人员帮您办理。"


def _check_token(request: Request, expected: str) -> None:
    given = request.query_params.get("token")
    if not given:
        log.warning("action webhook: call without a token from %s", request.client and request.client.host)
        raise HTTPException(401, detail="缺少访问令牌（token）")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("action webhook: wrong token from %s", request.client and request.client.host)
        raise HTTPException(403, detail="访问令牌无效")


def _parse(body: bytes) -> ActionCall:
    """The payload, or the same 422 FastAPI gives for any bad request body (connectors/errors.py words it)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        where = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", where), "msg": "JSON decode error",
                                       "ctx": {"error": getattr(exc, "msg", str(exc))}}], body=body) from None
    try:
        return ActionCall.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors], body=data) from None


@router.post("/rasa/webhook", include_in_schema=False)
async def run_action(request: Request) -> dict[str, Any]:
    services = request.app.state.services
    _check_token(request, services.settings.action_token)
    call = _parse(await request.body())
    fn = ACTIONS.get(call.next_action)
    if fn is None:
        # Rasa's documented answer for an action this server does not know
        raise HTTPException(404, detail={"error": f"No registered action found for name '{call.next_action}'.",
                                         "action_name": call.next_action})
    tracker = Tracker(call)
    try:
        reply = await run_in_threadpool(fn, tracker, services)
    except Exception:  # noqa: BLE001 - a broken action must still leave the citizen a way forward
        log.exception("action %s failed", call.next_action)
        metrics.ACTION_ERRORS.labels(call.next_action).inc()
        reply = Reply().say(ACTION_FAILED, [HUMAN_BUTTON]).meta(decision="dialogue", matches=[])
    if tracker.intent:  # for the turn log (the gateway reads it from the turn's metadata)
        reply.meta(intent=tracker.intent)
    return reply.as_json()
