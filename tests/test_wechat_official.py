"""The official account push over HTTP against the real app, WeChat played by wechatpy and a local fake server."""
from __future__ import annotations

import time

import pytest
import xmltodict

from connectors.models import OutboxMessage
from tests.conftest import auth
from tests.fake_wechat import (AES_KEY, TOKEN, RetrievalGateway, WeChatPusher, gateway, services,  # noqa: F401
                               wait_for, wechat_server)

OPENID = "oFAKE_citizen_0000000000001"
ACCOUNT = "gh_govbot_test"


@pytest.fixture
def wechat(app_client, wechat_server, gateway):
    return WeChatPusher(app_client, "/wechat/official", TOKEN, AES_KEY, wechat_server.fake.appid)


def text(content: str, msg_id: int, openid: str = OPENID) -> dict:
    return {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(time.time()), "MsgType": "text",
            "Content": content, "MsgId": msg_id}


def test_url_verification_echoes_echostr_only_for_a_true_signature(app_client, wechat):
    q = wechat.query()
    assert app_client.get("/wechat/official", params={**q, "echostr": "abc123"}).text == "abc123"
    forged = app_client.get("/wechat/official", params={**q, "signature": "0" * 40, "echostr": "abc123"})
    assert forged.status_code == 403 and "签名" in forged.json()["detail"]


def test_secure_mode_question_gets_a_decryptable_passive_answer(wechat, gateway):
    r = wechat.push(text("身份证丢了怎么补办", 1001))
    assert r.status_code == 200
    reply = wechat.open_reply(r.text)  # wechatpy checks the reply's signature while decrypting it
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT and reply["MsgType"] == "text"
    assert "居民身份证" in reply["Content"] and "补" in reply["Content"]
    assert gateway.calls == [(f"wx-oa:{OPENID}", "身份证丢了怎么补办", "wechat")]


@pytest.mark.parametrize("mode", ["plain", "compat"])
def test_plain_and_compatible_modes(wechat, mode):
    r = wechat.push(text("身份证丢了怎么补办", 1002), mode=mode)
    assert r.status_code == 200
    reply = wechat.open_reply(r.text) if mode == "compat" else xmltodict.parse(r.text)["xml"]
    assert "居民身份证" in reply["Content"]


def test_forged_signatures_are_refused(wechat, gateway):
    assert wechat.push(text("你好", 1003), signature="f" * 40).status_code == 403
    assert wechat.push(text("你好", 1004), msg_signature="f" * 40).status_code == 403  # Encrypt not ours
    assert gateway.calls == []


def test_a_stale_timestamp_is_refused_as_a_replay(wechat, gateway):
    r = wechat.push(text("身份证丢了怎么补办", 1005), timestamp=int(time.time()) - 301)
    assert r.status_code == 403 and "过期" in r.json()["detail"]
    assert gateway.calls == []


def test_a_retried_msgid_is_answered_once(wechat, gateway, wechat_server):
    first = wechat.push(text("身份证丢了怎么补办", 1006))
    retry = wechat.push(text("身份证丢了怎么补办", 1006))
    assert "居民身份证" in wechat.open_reply(first.text)["Content"]
    assert retry.status_code == 200 and retry.text == "success"
    assert len(gateway.calls) == 1 and wechat_server.fake.sent == []


def test_xml_entity_tricks_and_oversized_bodies_are_refused(app_client, wechat, gateway):
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName>'
            '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&c;</Content><MsgId>9</MsgId></xml>')
    external = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                '<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&e;</Content></xml>')
    for body in (bomb, external):
        r = app_client.post("/wechat/official", params=wechat.query(), content=body.encode())
        assert r.status_code == 400 and "DTD" in r.json()["detail"]
    huge = wechat.xml(text("办" * 40_000, 1007))
    assert app_client.post("/wechat/official", params=wechat.query(), content=huge.encode()).status_code == 413
    assert gateway.calls == []


