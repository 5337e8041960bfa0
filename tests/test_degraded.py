"""Degraded mode: with the Rasa server unreachable, the chat still answers service questions from the knowledge
base (marked `degraded`, counted in /metrics), buttons still work, and forms are declined politely."""
from __future__ import annotations

from core import metrics


def chat(client, sender: str, message: str) -> dict:
    r = client.post("/api/v1/chat", json={"sender_id": sender, "message": message, "channel": "web"})
    assert r.status_code == 200, r.text
    return r.json()


def texts(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def test_without_rasa_the_knowledge_base_answers(app_client):
    # app_client's Rasa URL points at a port where nothing listens: the real gateway, Rasa down
    said = chat(app_client, "web-degraded-1", "护照怎么办理")
    assert said["degraded"] is True and said["decision"] == "answer"
    assert said["matches"][0]["code"] == "GA-CR-01" and "护照" in texts(said)
    assert metrics.is_degraded()
    assert 'decision="degraded_answer"' in app_client.get("/metrics").text


def test_without_rasa_buttons_still_work(app_client):
    offered = chat(app_client, "web-degraded-2", "社保")
    assert offered["decision"] in ("clarify", "handoff") and offered["degraded"]
    button = next(b for m in offered["messages"] for b in m.get("buttons", []) if "choose_option" in b["payload"])
    chosen = chat(app_client, "web-degraded-2", button["payload"])
    assert chosen["decision"] == "answer" and button["title"] in texts(chosen)
    human = chat(app_client, "web-degraded-2", "/request_human")
    assert human["mode"] == "human"


def test_without_rasa_forms_are_declined_with_a_way_forward(app_client):
    said = chat(app_client, "web-degraded-3", "我要预约办护照")
    assert "稍后再试" in texts(said) and "12345" in texts(said)
