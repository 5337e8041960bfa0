"""Hand-off end to end over HTTP and WebSocket with the app (Rasa is played by a stand-in that calls the app's
action webhook with Rasa's token, as the Rasa server would): a citizen asks for a human → the ticket is in
the queue and on the console's socket → an agent claims it → the reply reaches the citizen live (web chat)
or through the fake WeChat API → the ticket is closed and the bot answers again → the agent's answer
becomes a draft, a reviewer publishes it, and the bot answers that question itself."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.rasa_client import BotTurn
from connectors.models import ChannelIdentity, OutboxMessage
from core.auth import add_user
from handoff.models import Ticket
from tests.conftest import make_settings
from tests.fake_wechat import AES_KEY, TOKEN, FakeWeChat, FakeWeChatServer, WeChatPusher

OPEN_HOURS = dt.datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday morning
PASSWORD = "agent-password-1"


class WebhookRasa:
    """Plays the Rasa server: the intent a citizen's words have, the action our rules run for it, called
    over HTTP on the app's action webhook with Rasa's token; the slots it sets are kept per conversation."""

    def __init__(self, app: Any) -> None:
        self.app, self.slots = app, {}

    async def send(self, sender_id: str, text: str, channel: str) -> BotTurn:
        intent = "request_human" if "人工" in text else "ask_service"
        action = "action_handoff" if intent == "request_human" else "action_answer"
        slots = self.slots.setdefault(sender_id, {})
        payload = {"next_action": action, "sender_id": sender_id, "version": "3.6.21", "domain": {},
                   "tracker": {"sender_id": sender_id, "slots": slots, "events": [{"event": "user", "text": text}],
                               "latest_message": {"text": text, "intent": {"name": intent}, "entities": []}}}
        token = self.app.state.services.settings.action_token
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://app") as http:
            r = await http.post(f"/rasa/webhook?token={token}", json=payload)
        r.raise_for_status()
        body = r.json()
        slots.update({e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"})
        turn = BotTurn()
        for msg in body["responses"]:
            if "custom" in msg:
                turn.meta.update(msg["custom"]["govbot"])
            elif msg.get("text"):
                turn.messages.append({"text": msg["text"], **({"buttons": msg["buttons"]} if msg.get("buttons") else {})})
        turn.meta.setdefault("intent", intent)
        return turn

    async def stop_form(self, sender_id: str) -> None:  # the stand-in opens no forms
        return None


@pytest.fixture(scope="module")
def wechat_server():
    server = FakeWeChatServer(FakeWeChat())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, encoder, wechat_server):
    from govbot.app import create_app
    from govbot.services import Services

    fake = wechat_server.fake
    settings = dataclasses.replace(
        make_settings(tmp_path_factory.mktemp("handoff")), wechat_token=TOKEN, wechat_encoding_aes_key=AES_KEY,
        wechat_appid=fake.appid, wechat_appsecret=fake.secret, wechat_api_base=wechat_server.url, redis_url="")
    services = Services(settings)
    services.__dict__["encoder"] = encoder
    services.desk.clock = lambda: OPEN_HOURS
    for name, role in (("agent-a", "agent"), ("agent-b", "agent"), ("reviewer-r", "reviewer")):
        add_user(services.db, name, role, token=f"{name}-token", password=PASSWORD)
    application = create_app(settings, services)
    with TestClient(application) as client:
        application.state.gateway.rasa = WebhookRasa(application)
        yield client


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {name}-token"}


@pytest.fixture
def agent(app):
    """The agent's browser: signed in (session cookie) for the console's WebSocket."""
    client = TestClient(app.app)
    assert client.post("/api/v1/auth/login", json={"name": "agent-a", "password": PASSWORD}).status_code == 200
    return client


def chat_raw(client: TestClient, sender: str, message: str) -> httpx.Response:
    r = client.post("/api/v1/chat", json={"sender_id": sender, "message": message, "channel": "web"})
    assert r.status_code == 200, r.text
    return r


def chat(client: TestClient, sender: str, message: str) -> dict:
    return chat_raw(client, sender, message).json()


def texts(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def next_event(ws, **match: Any) -> dict:
    """The next event on a socket with the given fields (others are skipped)."""
    for _ in range(50):
        event = ws.receive_json()
        if all(event.get(k) == v for k, v in match.items()):
            return event
    raise AssertionError(f"no event with {match}")


def test_web_citizen_to_agent_and_back_then_the_answer_becomes_knowledge(app, agent):
    citizen = TestClient(app.app)  # the citizen's own browser (its own cookies)
    sender = "web-e2e-1"
    question = "无人机飞行要去哪里报备"
    r = chat_raw(citizen, sender, question)
    assert r.json()["mode"] == "bot" and r.json()["decision"] == "handoff"  # the knowledge base has no answer
    assert "httponly" in r.headers["set-cookie"].lower() and citizen.cookies.get("govbot_chat")
    assert set(r.json()) == {"sender_id", "messages", "decision", "matches", "mode", "degraded"}  # the contract
    later = chat_raw(citizen, sender, "护照多少钱")
    assert later.json()["decision"] == "answer" and "set-cookie" not in later.headers  # only on the first message

    with agent.websocket_connect("/api/v1/handoff/ws") as console, \
            citizen.websocket_connect(f"/api/v1/conversations/{sender}/ws") as live:
        assert console.receive_json()["type"] == "hello"
        asked = chat(citizen, sender, "转人工")
        assert asked["mode"] == "human" and "工单号" in texts(asked) and "前面还有 0 位" in texts(asked)
        created = next_event(console, type="ticket", event="created", sender_id=sender)
        ticket_id = created["id"]

        queue = app.get("/api/v1/tickets", headers=bearer("agent-a")).json()
        assert [t["status"] for t in queue if t["id"] == ticket_id] == ["new"]
        detail = app.get(f"/api/v1/tickets/{ticket_id}", headers=bearer("agent-a")).json()
        assert detail["category"] == "咨询" and detail["reason"] == "asked" and detail["sla_due_at"]
        bot_lines = [line for line in detail["transcript"] if line["author"] == "bot"]
        assert bot_lines and bot_lines[0]["decision"] == "handoff"  # what the bot decided, for the agent

        waiting = chat(citizen, sender, "你好，在吗")
        assert waiting["mode"] == "human" and "前面还有 0 位" in texts(waiting)
        assert next_event(console, type="message", id=ticket_id)["author"] == "citizen"

        assert app.post(f"/api/v1/tickets/{ticket_id}/claim", headers=bearer("agent-a")).status_code == 200
        lost = app.post(f"/api/v1/tickets/{ticket_id}/claim", headers=bearer("agent-b"))
        assert lost.status_code == 409 and "agent-a" in lost.json()["detail"]
        assert next_event(live, type="agent_joined")["agent"] == "agent-a"

        answer = "无人机飞行前需在民航局无人驾驶航空器综合管理平台（UOM）实名登记并申报飞行计划。"
        sent = app.post(f"/api/v1/tickets/{ticket_id}/messages", headers=bearer("agent-a"), json={"text": answer})
        assert sent.status_code == 200 and sent.json()["delivery"] == "websocket"
        heard = next_event(live, type="message", author="agent")
        assert heard["text"] == answer and heard["agent"] == "agent-a"
        assert chat(citizen, sender, "好的谢谢")["messages"] == []  # with the agent: no automatic answer

        history = citizen.get(f"/api/v1/conversations/{sender}/messages").json()
        assert [m["author"] for m in history["messages"]].count("agent") == 1 and history["mode"] == "human"
        assert TestClient(app.app).get(f"/api/v1/conversations/{sender}/messages").status_code == 403
        intruder = TestClient(app.app)
        intruder.cookies.set("govbot_chat", "guessed", path="/api/v1/")
        assert intruder.get(f"/api/v1/conversations/{sender}/messages").status_code == 403

        closed = app.post(f"/api/v1/tickets/{ticket_id}/close", headers=bearer("agent-a"),
                          json={"resolution": "已告知UOM平台登记流程", "category": "咨询"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert next_event(live, type="ended")["rate"] is True
    rated = citizen.post(f"/api/v1/conversations/{sender}/rating", json={"rating": "satisfied"})
    assert rated.status_code == 200 and rated.json() == {"ticket": ticket_id, "rating": "satisfied"}

    back = chat(citizen, sender, "护照怎么办")
    assert back["mode"] == "bot" and back["decision"] == "answer"  # the bot answers again

    drafted = app.post(f"/api/v1/tickets/{ticket_id}/knowledge", headers=bearer("agent-a"), json={})
    assert drafted.status_code == 200, drafted.text
    draft = drafted.json()
    assert draft["question"] == question and draft["answer"] == answer and draft["status"] == "in_review"
    assert app.get(f"/api/v1/tickets/{ticket_id}", headers=bearer("agent-a")).json()["related_codes"] == [draft["code"]]
    published = app.post(f"/api/v1/kb/guides/{draft['code']}/approve", headers=bearer("reviewer-r"), json={})
    assert published.status_code == 200, published.text

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the live index picks the publish up within about a second
        reply = chat(citizen, sender, question)
        if reply["matches"] and reply["matches"][0]["code"] == draft["code"]:
            break
        time.sleep(0.3)
    assert reply["decision"] == "answer" and "UOM" in texts(reply)


def test_wechat_citizen_gets_the_agents_reply_through_the_customer_service_api(app, wechat_server):
    fake, openid = wechat_server.fake, "oFAKE_handoff_citizen_0001"
    pusher = WeChatPusher(app, "/wechat/official", TOKEN, AES_KEY, fake.appid)
    fake.citizen_spoke(openid)

    def push(content: str, msg_id: int) -> str:
        r = pusher.push({"ToUserName": "gh_govbot", "FromUserName": openid, "CreateTime": int(time.time()),
                         "MsgType": "text", "Content": content, "MsgId": msg_id})
        assert r.status_code == 200
        return pusher.open_reply(r.text)["Content"] if r.text != "success" else ""

    assert "工单号" in push("转人工", 88001)
    sender = f"wx-oa:{openid}"
    with app.app.state.services.db.session() as s:
        ticket_id = s.scalars(select(Ticket.id).where(Ticket.sender_id == sender)).one()
    assert app.post(f"/api/v1/tickets/{ticket_id}/claim", headers=bearer("agent-b")).status_code == 200
    sent = app.post(f"/api/v1/tickets/{ticket_id}/messages", headers=bearer("agent-b"),
                    json={"text": "您好，我是12345客服，请讲。"}).json()
    assert sent["delivery"] == "wechat" and sent["error"] == ""
    assert fake.sent[-1] == {"touser": openid, "msgtype": "text", "text": {"content": "您好，我是12345客服，请讲。"}}
    assert push("我想问社保转移", 88002) == ""  # with the agent: acknowledged, no passive reply

    with app.app.state.services.db.session() as s:  # 49 hours without a word from the citizen
        s.get(ChannelIdentity, sender).last_inbound_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=49)
    late = app.post(f"/api/v1/tickets/{ticket_id}/messages", headers=bearer("agent-b"), json={"text": "还在吗？"}).json()
    assert late["delivery"] == "failed" and "48小时" in late["error"]
    shown = app.get(f"/api/v1/tickets/{ticket_id}", headers=bearer("agent-b")).json()["messages"]
    assert shown[-1]["delivery"] == "failed" and "48小时" in shown[-1]["error"]  # the agent sees it
    with app.app.state.services.db.session() as s:
        assert s.scalars(select(OutboxMessage.status).where(OutboxMessage.sender_id == sender)
                         .order_by(OutboxMessage.id.desc())).first() == "failed"
    closed = app.post(f"/api/v1/tickets/{ticket_id}/close", headers=bearer("agent-b"),
                      json={"resolution": "已电话回访", "category": "求助"})
    assert closed.status_code == 200 and app.app.state.services.conversations.mode(sender) == "bot"


def test_sensitive_words_and_an_agent_picking_up_a_live_conversation(app, agent):
    citizen = TestClient(app.app)
    urgent = chat(citizen, "web-sens-1", "我遭受家暴了怎么办")
    assert (urgent["decision"], urgent["topic"], urgent["mode"]) == ("handoff", "domestic_violence", "human")
    assert "12338" in texts(urgent) and "工单号" in texts(urgent)
    queued = app.get("/api/v1/tickets", headers=bearer("agent-a")).json()
    assert [(t["priority"], t["reason"], t["topic"]) for t in queued if t["sender_id"] == "web-sens-1"] == [
        ("urgent", "sensitive", "家庭暴力与虐待")]
    assert chat(citizen, "web-sens-1", "结束人工")["mode"] == "bot"

    chat(citizen, "web-live-1", "护照怎么办")
    live = app.get("/api/v1/handoff/conversations", headers=bearer("agent-a")).json()
    assert "web-live-1" in [c["sender_id"] for c in live]
    taken = app.post("/api/v1/handoff/conversations/web-live-1/takeover", headers=bearer("agent-a"))
    assert taken.status_code == 200 and taken.json()["assignee"] == "agent-a" and taken.json()["status"] == "assigned"
    assert chat(citizen, "web-live-1", "好的")["mode"] == "human"
    kb = app.get("/api/v1/handoff/kb", params={"q": "护照怎么办"}, headers=bearer("agent-a")).json()
    assert kb[0]["code"] == "GA-CR-01" and "普通护照" in kb[0]["text"]
    back = app.post(f"/api/v1/tickets/{taken.json()['id']}/handback", headers=bearer("agent-a"))
    assert back.json()["status"] == "resolved" and chat(citizen, "web-live-1", "护照怎么办")["mode"] == "bot"
    assert app.get("/api/v1/tickets", headers=bearer("reviewer-r")).status_code == 403  # agents and admins only
