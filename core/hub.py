"""Live messages between the parts of the app: a small publish/subscribe hub.

`publish(topic, event)` may be called from any thread (actions run in a thread pool); subscribers are asyncio
queues on the event loop that serves their WebSocket. In-process by default; with REDIS_URL every publish goes
through Redis pub/sub, so a WebSocket on one replica hears what another replica published."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis
import redis.asyncio as aioredis

log = logging.getLogger("govbot.hub")
CHANNEL_PREFIX = "govbot:hub:"
QUEUE_LIMIT = 200  # a subscriber this far behind loses the oldest events rather than the server's memory


class Hub:
    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = {}
        self._lock = threading.Lock()
        self._publisher = redis.Redis.from_url(redis_url) if redis_url else None
        self._listener: asyncio.Task | None = None

    # ---- publishing ---------------------------------------------------------------------------------
    def publish(self, topic: str, event: dict[str, Any]) -> None:
        if self._publisher is not None:
            try:
                self._publisher.publish(CHANNEL_PREFIX + topic, json.dumps(event, ensure_ascii=False))
                return
            except redis.RedisError:
                log.exception("hub: Redis publish failed; delivering in this process only")
        self._deliver(topic, event)

    def _deliver(self, topic: str, event: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.get(topic, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_put, queue, event)
            except RuntimeError:  # that loop has closed
                pass

    # ---- subscribing --------------------------------------------------------------------------------
    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[asyncio.Queue]:
        """A queue receiving every event published on `topics` while the context is open."""
        entry = (asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            for topic in topics:
                self._subscribers.setdefault(topic, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                for topic in topics:
                    subs = self._subscribers.get(topic)
                    if subs is not None:
                        subs.discard(entry)
                        if not subs:
                            del self._subscribers[topic]

    # ---- Redis --------------------------------------------------------------------------------------
    async def start(self) -> None:
        """With Redis: listen to every replica's publishes (returns once the subscription is in place)."""
        if not self.redis_url or self._listener is not None:
            return
        client = aioredis.from_url(self.redis_url)
        pubsub = client.pubsub()
        await pubsub.psubscribe(CHANNEL_PREFIX + "*")
        await pubsub.get_message(timeout=5)  # Redis confirms the subscription: from now on nothing is missed
        self._listener = asyncio.create_task(self._listen(client, pubsub))

    async def _listen(self, client: aioredis.Redis, pubsub: Any) -> None:
        try:
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                topic = message["channel"].decode().removeprefix(CHANNEL_PREFIX)
                self._deliver(topic, json.loads(message["data"]))
        finally:
            await pubsub.aclose()
            await client.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
            self._listener = None
        if self._publisher is not None:
            self._publisher.close()


async def relay(queue: asyncio.Queue, send: Callable[[dict[str, Any]], Awaitable[None]],
                incoming: Awaitable[Any]) -> None:
    """Send each event of a subscription until `incoming` (reading the client's side) ends: the client left."""
    listener = asyncio.ensure_future(incoming)
    try:
        while not listener.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, listener}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await send(getter.result())
            else:
                getter.cancel()
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener


def _put(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    if queue.qsize() >= QUEUE_LIMIT:
        queue.get_nowait()
    queue.put_nowait(event)
