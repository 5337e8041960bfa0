"""Hand-off through the real stack (Rasa server + app): 转人工 → an agent claims → replies (heard live on the
citizen's WebSocket) → closes → the conversation is back with the bot."""
from __future__ import annotations

import httpx
import pytest
from websockets.sync.client import connect

from core.auth import add_user
from core.db import Database
from tests.conftest import make_settings
from tests.stack import run_stack

pytestmark = pytest.mark.slow
ALWAYS_OPEN = "hours:\n" + "".join(f"  {d}: ['00:00', '23:59']\n" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handoff-stack")
    (tmp / "handoff.yml").write_text(ALWAYS_OPEN, encoding="utf-8")
    settings = make_settings(tmp, port=18200, rasa_port=15205, handoff_config=tmp / "handoff.yml")
    yield from run_stack(settings)


def test_ask_for_a_human_claim_reply_close_and_back_to_the_bot(stack):
    token = add_user(Database(stack.settings.database_url), "stack-agent", "agent")
    agent = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.settings.port}", timeout=60) as citizen:
        first = citizen.post("/api/v1/chat", json={"sender_id": "hs1", "message": "护照怎么办"}).json()
        assert first["decision"] == "answer"
        cookie = citizen.cookies["govbot_chat"]
        asked = citizen.post("/api/v1/chat", json={"sender_id": "hs1", "message": "转人工"}).json()
        assert asked["mode"] == "human" and "工单号" in asked["messages"][0]["text"]
        ticket = next(t for t in citizen.get("/api/v1/tickets", headers=agent).json() if t["sender_id"] == "hs1")
        detail = citizen.get(f"/api/v1/tickets/{ticket['id']}", headers=agent).json()
        assert any(line.get("matches") and line["matches"][0]["code"] == "GA-CR-01" for line in detail["transcript"])
        with connect(f"ws://127.0.0.1:{stack.settings.port}/api/v1/conversations/hs1/ws",
                     additional_headers={"Cookie": f"govbot_chat={cookie}"}, open_timeout=30) as live:
            assert citizen.post(f"/api/v1/tickets/{ticket['id']}/claim", headers=agent).status_code == 200
            assert "已接入" in live.recv(timeout=30)
            citizen.post(f"/api/v1/tickets/{ticket['id']}/messages", headers=agent, json={"text": "请带身份证原件。"})
            assert "请带身份证原件" in live.recv(timeout=30)
            closed = citizen.post(f"/api/v1/tickets/{ticket['id']}/close", headers=agent,
                                  json={"resolution": "已解答", "category": "咨询"})
            assert closed.status_code == 200 and "人工服务已结束" in live.recv(timeout=30)
        back = citizen.post("/api/v1/chat", json={"sender_id": "hs1", "message": "护照要多少钱"}).json()
        assert back["mode"] == "bot" and back["decision"] == "answer"
