"""Security headers on every response: a Content-Security-Policy without inline code, no MIME sniffing,
no referrer. Only the citizen chat page may be framed, and only by the configured origins."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages load their scripts and styles from /static/ only; the chat API and the action webhook are same-origin.
_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}")
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from a CDN and start it with an inline script.
_DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                "style-src 'self' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
                "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
                "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
_DOCS_PATHS = ("/docs", "/redoc")
CHAT_PAGES = ("/",)  # the citizen chat page (city portals may embed it)


class SecurityHeaders:
    """Pure ASGI middleware (works for streaming responses too); a header a route set itself is kept."""

    def __init__(self, app: ASGIApp, chat_frame_ancestors: str = "'self'") -> None:
        self.app = app
        self._chat = self._headers(_POLICY.format(ancestors=chat_frame_ancestors), frame_options=None)
        self._other = self._headers(_POLICY.format(ancestors="'none'"), frame_options="DENY")
        self._docs = self._headers(_DOCS_POLICY, frame_options="DENY")

    @staticmethod
    def _headers(policy: str, frame_options: str | None) -> list[tuple[bytes, bytes]]:
        headers = [(b"content-security-policy", policy.encode()), (b"x-content-type-options", b"nosniff"),
                   (b"referrer-policy", b"no-referrer")]
        return headers + ([(b"x-frame-options", frame_options.encode())] if frame_options else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = self._chat if path in CHAT_PAGES else self._docs if path.startswith(_DOCS_PATHS) else self._other

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