def test_an_answer_slower_than_4_5_s_arrives_through_the_customer_service_api(app_client, services, wechat,
                                                                             wechat_server):
    slow = RetrievalGateway(services.retriever, delay_s=5.0)
    app_client.app.state.gateway = slow
    wechat_server.fake.citizen_spoke(OPENID)
    t0 = time.monotonic()
    r = wechat.push(text("身份证丢了怎么补办", 1008))
    acked_after = time.monotonic() - t0
    assert r.text == "success" and acked_after < 5.0
    with services.db.session() as s:  # held before the acknowledgement
        held = s.query(OutboxMessage).one()
        assert held.status == "pending" and held.question == "身份证丢了怎么补办"
    sent = wait_for(lambda: wechat_server.fake.sent)
    assert sent[0]["touser"] == OPENID and "居民身份证" in sent[0]["text"]["content"]
    wait_for(lambda: app_client.get("/api/v1/channels/outbox?status=sent", headers=auth("agent")).json())


def test_a_refused_send_stays_in_the_outbox_for_staff(app_client, services, wechat, wechat_server):
    app_client.app.state.gateway = RetrievalGateway(services.retriever, delay_s=5.0)
    # the citizen last wrote 49 hours ago as far as WeChat knows: outside the 48-hour reply window
    wechat_server.fake.citizen_spoke(OPENID, ago_s=49 * 3600)
    assert wechat.push(text("身份证丢了怎么补办", 1009)).text == "success"
    failed = wait_for(lambda: app_client.get("/api/v1/channels/outbox", params={"status": "failed"},
                                             headers=auth("admin")).json())
    assert failed[0]["errcode"] == 45015 and "居民身份证" in failed[0]["text"]
    assert failed[0]["sender_id"] == f"wx-oa:{OPENID}"
    assert app_client.get("/api/v1/channels/outbox", headers=auth("editor")).status_code == 403
    assert app_client.get("/api/v1/channels/outbox").status_code == 401
    assert wechat_server.fake.sent == []


def test_options_are_numbered_and_a_digit_picks_one(wechat, gateway):
    reply = wechat.open_reply(wechat.push(text("身份证怎么办", 1010)).text)["Content"]
    assert "回复 1：" in reply and "回复 2：" in reply and "转人工服务" in reply  # never a dead end
    first = reply.split("回复 1：")[1].split("\n")[0]
    wechat.push(text("1", 1011))
    assert gateway.calls[-1][1] == first  # the option's payload went through the gateway, not "1"
    wechat.push(text("1", 1012))  # the answer offered no options: "1" is just text now
    assert gateway.calls[-1][1] == "1"


def test_voice_images_and_welcome_events(wechat, gateway):
    base = {"ToUserName": ACCOUNT, "FromUserName": OPENID, "CreateTime": int(time.time())}
    voice = wechat.push({**base, "MsgType": "voice", "MediaId": "m1", "Format": "amr",
                         "Recognition": "身份证丢了怎么补办", "MsgId": 1020})
    assert "居民身份证" in wechat.open_reply(voice.text)["Content"]
    unheard = wechat.push({**base, "MsgType": "voice", "MediaId": "m2", "Format": "amr", "MsgId": 1021})
    assert "文字" in wechat.open_reply(unheard.text)["Content"]
    image = wechat.push({**base, "MsgType": "image", "PicUrl": "http://x/y.jpg", "MediaId": "m3", "MsgId": 1022})
    assert "图片" in wechat.open_reply(image.text)["Content"]
    welcome = wechat.push({**base, "MsgType": "event", "Event": "subscribe", "EventKey": ""})
    content = wechat.open_reply(welcome.text)["Content"]
    assert "政务通" in content and "回复 3：" in content
    unsubscribe = wechat.push({**base, "MsgType": "event", "Event": "unsubscribe", "CreateTime": 1})
    assert unsubscribe.text == "success"
    assert [c[1] for c in gateway.calls] == ["身份证丢了怎么补办"]
