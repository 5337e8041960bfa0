"""For operations: liveness (`/livez`: the process answers), readiness (`/readyz`: the database answers and the
index is loaded; Rasa's state is reported), Prometheus metrics (`/metrics`), the turns metered, and a watch on
the Rasa server that keeps the degraded-mode flag and logs each change."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from bot.rasa_client import RasaClient
from core import metrics

log = logging.getLogger("govbot.ops")
RASA_CHECK_S = 5.0
router = APIRouter(include_in_schema=False)


@router.get("/livez")
async def livez() -> dict:
    return {"status": "alive"}


def _database_answers(svc: Any) -> bool:
    try:
        with svc.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means not ready; the reason is logged
        log.exception("readiness: the database does not answer")
        return False


@router.get("/readyz")
async def readyz(request: Request, response: Response) -> dict:
    """503 until this replica can serve: database reachable, knowledge base indexed. Rasa being down does not
    make a replica unready (editors, agents and the degraded answers go on); it is reported."""
    svc = request.app.state.services
    database = await run_in_threadpool(_database_answers, svc)
    items = len(svc.retriever)
    ready = database and items > 0
    response.status_code = 200 if ready else 503
    return {"status": "ready" if ready else "not ready", "database": database, "items": items,
            "degraded": metrics.is_degraded()}


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    counts = await run_in_threadpool(request.app.state.services.desk.counts)
    metrics.AGENTS_ONLINE.set(counts.pop("agents_online", 0))
    for status, count in counts.items():
        metrics.HANDOFF_TICKETS.labels(status).set(count)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


def meter_turns(gateway: Any) -> None:
    """Every citizen message through `gateway.handle` (all channels) counted by decision and timed."""
    handle = gateway.handle

    async def metered(sender_id: str, text_: str, channel: str) -> dict:
        t0 = time.perf_counter()
        try:
            result = await handle(sender_id, text_, channel)
        finally:
            metrics.TURN_SECONDS.labels(channel).observe(time.perf_counter() - t0)
        decision = result.get("decision", "dialogue")
        if result.get("degraded"):
            _set_degraded(True)
            decision = f"degraded_{decision}"
        metrics.TURNS.labels(channel, decision).inc()
        return result

    gateway.handle = metered


def _set_degraded(degraded: bool) -> None:
    if metrics.set_degraded(degraded):
        log.warning("Rasa is unreachable: degraded mode" if degraded else "Rasa answers again: full service")


async def watch_rasa(rasa: Callable[[], RasaClient], every: float = RASA_CHECK_S) -> None:
    """Runs for the app's lifetime: checks the gateway's Rasa every few seconds and keeps the degraded flag."""
    while True:
        _set_degraded(not await rasa().ready())
        await asyncio.sleep(every)
