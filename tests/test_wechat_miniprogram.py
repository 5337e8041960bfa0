"""The mini-program: customer-service pushes (JSON or XML) answered through the customer-service API on the
fake WeChat server, de-duplication across replicas, and sign-in with a wx.login code."""
from __future__ import annotations

import hashlib
import time

import pytest
from fastapi.testclient import TestClient

from connectors.models import MiniProgramSession
from connectors.wechat_miniprogram import MiniProgramSessions
from govbot.app import create_app
from tests.fake_wechat import (AES_KEY, TOKEN, RetrievalGateway, WeChatPusher, gateway, services,  # noqa: F401
                               wait_for, wechat_server)

OPENID = "oMP_citizen_00000000000000001"
MINIPROGRAM = "gh_miniprogram_test"


@pytest.fixture
def wechat(app_client, wechat_server, gateway):
    wechat_server.fake.citizen_spoke(OPENID)
    return WeChatPusher(app_client, "/wechat/miniprogram", TOKEN, AES_KEY, wechat_server.fake.appid)


def text(content: str, msg_id: int) -> dict:
    return {"ToUserName": MINIPROGRAM, "FromUserName": OPENID, "CreateTime": int(time.time()), "MsgType": "text",
            "Content": content, "MsgId": msg_id}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_message_is_answered_through_the_customer_service_api(wechat, wechat_server, gateway, fmt):
    r = wechat.push(text("身份证丢了怎么补办", 2001), fmt=fmt)
    assert r.status_code == 200 and r.text == "success"
    sent = wait_for(lambda: wechat_server.fake.sent)
    assert sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": sent[0]["text"]["content"]}}]
    assert "居民身份证" in sent[0]["text"]["content"]
    assert gateway.calls == [(f"wx-mp:{OPENID}", "身份证丢了怎么补办", "miniprogram")]
    assert wechat_server.fake.token_fetches() == 1


def test_entering_the_session_gets_a_welcome_with_hot_questions(wechat, wechat_server):
    event = {"ToUserName": MINIPROGRAM, "FromUserName": OPENID, "CreateTime": int(time.time()),
             "MsgType": "event", "Event": "user_enter_tempsession", "SessionFrom": "guide"}
    assert wechat.push(event, fmt="json").text == "success"
    content = wait_for(lambda: wechat_server.fake.sent)[0]["text"]["content"]
    assert "政务通" in content and "回复 1：" in content


def test_a_retry_reaching_another_replica_is_answered_once(app_client, services, wechat, wechat_server, gateway):
    first = wechat.push(text("身份证丢了怎么补办", 2002), fmt="json")
    with TestClient(create_app(services.settings, services)) as replica:  # shares only the database
        replica.app.state.gateway = other = RetrievalGateway(services.retriever)
        retry = WeChatPusher(replica, "/wechat/miniprogram", TOKEN, AES_KEY, wechat_server.fake.appid)
        assert retry.push(text("身份证丢了怎么补办", 2002), fmt="json").text == "success"
    assert first.text == "success"
    wait_for(lambda: wechat_server.fake.sent)
    time.sleep(0.5)
    assert len(gateway.calls) + len(other.calls) == 1 and len(wechat_server.fake.sent) == 1


def test_login_exchanges_the_code_for_our_session_token(app_client, services, wechat_server):
    code = wechat_server.fake.issue_code(OPENID)
    r = app_client.post("/api/v1/miniprogram/login", json={"code": code})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sender_id"] == f"wx-mp:{OPENID}" and body["expires_in"] > 0
    sessions = MiniProgramSessions(services.db)
    assert sessions.openid(body["token"]) == OPENID and sessions.openid("forged") is None
    with services.db.session() as s:  # only the hash is stored
        row = s.query(MiniProgramSession).one()
        assert row.token_sha256 == hashlib.sha256(body["token"].encode()).hexdigest() != body["token"]
    reused = app_client.post("/api/v1/miniprogram/login", json={"code": code})
    assert reused.status_code == 400 and "登录凭证" in reused.json()["detail"]
    assert app_client.post("/api/v1/miniprogram/login", json={"code": "unknown-code"}).status_code == 400
    assert app_client.post("/api/v1/miniprogram/login", json={"code": "<script>"}).status_code == 422
