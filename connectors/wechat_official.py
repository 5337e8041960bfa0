"""The WeChat official account (公众号) message push: `GET /wechat/official` (URL check), `POST` (messages).

WeChat waits 5 seconds for a passive reply and retries otherwise. An answer ready within 4.5 s is the passive
reply; a slower one is acknowledged at once ("success"), held in the outbox and sent through the
customer-service API when it is ready.
"""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from connectors.wechat_channel import WeChatChannel
from connectors.wechat_protocol import passive_reply

PASSIVE_REPLY_BUDGET_S = 4.5
ACK = "success"  # WeChat's "received, no reply" (it then neither retries nor shows an error to the citizen)

router = APIRouter(include_in_schema=False)


def _channel(request: Request) -> WeChatChannel:
    channel = request.app.state.wechat.official
    if channel is None:
        raise HTTPException(404, detail="未启用微信公众号渠道（未配置 WECHAT_TOKEN） / WeChat channel not configured")
    return channel


@router.get("/wechat/official", response_class=PlainTextResponse)
def verify(request: Request) -> str:
    return _channel(request).verify_url(dict(request.query_params))


@router.post("/wechat/official", response_class=PlainTextResponse)
async def push(request: Request) -> str:
    channel = _channel(request)
    message, params = await channel.accept(request)
    sender_id = await channel.to_answer(message)
    if sender_id is None:
        return ACK
    answer = asyncio.create_task(channel.respond(request.app.state.gateway, request.app.state.services,
                                                 sender_id, message))
    done, _ = await asyncio.wait({answer}, timeout=PASSIVE_REPLY_BUDGET_S)
    if done and not answer.result():  # nothing to say now (an agent is on it and will answer)
        return ACK
    if done:
        return passive_reply(message, answer.result(), channel.crypto if params.get("encrypt_type") == "aes"
                             else None, params.get("nonce", ""))
    outbox_id = channel.outbox.hold(channel.name, sender_id, channel.question(message))
    request.app.state.wechat.spawn(channel.deliver(answer, outbox_id, message.source))
    return ACK
