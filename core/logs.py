"""Logging for the app and the CLI: text or JSON lines carrying the request id, and a filter that masks personal
data in every record."""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.masking import mask_personal_data

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_GIVEN_ID = re.compile(r"^[\w.-]{1,64}$")  # an id from nginx ($request_id) or another proxy; else a new one


class MaskingFilter(logging.Filter):
    """Masks the message, its arguments, the traceback and the stack of a record before any handler writes it.

    Arguments stay arguments (formatters such as uvicorn's access log unpack them); objects that are
    neither text nor numbers are replaced by their masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_personal_data(record.msg if isinstance(record.msg, str) else str(record.msg))
        if isinstance(record.args, dict):
            record.args = {k: _masked_arg(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_masked_arg(a) for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def _masked_arg(value: object) -> object:
    if isinstance(value, (int, float)) or value is None:
        return value
    return mask_personal_data(value if isinstance(value, str) else str(value))


_FILTER = MaskingFilter()


def install_masking_filter() -> None:
    """Adds the masking filter to every handler configured so far (root, named loggers, the last resort).

    Handler filters see the records that propagate from child loggers too, unlike logger filters."""
    loggers = [logging.getLogger(), *(lg for lg in logging.Logger.manager.loggerDict.values()
                                      if isinstance(lg, logging.Logger))]
    handlers = {h for lg in loggers for h in lg.handlers}
    if logging.lastResort is not None:
        handlers.add(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(_FILTER)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the request's id, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if request_id := REQUEST_ID.get():
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class RequestId:
    """ASGI middleware: every request (and WebSocket) gets an id, taken from X-Request-Id when a proxy set a
    sane one, else new; it is in every log line written while serving it and in the response's X-Request-Id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


# uvicorn's own loggers have their own handlers; in JSON mode they write JSON lines too
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def setup_logging(level: int = logging.INFO, fmt: str = "text") -> None:
    """Root logs to stderr (LOG_FORMAT, or JSON lines with fmt="json") unless something (uvicorn, pytest)
    configured root handlers already; then every handler masks. Safe to call more than once."""
    root = logging.getLogger()
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(LOG_FORMAT)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
        root.setLevel(level)
    if fmt == "json":
        for name in _SERVER_LOGGERS:
            for handler in logging.getLogger(name).handlers:
                handler.setFormatter(formatter)
    install_masking_filter()
