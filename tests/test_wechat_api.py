"""The WeChat API client against the fake WeChat server, the hardened parser, numbered choices, and the
routes of an app without WeChat configured."""
from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
import redis

from connectors.wechat_api import WeChatApi, WeChatError
from connectors.wechat_channel import SEEN_TTL_S, WeChat
from connectors.wechat_protocol import PushRejected, numbered, parse_fields, picked, verify_signature
from core.db import Database
from govbot.migrations import upgrade
from tests.conftest import make_settings, need_service
from tests.fake_wechat import FakeWeChat, FakeWeChatServer

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def server():
    server = FakeWeChatServer(FakeWeChat(token_delay_s=0.3))
    yield server
    server.stop()


@pytest.fixture
def db(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'wechat.db'}")
    upgrade(db)
    return db


def run(coro):
    return asyncio.run(coro)


def test_one_token_refresh_for_concurrent_sends_and_replicas_share_it(server, db):
    fake = server.fake
    fake.citizen_spoke("o1")

    async def scenario():
        async with httpx.AsyncClient() as http:
            api = WeChatApi(db, http, server.url, fake.appid, fake.secret)
            await asyncio.gather(*(api.send_text("o1", f"第{i}条") for i in range(5)))
            replica = WeChatApi(db, http, server.url, fake.appid, fake.secret)
            return await replica.access_token() == await api.access_token()

    assert run(scenario())
    assert fake.token_fetches() == 1 and len(fake.sent) == 5


def test_an_expired_token_is_refreshed_and_the_send_retried(server, db):
    fake = server.fake
    fake.citizen_spoke("o1")

    async def scenario():
        async with httpx.AsyncClient() as http:
            api = WeChatApi(db, http, server.url, fake.appid, fake.secret)
            await api.send_text("o1", "一")
            fake.clock_offset = 7200  # WeChat's clock: the token has expired (42001), ours has not noticed
            fake.citizen_spoke("o1")
            await api.send_text("o1", "二")

    run(scenario())
    assert fake.token_fetches() == 2 and [m["text"]["content"] for m in fake.sent] == ["一", "二"]


def test_the_reply_window_is_wechats_to_enforce(server, db):
    fake = server.fake

    async def send(openid: str, n: int) -> list[int]:
        codes = []
        async with httpx.AsyncClient() as http:
            api = WeChatApi(db, http, server.url, fake.appid, fake.secret)
            for _ in range(n):
                try:
                    await api.send_text(openid, "您好")
                    codes.append(0)
                except WeChatError as exc:
                    codes.append(exc.errcode)
        return codes

    async def token_with_wrong_secret() -> str:
        async with httpx.AsyncClient() as http:
            return await WeChatApi(db, http, server.url, fake.appid, "wrong-secret").access_token()

    with pytest.raises(WeChatError) as err:
        run(token_with_wrong_secret())
    assert err.value.errcode == 40125
    fake.citizen_spoke("o1")
    assert run(send("o1", 6)) == [0, 0, 0, 0, 0, 45047]
    assert run(send("never-wrote", 1)) == [45015]


def test_the_parser_refuses_dtds_and_reads_xml_and_json():
    with pytest.raises(PushRejected) as err:
        parse_fields('<!DOCTYPE x [<!ENTITY a "b">]><xml><Content>&a;</Content></xml>')
    assert err.value.status_code == 400
    with pytest.raises(PushRejected):
        parse_fields("<xml><Content>unclosed</xml>")
    assert parse_fields("<xml><Content><![CDATA[你好]]></Content><MsgId>7</MsgId></xml>") == {
        "Content": "你好", "MsgId": "7"}
    assert parse_fields('{"Content": "你好", "MsgId": 7}') == {"Content": "你好", "MsgId": "7"}


def test_a_signature_that_is_not_even_hex_is_a_403():
    with pytest.raises(PushRejected) as err:
        verify_signature("token", "签名", "1700000000", "nonce")
    assert err.value.status_code == 403


def test_buttons_become_numbered_choices_and_long_answers_keep_them():
    options = [{"title": "居民身份证补领", "payload": "/choose_option{\"service_code\":\"GA-HZ-03\"}"},
               {"title": "转人工服务", "payload": "/request_human"}]
    text, offered = numbered([{"text": "长" * 3000}, {"text": "请选择：", "buttons": options}])
    assert offered == options and len(text.encode()) <= 2000
    assert text.endswith("\n回复 1：居民身份证补领\n回复 2：转人工服务")
    assert picked("２", offered) == "/request_human" and picked(" 1 ", offered) == options[0]["payload"]
    assert picked("3", offered) is None and picked("1个", offered) is None


def test_routes_say_when_wechat_is_not_configured(app_client):
    assert app_client.get("/wechat/official").status_code == 404
    assert app_client.post("/wechat/miniprogram", content=b"<xml/>").status_code == 404
    r = app_client.post("/api/v1/miniprogram/login", json={"code": "abc"})
    assert r.status_code == 503 and "未配置" in r.json()["detail"]


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.redis
def test_with_redis_the_seen_ids_are_shared_by_replicas_and_expire(db, tmp_path):
    need_service(_redis_up(), "Redis at 127.0.0.1:6379")
    settings = make_settings(tmp_path, redis_url=REDIS_URL, wechat_token="t")
    key = f"test:{secrets.token_hex(8)}"

    async def scenario() -> list[bool]:
        first, second = WeChat(settings, db), WeChat(settings, db)  # two replicas
        try:
            return [await first.official.seen.claim(key), await second.official.seen.claim(key),
                    await first.official.seen.claim(key)]
        finally:
            await first.close()
            await second.close()

    assert run(scenario()) == [True, False, False]
    ttl = redis.Redis.from_url(REDIS_URL).ttl(f"govbot:wechat:seen:{key}")
    assert 0 < ttl <= SEEN_TTL_S
