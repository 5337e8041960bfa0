"""Conversation memory over the real action webhook, real knowledge base and retriever: the items discussed
so far ("刚才那个公积金的呢"), follow-ups that stay on the item in context, and a follow-up typed after an
options list instead of a click."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.memory import DISCUSSED_MAX
from tests.test_actions import webhook


@dataclass
class Said:
    messages: list[dict[str, Any]]
    slots: dict[str, Any]

    @property
    def text(self) -> str:
        return "\n".join(m.get("text", "") for m in self.messages if "text" in m)

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.messages for b in m.get("buttons", [])]

    @property
    def meta(self) -> dict[str, Any]:
        return next(m["custom"]["govbot"] for m in self.messages if "custom" in m)

    @property
    def code(self) -> str | None:
        """The item answered (what the app returns as the turn's first match)."""
        return self.meta["matches"][0]["code"] if self.meta.get("decision") == "answer" else None


@dataclass
class Chat:
    """One citizen's conversation as Rasa would run it: slots carried, every message and reply in the events."""

    client: Any
    sender: str = "m1"
    slots: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def ask(self, text: str, intent: str = "ask_service", action: str = "action_answer",
            entities: list | None = None) -> Said:
        self.events.append({"event": "user", "text": text})
        payload = {"next_action": action, "sender_id": self.sender, "version": "3.6.21", "domain": {},
                   "tracker": {"sender_id": self.sender, "slots": dict(self.slots), "events": list(self.events),
                               "latest_message": {"text": text, "intent": {"name": intent},
                                                  "entities": entities or []}}}
        r = self.client.post(webhook(self.client), json=payload)
        assert r.status_code == 200, r.text
        result = r.json()
        for e in result["events"]:
            if e["event"] == "slot":
                self.slots[e["name"]] = e["value"]
        self.events += [{"event": "bot", "text": m["text"]} for m in result["responses"] if "text" in m]
        return Said(result["responses"], dict(self.slots))

    def click(self, button: dict[str, str]) -> Said:
        """A button: Rasa takes its payload as the message, with the payload's intent and entities."""
        intent, _, rest = button["payload"].lstrip("/").partition("{")
        import json

        values = json.loads("{" + rest) if rest else {}
        return self.ask(button["payload"], intent, entities=[{"entity": k, "value": v} for k, v in values.items()])


def test_every_answer_is_remembered_newest_first_and_bounded(app_client):
    chat = Chat(app_client)
    for question in ["护照怎么办", "社保卡丢了怎么补", "结婚登记要带什么", "失业金怎么领", "高龄津贴怎么申请",
                     "驾照到期了怎么换", "社保卡丢了怎么补"]:
        chat.ask(question)
    assert chat.slots["discussed_services"][:2] == ["RS-02", "GA-JJ-01"]
    assert len(chat.slots["discussed_services"]) == DISCUSSED_MAX
    assert chat.slots["discussed_services"].count("RS-02") == 1


def test_back_to_the_item_discussed_two_turns_earlier(app_client):
    chat = Chat(app_client)
    assert chat.ask("租房提取公积金怎么办").code == "GJJ-02"
    assert chat.ask("社保卡丢了怎么补").code == "RS-02"
    back = chat.ask("刚才说的那个公积金，去哪儿办", "ask_attribute")
    assert back.code == "GJJ-02" and "办理地点" in back.text and "社会保障卡" not in back.text
    assert chat.slots["current_service"] == "GJJ-02" and chat.slots["discussed_services"][0] == "GJJ-02"


def test_a_new_service_switches_and_x那个_comes_back(app_client):
    chat = Chat(app_client)
    assert chat.ask("结婚登记要带什么", "ask_attribute").code == "MZ-01"
    assert chat.ask("离婚登记呢").code == "MZ-02"
    back = chat.ask("结婚那个要钱吗", "ask_attribute")
    assert back.code == "MZ-01" and "【结婚登记】收费标准" in back.text


def test_colloquial_and_dialect_follow_ups_stay_on_the_item(app_client):
    chat = Chat(app_client)
    assert chat.ask("身份证过期了咋个换").code == "GA-HZ-02"
    expected = [("要带啥子东西", "所需材料"), ("多长时间能拿到手", "办理时限"), ("周六去行不行", "办公时间"),
                ("啥时候能好", "办理时限"), ("在哪儿弄", "办理地点"), ("能在手机上弄不", "网上办理"),
                ("要钱不", "收费标准")]
    for text, label in expected:
        said = chat.ask(text, "ask_attribute")
        assert said.code == "GA-HZ-02" and f"【居民身份证有效期满换领】{label}" in said.text, text
    for text in ["人不在本地能不能办", "老人能代办不", "咋个办"]:
        said = chat.ask(text, "ask_attribute")
        assert said.code == "GA-HZ-02" and "没有找到" not in said.text, text


def test_a_material_of_the_item_is_not_another_service(app_client):
    chat = Chat(app_client)
    chat.ask("护照怎么办")
    said = chat.ask("要带身份证吗", "ask_attribute")
    assert said.code == "GA-CR-01" and "需要，居民身份证在材料清单里" in said.text


def test_a_follow_up_after_unclicked_options_asks_again_with_buttons_that_answer_it(app_client):
    chat = Chat(app_client)
    options = chat.ask("证件丢了")
    assert options.meta["decision"] == "clarify"
    offered = chat.slots["offered_services"]
    again = chat.ask("要带啥东西", "ask_attribute")
    assert again.meta["decision"] == "clarify" and "所需材料" in again.text
    assert [b for b in again.buttons if "service_code" in b["payload"]] and all(
        '"attribute":"materials"' in b["payload"] for b in again.buttons if "service_code" in b["payload"])
    assert chat.slots["offered_services"] == offered
    clicked = chat.click(again.buttons[1])  # one click answers the follow-up for that item
    assert clicked.code == offered[1] and "所需材料" in clicked.text


def test_a_typed_choice_after_options_answers_the_question_asked_along_the_way(app_client):
    chat = Chat(app_client)
    chat.ask("证件丢了")
    chat.ask("要带啥东西", "ask_attribute")
    picked = chat.ask("身份证")
    assert picked.code == "GA-HZ-03" and "【居民身份证遗失补领】所需材料" in picked.text


def test_an_earlier_question_and_a_follow_up_together_decide_among_the_options(app_client):
    chat = Chat(app_client)
    first = chat.ask("公积金怎么提取")
    assert first.meta["decision"] == "clarify" and "GJJ-02" in chat.slots["offered_services"]
    said = chat.ask("我是租房子住的，能取多少", "ask_attribute")
    assert said.code == "GJJ-02" and "待遇标准" in said.text


def test_after_options_a_new_question_is_answered_on_its_own(app_client):
    chat = Chat(app_client)
    chat.ask("证件丢了")
    said = chat.ask("护照怎么办")
    assert said.code == "GA-CR-01" and chat.slots["offered_services"] == []
