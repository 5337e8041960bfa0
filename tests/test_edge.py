"""The edge: rate limits (in-process and shared through Redis), body size limits, CORS from config, request ids
in responses and JSON logs, Prometheus metrics, liveness and readiness."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from bot.rasa_client import BotTurn
from connectors.edge import Limiter
from core.logs import REQUEST_ID, JsonFormatter, MaskingFilter
from govbot.app import create_app
from tests.conftest import make_services, need_service

REDIS = "redis://127.0.0.1:6379/0"


class _AnsweringRasa:
    async def send(self, sender_id: str, message: str, channel: str) -> BotTurn:
        return BotTurn(messages=[{"text": "好的"}], meta={"decision": "answer", "matches": []})

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def client(tmp_path_factory, encoder):
    svc = make_services(tmp_path_factory.mktemp("edge"), encoder)
    settings = dataclasses.replace(svc.settings, rate_per_sender=3, rate_per_ip=5, max_request_bytes=2048,
                                   cors_origins=("https://portal.example.gov.cn",), redis_url="")
    with TestClient(create_app(settings, svc)) as c:
        c.app.state.gateway.rasa = _AnsweringRasa()
        yield c


def chat(client, sender: str, ip: str = "10.0.0.1", message: str = "护照怎么办"):
    """A citizen at address `ip` (a client of the running app; uvicorn sets this from a trusted proxy's
    X-Forwarded-For)."""
    return TestClient(client.app, client=(ip, 50000)).post("/api/v1/chat", json={"sender_id": sender,
                                                                                 "message": message})


def test_a_sender_over_its_limit_gets_a_friendly_429_others_go_on(client):
    assert [chat(client, "rl-1", ip=f"10.1.0.{i}").status_code for i in range(3)] == [200, 200, 200]
    refused = chat(client, "rl-1", ip="10.1.0.9")
    assert refused.status_code == 429 and "太频繁" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "60" and refused.headers["x-content-type-options"] == "nosniff"
    assert chat(client, "rl-2", ip="10.1.0.10").status_code == 200


def test_one_address_over_its_limit_gets_429_whatever_the_sender(client):
    codes = [chat(client, f"ip-{i}", ip="10.3.0.1").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    assert chat(client, "ip-9", ip="10.3.0.2").status_code == 200


def test_bodies_over_the_limit_get_413_in_chinese(client):
    big = client.post("/api/v1/kb/guides", content=b"x" * 4096, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "过大" in big.json()["detail"]

    def chunks():
        for _ in range(8):
            yield b"y" * 512

    chunked = client.post("/api/v1/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413


def test_cors_only_for_the_configured_origins(client):
    allowed = client.options("/api/v1/chat", headers={"Origin": "https://portal.example.gov.cn",
                                                      "Access-Control-Request-Method": "POST"})
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example.gov.cn"
    other = client.options("/api/v1/chat", headers={"Origin": "https://evil.example.com",
                                                    "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers


def test_request_ids_are_kept_when_sane_and_made_otherwise(client):
    assert client.get("/livez", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/livez", headers={"X-Request-Id": "bad id\u0000" * 20}).headers["x-request-id"]
    assert len(made) == 32 and made != "abc-123"


def test_json_log_lines_carry_the_request_id_and_stay_masked():
    record = logging.LogRecord("govbot.test", logging.WARNING, __file__, 1, "citizen %s called", ("13812345678",),
                               None)
    MaskingFilter().filter(record)
    token = REQUEST_ID.set("req-42")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "req-42" and line["level"] == "WARNING" and line["logger"] == "govbot.test"
    assert "13812345678" not in line["message"] and "citizen" in line["message"]


def test_metrics_count_turns_by_decision_and_requests_by_route(client):
    before = client.get("/metrics").text
    assert chat(client, "m-1", ip="10.2.0.1").status_code == 200
    after = client.get("/metrics").text

    def value(text: str, series: str) -> float:
        return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series)), 0.0)

    turns = 'govbot_turns_total{channel="web",decision="answer"}'
    assert value(after, turns) == value(before, turns) + 1
    assert value(after, 'govbot_http_requests_total{method="POST",route="/api/v1/chat",status="200"}') >= 1
    assert "govbot_turn_seconds_bucket" in after and "govbot_degraded" in after
    assert 'govbot_handoff_tickets{status="new"} 0.0' in after and "govbot_handoff_agents_online 0.0" in after


def test_liveness_and_readiness(client):
    assert client.get("/livez").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] is True and ready.json()["items"] == 80


def test_the_redis_limiter_counts_across_replicas():
    import redis

    try:
        up = redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.RedisError:
        up = False
    need_service(up, "Redis at 127.0.0.1:6379")
    key = f"test:{uuid.uuid4().hex}"

    async def run() -> list[int]:
        a, b = Limiter(REDIS), Limiter(REDIS)
        return [await a.hit(key, now=120.0), await b.hit(key, now=130.0), await a.hit(key, now=170.0),
                await b.hit(key, now=180.0)]  # 180 s starts a new one-minute window

    assert asyncio.run(run()) == [1, 2, 3, 1]


def test_the_in_process_limiter_starts_each_minute_afresh():
    async def run() -> list[int]:
        limiter = Limiter("")
        return [await limiter.hit("k", now=0.0), await limiter.hit("k", now=59.0), await limiter.hit("k", now=60.0)]

    assert asyncio.run(run()) == [1, 2, 1]
