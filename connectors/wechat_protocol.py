"""The WeChat push protocol shared by the official account and the mini-program: checks, parsing, replies.

From wechatpy (1.8): the AES envelope of secure/compatible mode (`WeChatCrypto`), the message and event
classes, the passive reply XML (`create_reply`). Ours: constant-time signature checks, the 5-minute replay
window, the body limit, parsing with defusedxml (no DTD, no entities) or JSON, numbered choices instead of
buttons (WeChat has none).
"""
from __future__ import annotations

import hmac
import json
import time
import unicodedata
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from fastapi import HTTPException, Request
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import EVENT_TYPES, BaseEvent
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage
from wechatpy.replies import create_reply
from wechatpy.utils import WeChatSigner

MAX_BODY_BYTES = 64 * 1024  # WeChat's pushes are a few hundred bytes
MAX_CLOCK_SKEW_S = 300
MAX_TEXT_BYTES = 2000  # WeChat cuts text messages at 2,048 bytes


class PushRejected(HTTPException):
    """A push that is not WeChat's or not acceptable (answered with its status, not processed)."""


def _signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def verify_signature(token: str, signature: str, timestamp: str, nonce: str, now: float | None = None) -> None:
    """SHA-1 of the sorted token, timestamp and nonce; the timestamp must be within 5 minutes (replays)."""
    if not hmac.compare_digest(_signature(token, timestamp, nonce).encode(), signature.encode()):
        raise PushRejected(403, "签名校验失败 / bad signature")
    try:
        skew = abs((now or time.time()) - int(timestamp))
    except ValueError:
        raise PushRejected(403, "时间戳格式不正确 / bad timestamp") from None
    if skew > MAX_CLOCK_SKEW_S:
        raise PushRejected(403, "请求已过期（时间戳超过 5 分钟），疑似重放 / stale timestamp")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused (413) as soon as it passes `limit`, declared or not."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PushRejected(413, "消息过大 / body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PushRejected(413, "消息过大 / body too large")
    return bytes(body)


def parse_fields(body: bytes | str) -> dict[str, Any]:
    """A push's top-level fields from XML (hardened: DTDs and entities are refused) or JSON."""
    raw = body.encode() if isinstance(body, str) else body
    try:
        if raw.lstrip().startswith(b"{"):
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return {k: v if isinstance(v, (dict, list)) else str(v) for k, v in data.items()}
        root = fromstring(raw, forbid_dtd=True)
        return {child.tag: (child.text or "") for child in root}
    except DefusedXmlException:
        raise PushRejected(400, "消息含有被禁止的 XML 结构（DTD/实体） / forbidden XML construct") from None
    except (ParseError, ValueError):
        raise PushRejected(400, "消息格式不正确 / malformed body") from None


def open_envelope(fields: dict[str, Any], params: dict[str, str], crypto: WeChatCrypto | None) -> dict[str, Any]:
    """The message fields; in secure and compatible mode (`encrypt_type=aes`) the decrypted `Encrypt` field."""
    if params.get("encrypt_type", "raw") != "aes":
        return fields
    if crypto is None or "Encrypt" not in fields:
        raise PushRejected(400, "加密消息无法解密：未配置 EncodingAESKey 或缺少 Encrypt / cannot decrypt")
    try:
        plain = crypto.decrypt_message({"Encrypt": fields["Encrypt"]}, params.get("msg_signature", ""),
                                       params.get("timestamp", ""), params.get("nonce", ""))
    except InvalidSignatureException:
        raise PushRejected(403, "消息签名校验失败 / bad msg_signature") from None
    except Exception:  # wrong key or app id: wechatpy raises anything from padding to unicode errors
        raise PushRejected(400, "加密消息无法解密 / cannot decrypt") from None
    return parse_fields(plain)


def to_message(fields: dict[str, Any]) -> BaseMessage:
    """wechatpy's class for the message or event (a bare event or UnknownMessage for types it does not know)."""
    kind = str(fields.get("MsgType", "")).lower()
    if kind == "event":
        return EVENT_TYPES.get(str(fields.get("Event", "")).lower(), BaseEvent)(fields)
    return MESSAGE_TYPES.get(kind, UnknownMessage)(fields)


def dedup_key(message: BaseMessage) -> str:
    """WeChat retries a push up to 3 times with the same MsgId; events carry none, so sender + CreateTime."""
    return f"msg:{message.id}" if message.id else f"evt:{message.source}:{message.time}"


def passive_reply(message: BaseMessage, text: str, crypto: WeChatCrypto | None, nonce: str) -> str:
    """The XML text reply to a push, encrypted when the push was."""
    xml = create_reply(text, message=message, render=True)
    return crypto.encrypt_message(xml, nonce) if crypto else xml


def clip(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode(errors="ignore") + "…"


def numbered(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Gateway messages as one WeChat text, buttons as "回复 1：…" lines after it (kept whole when the text
    is clipped). Returns (text, options offered)."""
    texts = [m["text"] for m in messages if m.get("text")]
    options = [{"title": b["title"], "payload": b["payload"]} for m in messages for b in m.get("buttons") or []]
    choices = "".join(f"\n回复 {i}：{o['title']}" for i, o in enumerate(options, 1))
    return clip("\n".join(texts), MAX_TEXT_BYTES - len(choices.encode())) + choices, options


def picked(text: str, options: list[dict[str, str]]) -> str | None:
    """The payload of the option a reply like "1" or "２" picks, if it picks one."""
    choice = unicodedata.normalize("NFKC", text).strip()
    if choice.isdigit() and 1 <= int(choice) <= len(options):
        return options[int(choice) - 1]["payload"]
    return None
