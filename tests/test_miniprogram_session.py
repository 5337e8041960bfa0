"""The mini-program front end's server side: its session token (from wx.login) stands in for the web chat's
cookie. Only the signed-in user may chat as, read, rate and listen to their `wx-mp:<openid>` conversation;
an agent's reply reaches the page over the WebSocket and counts as delivered; the hot questions for the chips."""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.auth import add_user
from tests.conftest import make_services
from tests.fake_wechat import AES_KEY, TOKEN, FakeWeChat, FakeWeChatServer, RetrievalGateway

OPEN_HOURS = dt.datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday morning
AGENT = {"Authorization": "Bearer agent-token"}
_openids = (f"oMP_front_end_{n:015d}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def wechat_server():
    server = FakeWeChatServer(FakeWeChat())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, encoder, wechat_server):
    from govbot.app import create_app

    services = make_services(tmp_path_factory.mktemp("miniprogram"), encoder)
    fake = wechat_server.fake
    services.settings = dataclasses.replace(
        services.settings, wechat_token=TOKEN, wechat_encoding_aes_key=AES_KEY, wechat_appid=fake.appid,
        wechat_appsecret=fake.secret, wechat_api_base=wechat_server.url, redis_url="")
    services.desk.clock = lambda: OPEN_HOURS
    add_user(services.db, "test-agent", "agent", token="agent-token")
    with TestClient(create_app(services.settings, services)) as client:
        client.app.state.gateway = RetrievalGateway(services.retriever)  # Rasa does not run here
        yield client


@pytest.fixture
def services(app):
    return app.app.state.services


def sign_in(app, wechat_server) -> tuple[str, dict[str, str]]:
    """A new mini-program user: their conversation and their token's header."""
    openid = next(_openids)
    r = app.post("/api/v1/miniprogram/login", json={"code": wechat_server.fake.issue_code(openid)})
    assert r.status_code == 200, r.text
    assert r.json()["sender_id"] == f"wx-mp:{openid}"
    return r.json()["sender_id"], {"Authorization": f"Bearer {r.json()['token']}"}


def ask(client, headers: dict[str, str], sender: str, message: str):
    return client.post("/api/v1/chat", headers=headers,
                       json={"sender_id": sender, "message": message, "channel": "miniprogram"})


def test_only_the_signed_in_user_chats_as_their_conversation(app, wechat_server):
    sender, mine = sign_in(app, wechat_server)
    gateway = app.app.state.gateway
    r = ask(app, mine, sender, "身份证丢了怎么补办")
    assert r.status_code == 200 and r.json()["mode"] == "bot"
    assert gateway.calls[-1] == (sender, "身份证丢了怎么补办", "miniprogram")
    _, someone_else = sign_in(app, wechat_server)
    for headers in ({}, {"Authorization": "Bearer forged"}, someone_else, {"Authorization": mine["Authorization"][7:]}):
        refused = ask(app, headers, sender, "转人工")
        assert refused.status_code == 401 and "登录" in refused.json()["detail"]
    assert [c for c in gateway.calls if c[0] == sender] == [(sender, "身份证丢了怎么补办", "miniprogram")]
    web = app.post("/api/v1/chat", json={"sender_id": "web-abc", "message": "护照", "channel": "web"})
    assert web.status_code == 200  # the web chat needs no token


def test_the_token_reads_and_rates_the_conversation_no_one_else_can(app, wechat_server, services):
    sender, mine = sign_in(app, wechat_server)
    services.conversations.log(sender, "citizen", "身份证丢了怎么补办", channel="miniprogram")  # as the gateway does
    services.conversations.log(sender, "bot", "【居民身份证补领】……", "answer", channel="miniprogram")
    app.cookies.clear()
    history = app.get(f"/api/v1/conversations/{sender}/messages", headers=mine)
    assert history.status_code == 200
    assert [m["author"] for m in history.json()["messages"]] == ["citizen", "bot"]
    _, someone_else = sign_in(app, wechat_server)
    for headers in ({}, someone_else, {"Authorization": "Bearer forged"}):
        assert app.get(f"/api/v1/conversations/{sender}/messages", headers=headers).status_code == 403
    # the token is the mini-program user's own: it opens no web chat conversation
    assert app.get("/api/v1/conversations/web-abc/messages", headers=mine).status_code == 403

    ticket = services.conversations.hand_off(sender, "asked").ticket.id
    assert app.post(f"/api/v1/tickets/{ticket}/claim", headers=AGENT).status_code == 200
    closed = app.post(f"/api/v1/tickets/{ticket}/close", headers=AGENT, json={"resolution": "已解答", "category": "咨询"})
    assert closed.status_code == 200, closed.text
    assert app.post(f"/api/v1/conversations/{sender}/rating", headers=someone_else,
                    json={"rating": "satisfied"}).status_code == 403
    rated = app.post(f"/api/v1/conversations/{sender}/rating", headers=mine, json={"rating": "satisfied"})
    assert rated.status_code == 200 and rated.json() == {"ticket": ticket, "rating": "satisfied"}


def test_agent_replies_reach_the_page_live_and_count_as_delivered(app, wechat_server, services):
    sender, mine = sign_in(app, wechat_server)
    ticket = services.conversations.hand_off(sender, "asked").ticket.id
    # WeChat's socket names no page of ours as its origin; the bearer token is no ambient credential
    with app.websocket_connect(f"/api/v1/conversations/{sender}/ws",
                               headers={**mine, "Origin": "https://servicewechat.com"}) as live:
        assert app.post(f"/api/v1/tickets/{ticket}/claim", headers=AGENT).status_code == 200
        assert live.receive_json()["type"] == "agent_joined"
        sent = app.post(f"/api/v1/tickets/{ticket}/messages", headers=AGENT, json={"text": "您好，请问是在本市丢失的吗？"})
        assert sent.status_code == 200 and sent.json()["delivery"] == "websocket", sent.json()
        assert live.receive_json() == {"type": "message", "author": "agent", "agent": "test-agent",
                                       "text": "您好，请问是在本市丢失的吗？", "ticket": ticket}
    lines = app.get(f"/api/v1/conversations/{sender}/messages", headers=mine).json()["messages"]
    assert lines[-1]["author"] == "agent" and lines[-1]["text"] == "您好，请问是在本市丢失的吗？"


def test_the_socket_refuses_without_the_users_token(app, wechat_server):
    sender, _ = sign_in(app, wechat_server)
    _, someone_else = sign_in(app, wechat_server)
    for headers in ({}, someone_else, {"Authorization": "Bearer forged"}):
        with pytest.raises(WebSocketDisconnect) as refused, \
                app.websocket_connect(f"/api/v1/conversations/{sender}/ws", headers=headers) as ws:
            ws.receive_json()
        assert refused.value.code == 4403


def test_hot_questions_for_the_chips(app, services):
    r = app.get("/api/v1/hot-questions")
    assert r.status_code == 200
    published = {g.title for g in services.kb.list(status="published", limit=500)}
    assert len(r.json()["questions"]) == 3 and set(r.json()["questions"]) <= published
