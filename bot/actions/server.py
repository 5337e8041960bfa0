"""The action-server webhook Rasa calls (`endpoints.yml`: action_endpoint → /rasa/webhook)."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from bot.actions import answering, forms, handoff  # noqa: F401  (registers the actions)
from bot.actions.protocol import ACTIONS, Tracker

log = logging.getLogger("govbot.actions")
router = APIRouter()


@router.post("/rasa/webhook", include_in_schema=False)
def run_action(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    name = payload.get("next_action", "")
    fn = ACTIONS.get(name)
    if fn is None:
        # Rasa's documented answer for an action this server does not know
        raise HTTPException(404, detail={"error": f"No registered action found for name '{name}'.",
                                         "action_name": name})
    tracker = Tracker({**payload.get("tracker", {}), "sender_id": payload.get("sender_id", "")})
    return fn(tracker, request.app.state.services).as_json()
