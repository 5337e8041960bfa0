"""The web chat API's edges: WeChat conversations are not the web's to post in, the chat cookie fits the
widget's iframe over https, the page and widget are served by the app, and the gateway never leaves a
citizen without a way on."""
from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient

from bot.actions.answering import HUMAN_BUTTON
from bot.gateway import Gateway
from bot.rasa_client import BotTurn
from connectors.web_chat import CHAT_COOKIE
from tests.fake_wechat import RetrievalGateway


def test_nobody_posts_as_an_official_account_citizen(app_client):
    app_client.app.state.gateway = gateway = RetrievalGateway(app_client.app.state.services.retriever)
    refused = app_client.post("/api/v1/chat", json={"sender_id": "wx-oa:oABC123", "message": "护照怎么办"})
    assert refused.status_code == 403 and "公众号" in refused.json()["detail"]
    assert CHAT_COOKIE not in refused.cookies and gateway.calls == []
    assert app_client.app.state.services.conversations.owned_by("wx-oa:oABC123", None) is False
    unsigned = app_client.post("/api/v1/chat", json={"sender_id": "wx-mp:oXYZ", "message": "护照怎么办"})
    assert unsigned.status_code == 401 and gateway.calls == []  # the mini-program's own user signs in first


def cookie_header(response) -> str:
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(CHAT_COOKIE))


def test_chat_cookie_is_strict_over_http_and_cross_site_ready_over_https(app_client):
    app = app_client.app
    app.state.gateway = RetrievalGateway(app.state.services.retriever)
    plain = app_client.post("/api/v1/chat", json={"sender_id": "web-plain1", "message": "护照怎么办"})
    assert plain.status_code == 200
    header = cookie_header(plain).lower()
    assert "samesite=strict" in header and "httponly" in header and "secure" not in header
    with TestClient(app, base_url="https://gov.example") as secure:
        app.state.gateway = RetrievalGateway(app.state.services.retriever)  # the lifespan wired the real one
        first = secure.post("/api/v1/chat", json={"sender_id": "web-tls1", "message": "护照怎么办"})
        header = cookie_header(first).lower()
        assert "samesite=none" in header and "secure" in header
        assert "httponly" in header and "path=/api/v1/" in header
        assert secure.get("/api/v1/conversations/web-tls1/messages").status_code == 200  # the cookie opens it


def test_page_and_widget_are_served_by_the_app_under_its_csp(app_client):
    page = app_client.get("/?embed=1")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp and "x-frame-options" not in page.headers
    assert "<script src=\"/static/chat/chat.js\"></script>" in page.text and "http" not in page.text.lower()
    for asset in ("widget.js", "widget.css", "chat.js", "chat.css"):
        served = app_client.get(f"/static/chat/{asset}")
        assert served.status_code == 200 and served.text
        assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", served.text)
        assert "cdn" not in served.text.lower()


class ScriptedRasa:
    def __init__(self, turn: BotTurn) -> None:
        self.turn = turn

    async def send(self, sender_id: str, message: str, channel: str) -> BotTurn:
        return self.turn


def test_the_gateway_offers_a_human_when_the_bot_says_nothing(app_client):
    conversations = app_client.app.state.services.conversations
    gateway = Gateway(conversations, ScriptedRasa(BotTurn([], {})), lambda sender, text: ([], {}),
                      app_client.app.state.services.safety)
    said = asyncio.run(gateway.handle("web-silent", "嗯", "web"))
    assert said["messages"][0]["buttons"] == [HUMAN_BUTTON] and "12345" in said["messages"][0]["text"]
