"""Answer what was asked, over the real action webhook with the real knowledge base and retriever: the guide's
summary for "X怎么办", an FAQ reply only when its question matches, benefit amounts apart from fees, a plain
"not in the guide" with what it has, no contradiction of an earlier turn, and "要钱不" never a cancel."""
from __future__ import annotations

import pytest

from tests.test_memory import Chat


def test_how_to_gets_the_guides_summary_not_an_faq_reply(app_client):
    said = Chat(app_client).ask("身份证过期了咋换")
    assert said.code == "GA-HZ-02"
    assert "不会罚款" not in said.text  # the FAQ reply to "过期了会不会罚款"
    for line in ("办理对象：", "办理地点：", "所需材料：原居民身份证、居民户口簿、证件照片等5项", "办理时限：",
                 "网上办理：https://zwfw.example.gov.cn/service/GA-HZ-02"):
        assert line in said.text, line


def test_a_benefit_item_summary_gives_the_benefit(app_client):
    said = Chat(app_client).ask("失业金咋领")
    assert said.code == "RS-03" and "待遇标准：" in said.text and "24个月" in said.text


def test_an_faq_reply_answers_only_its_own_question_and_says_which(app_client):
    chat = Chat(app_client)
    chat.ask("身份证过期了咋换")
    said = chat.ask("过期了会不会罚款哦")
    assert said.code == "GA-HZ-02" and "关于“" in said.text and "不会罚款" in said.text


def test_a_how_to_faq_gives_way_to_the_summary(app_client):
    said = Chat(app_client).ask("我想办个护照")  # a similar question of the FAQ "护照怎么办理？"
    assert said.code == "GA-CR-01" and "关于“" not in said.text and "办理对象：" in said.text


def test_eligibility_prefers_the_matching_faq(app_client):
    said = Chat(app_client).ask("我自己辞职的能领失业金吗")
    assert said.code == "RS-03" and "不能领" in said.text and "需要准备" not in said.text


@pytest.mark.parametrize("follow_up", ["丧葬补贴能领多少钱", "一共能领多少", "多少钱能领几个月"])
def test_benefit_is_never_answered_with_the_fee(app_client, follow_up):
    chat = Chat(app_client)
    first = chat.ask("家里老人走了，火化费用能减免不")
    assert first.code == "MZ-07" and "1000元" in first.text
    said = chat.ask(follow_up, "ask_attribute")
    assert said.code == "MZ-07" and "【惠民殡葬补贴申领】待遇标准" in said.text and "1000元" in said.text
    assert "收费标准" not in said.text.split("\n")[0]


def test_fee_and_benefit_of_one_item_stay_apart(app_client):
    chat = Chat(app_client)
    chat.ask("失业保险金怎么申领")
    benefit = chat.ask("一个月给多少钱，能领几个月", "ask_attribute")
    assert "待遇标准" in benefit.text and "12个月" in benefit.text and "收费标准" not in benefit.text.split("\n")[0]
    fee = chat.ask("那申请要收费吗", "ask_attribute")
    assert "【失业保险金申领】收费标准：\n免费" in fee.text


def test_an_attribute_the_guide_lacks_is_said_plainly_with_what_it_has(app_client):
    chat = Chat(app_client)
    chat.ask("护照怎么办")
    said = chat.ask("护照能领多少钱", "ask_attribute")
    assert said.code == "GA-CR-01" and "《普通护照申领》指南里没有写明待遇标准" in said.text
    titles = [b["title"] for b in said.buttons]
    assert "收费标准" in titles and "所需材料" in titles and "待遇标准" not in titles
    fee = chat.click(next(b for b in said.buttons if b["title"] == "收费标准"))
    assert fee.code == "GA-CR-01" and "【普通护照申领】收费标准" in fee.text and "120元" in fee.text


@pytest.mark.parametrize("text", ["要钱不", "补办不要钱嘛", "周末去不得行哇"])
def test_a_deny_that_is_a_question_is_answered(app_client, text):
    chat = Chat(app_client)
    chat.ask("结婚证丢了咋个补")
    said = chat.ask(text, "deny", "action_deny")
    assert said.code == "MZ-03" and "已取消" not in said.text


def test_a_plain_no_outside_a_form_cancels_nothing(app_client):
    said = Chat(app_client).ask("不用了", "deny", "action_deny")
    assert "已取消" not in said.text and "还有其他需要" in said.text
