"""Never a dead end (issue 11): a question the bot cannot answer still offers the closest items and a human,
over the real action-server webhook protocol (what Rasa POSTs) with the real retriever."""
from __future__ import annotations

import pytest

from bot.actions.answering import HUMAN_BUTTON, SUGGEST_FLOOR
from tests.test_actions import call, meta, slot_events


def buttons(result: dict) -> list[dict]:
    return [b for m in result["responses"] for b in m.get("buttons") or []]


def choices(result: dict) -> list[str]:
    return [b["payload"] for b in buttons(result) if b["payload"].startswith("/choose_option")]


@pytest.mark.parametrize("typo", ["营业直照", "护招怎么半"])
def test_a_typo_of_a_service_name_gets_choices_and_a_human(app_client, typo):
    said = call(app_client, "action_answer", typo, "ask_service")
    assert meta(said)["decision"] == "clarify"
    assert len(choices(said)) >= 2 and HUMAN_BUTTON in buttons(said)


def test_below_clarify_the_closest_items_are_still_offered(app_client):
    """A question the retriever will not clarify (its threshold raised past the question's confidence) but
    whose top items are plausible: 您是不是想问 with those items, and 转人工."""
    retriever = app_client.app.state.services.retriever
    result = retriever.search("驾考报命")
    assert SUGGEST_FLOOR <= result.confidence < 0.99
    retriever.calibration.clarify_threshold = 0.99
    said = call(app_client, "action_fallback", "驾考报命", "nlu_fallback")
    assert meta(said)["decision"] == "handoff"
    assert "您是不是想问" in said["responses"][0]["text"]
    offered = slot_events(said)["offered_services"]
    assert offered == [m.code for m in result.matches[:3]] == [m["code"] for m in meta(said)["matches"]]
    assert len(choices(said)) == 3 and HUMAN_BUTTON in buttons(said)
    chosen = call(app_client, "action_answer", "第一个", "choose_option", slots={"offered_services": offered},
                  entities=[{"entity": "option_index", "value": "1"}])
    assert slot_events(chosen)["current_service"] == offered[0]


def test_out_of_scope_offers_no_noise_but_a_human(app_client):
    said = call(app_client, "action_answer", "今天天气怎么样", "ask_service")
    assert meta(said)["decision"] == "handoff" and meta(said)["matches"] == []
    assert choices(said) == [] and buttons(said) == [HUMAN_BUTTON]
    assert "没有找到" in said["responses"][0]["text"]  # said, but never only that
