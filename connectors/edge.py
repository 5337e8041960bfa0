"""The edge between the outside world and the app: every request passes these ASGI middlewares, outermost first:
request id (core.logs) → HTTP metrics → CORS (from GOVBOT_CORS_ORIGINS) → security headers → body size limit
(413) → rate limits on citizen endpoints (429). Refusals are JSON with a `detail` in Chinese, like every error."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.security_headers import SecurityHeaders
from core import metrics
from core.logs import RequestId
from core.settings import Settings

log = logging.getLogger("govbot.edge")
IMPORT_PATH = "/api/v1/kb/import"
MULTIPART_ALLOWANCE = 1024 * 1024  # form fields and boundaries around an uploaded file
TOO_LARGE = "请求内容过大，请精简后再试。 / request body too large"
TOO_MANY = "您发送得太频繁了，请稍等一分钟再试；急事请拨打12345热线。"
WINDOW_S = 60


def install(app: FastAPI, settings: Settings) -> None:
    """The whole middleware stack, in one place (Starlette runs the last added outermost)."""
    app.add_middleware(RateLimit, limiter=Limiter(settings.redis_url), per_sender=settings.rate_per_sender,
                       per_ip=settings.rate_per_ip)
    app.add_middleware(BodyLimit, default=settings.max_request_bytes,
                       imports=settings.import_max_bytes + MULTIPART_ALLOWANCE)
    app.add_middleware(SecurityHeaders, chat_frame_ancestors=settings.chat_frame_ancestors)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=True,
                           allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-Id"])
    app.add_middleware(HttpMetrics)
    app.add_middleware(RequestId)


async def _refuse(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past `limit`."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app, then whatever comes next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodyLimit:
    """413 for a body over the limit: from Content-Length at once; a chunked body is read up to the limit."""

    def __init__(self, app: ASGIApp, default: int, imports: int) -> None:
        self.app, self.default, self.imports = app, default, imports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.imports if scope["path"] == IMPORT_PATH else self.default
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                metrics.TOO_LARGE.inc()
                await _refuse(send, 413, TOO_LARGE)
                return
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, limit)
        if body is None:
            metrics.TOO_LARGE.inc()
            await _refuse(send, 413, TOO_LARGE)
            return
        await self.app(scope, _replay(body, receive), send)


class Limiter:
    """Fixed one-minute windows per key: in Redis when configured (every replica counts together), else in this
    process. A Redis failure lets the request through (logged): limits protect the service, never block it."""

    def __init__(self, redis_url: str = "") -> None:
        self._redis = aioredis.from_url(redis_url, socket_timeout=0.5) if redis_url else None
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    async def hit(self, key: str, now: float | None = None) -> int:
        """Counts one request for `key` in the current window; returns the count so far."""
        window = int((now if now is not None else time.time()) // WINDOW_S)
        if self._redis is not None:
            try:
                name = f"govbot:ratelimit:{key}:{window}"
                async with self._redis.pipeline(transaction=True) as pipe:
                    count, _ = await pipe.incr(name).expire(name, WINDOW_S * 2).execute()
                return int(count)
            except aioredis.RedisError:
                log.warning("rate limit: Redis unreachable; this request is not counted")
                return 0
        with self._lock:
            if len(self._counts) > 100_000:  # drop past windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            count = self._counts[(key, window)] = self._counts.get((key, window), 0) + 1
        return count


@dataclass(frozen=True)
class _Keys:
    sender: str = ""
    ip: str = ""


def _chat_keys(scope: Scope, body: bytes) -> _Keys:
    try:
        sender = json.loads(body).get("sender_id", "")
    except (ValueError, AttributeError):
        sender = ""
    return _Keys(sender=sender if isinstance(sender, str) else "", ip=_client_ip(scope))


def _wechat_keys(scope: Scope, body: bytes) -> _Keys:
    """WeChat's servers push every citizen's messages from a few addresses: per openid only."""
    from urllib.parse import parse_qs

    openid = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("openid", [""])[0]
    return _Keys(sender=f"wx:{openid}" if openid else "")


def _miniprogram_keys(scope: Scope, body: bytes) -> _Keys:
    return _Keys(ip=_client_ip(scope))


def _client_ip(scope: Scope) -> str:
    """The citizen's address: uvicorn puts X-Forwarded-For's client here when the proxy is trusted
    (FORWARDED_ALLOW_IPS; nginx on loopback by default)."""
    client = scope.get("client")
    return client[0] if client else ""


def _citizen_keys(scope: Scope) -> Callable[[Scope, bytes], _Keys] | None:
    if scope["method"] != "POST":
        return None
    path = scope["path"]
    if path == "/api/v1/chat":
        return _chat_keys
    if path.startswith("/wechat/"):
        return _wechat_keys
    if path.startswith("/api/v1/miniprogram/"):
        return _miniprogram_keys
    return None


class RateLimit:
    """429 (with Retry-After) when a sender or a client address sends more citizen messages per minute than
    allowed (GOVBOT_RATE_PER_SENDER, GOVBOT_RATE_PER_IP)."""

    def __init__(self, app: ASGIApp, limiter: Limiter, per_sender: int, per_ip: int) -> None:
        self.app, self.limiter, self.per_sender, self.per_ip = app, limiter, per_sender, per_ip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keys_of = _citizen_keys(scope) if scope["type"] == "http" else None
        if keys_of is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, 1 << 30) or b""  # BodyLimit, outside, already bounded it
        keys = keys_of(scope, body)
        for limit_name, key, limit in (("sender", keys.sender, self.per_sender), ("ip", keys.ip, self.per_ip)):
            if key and await self.limiter.hit(f"{limit_name}:{key}") > limit:
                metrics.RATE_LIMITED.labels(limit_name).inc()
                log.warning("rate limit: %s over %d per minute", limit_name, limit)
                await _refuse(send, 429, TOO_MANY, [(b"retry-after", str(WINDOW_S).encode())])
                return
        await self.app(scope, _replay(body, receive), send)


class HttpMetrics:
    """Counts requests by method, route template (not the raw path: no ids in label values) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, t0 = 500, time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_observed)
        finally:
            metrics.IN_FLIGHT.dec()
            route = getattr(scope.get("route"), "path", None) or ("/static" if scope["path"].startswith("/static/")
                                                                   else "unmatched")
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_SECONDS.labels(route).observe(time.perf_counter() - t0)

