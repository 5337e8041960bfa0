"""End to end: WeChat (wechatpy + the fake API server) → the real app → Rasa → actions → the customer-service API."""
from __future__ import annotations

import shutil
import time

import httpx
import pytest
from sqlalchemy import select

from core.db import Database
from insight.models import Turn

from core.settings import ROOT
from tests.conftest import make_settings
from tests.fake_wechat import AES_KEY, TOKEN, FakeWeChat, FakeWeChatServer, WeChatPusher, wait_for
from tests.stack import run_stack

pytestmark = pytest.mark.slow
OPENID = "oE2E_citizen_000000000000001"


@pytest.fixture(scope="module")
def wechat_stack(tmp_path_factory):
    server = FakeWeChatServer(FakeWeChat())
    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_ENCODING_AES_KEY": AES_KEY, "WECHAT_APPID": server.fake.appid,
           "WECHAT_APPSECRET": server.fake.secret, "WECHAT_API_BASE": server.url}
    try:
        with pytest.MonkeyPatch.context() as mp:  # the app process inherits these
            for name, value in env.items():
                mp.setenv(name, value)
            settings = make_settings(tmp_path_factory.mktemp("wechat-stack"), port=18011, rasa_port=15016)
            warm = ROOT / "var" / "cache" / "embeddings.sqlite"  # the passages' vectors: a faster start
            if warm.exists():
                settings.cache_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy(warm, settings.cache_dir / warm.name)
            for stack in run_stack(settings):
                yield stack, server.fake
    finally:
        server.stop()


def test_official_account_and_mini_program_answer_through_rasa(wechat_stack):
    stack, fake = wechat_stack
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.settings.port}", timeout=30) as client:
        official = WeChatPusher(client, "/wechat/official", TOKEN, AES_KEY, fake.appid)
        msg = {"ToUserName": "gh_e2e", "FromUserName": OPENID, "CreateTime": int(time.time()), "MsgType": "text",
               "Content": "身份证丢了怎么补办", "MsgId": 5001}
        reply = official.open_reply(official.push(msg).text)["Content"]
        assert "身份证" in reply and "回复 1：" in reply  # the answer, then the rating as numbered choices
        assert "回复 1：满意" in reply
        assert official.open_reply(official.push({**msg, "Content": "1", "MsgId": 5002}).text)["Content"]
        with Database(stack.settings.database_url).session() as s:  # "1" went to Rasa as the rating payload
            rated = s.scalars(select(Turn.rating).where(Turn.sender_id == f"wx-oa:{OPENID}", Turn.author == "bot",
                                                        Turn.decision == "answer")).all()
        assert rated == ["satisfied"]
        fake.citizen_spoke(OPENID)
        mini = WeChatPusher(client, "/wechat/miniprogram", TOKEN, AES_KEY, fake.appid)
        assert mini.push({**msg, "MsgId": 5003}, fmt="json").text == "success"
        sent = wait_for(lambda: fake.sent, timeout=30)
        assert sent[0]["touser"] == OPENID and "身份证" in sent[0]["text"]["content"]
