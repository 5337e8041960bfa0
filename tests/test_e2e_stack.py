"""End to end through the real stack: app → Rasa server (trained model) → action webhook → retrieval."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from handoff.models import Ticket
from core.db import Database
from tests.conftest import make_settings
from tests.stack import run_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("stack"), port=18000, rasa_port=15005)
    yield from run_stack(settings)


def texts(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def test_health_and_contract(stack):
    health = stack.client.get("/healthz").json()
    assert health == {"status": "ok", "rasa": True, "items": 80}
    hello = stack.chat("c1", "你好")
    assert hello["decision"] == "dialogue" and hello["matches"] == [] and hello["mode"] == "bot"
    assert "政务通" in texts(hello)
    passport = stack.chat("c1", "护照怎么办")
    assert passport["decision"] == "answer"
    assert passport["matches"][0]["code"] == "GA-CR-01" and passport["matches"][0]["title"] == "普通护照申领"
    assert "普通护照申领" in texts(passport) and "更新于" in texts(passport)


def test_follow_ups_stay_on_the_item_and_a_new_question_switches(stack):
    stack.chat("c2", "护照怎么办")
    fee = stack.chat("c2", "那要多少钱")
    assert fee["matches"][0]["code"] == "GA-CR-01" and "120元" in texts(fee)
    where = stack.chat("c2", "在哪里办")
    assert where["matches"][0]["code"] == "GA-CR-01" and "出入境" in texts(where)
    switch = stack.chat("c2", "社保卡丢了怎么补办")
    assert switch["decision"] == "answer" and switch["matches"][0]["code"] == "RS-02"
    materials = stack.chat("c2", "要带什么材料")
    assert materials["matches"][0]["code"] == "RS-02" and "1. " in texts(materials)


def test_appointment_with_invalid_then_valid_inputs_then_cancel(stack):
    stack.chat("c3", "护照怎么办")
    start = stack.chat("c3", "我想预约办理")
    assert "普通护照申领" in texts(start) and "哪一天" in texts(start)
    weekend = stack.chat("c3", "下周六")
    assert "周末" in texts(weekend)
    past = stack.chat("c3", "2020年1月6日")
    assert "过去" in texts(past)
    day = stack.chat("c3", "下周三")
    assert "可预约的时段" in texts(day) and day["messages"][-1]["buttons"]
    assert "上午可预约的时段" in texts(stack.chat("c3", "上午"))  # which of the morning's slots: asked, not picked
    assert "姓名" in texts(stack.chat("c3", "10点"))
    assert "不像姓名" in texts(stack.chat("c3", "张"))
    assert "手机号" in texts(stack.chat("c3", "王小明"))
    assert "格式不对" in texts(stack.chat("c3", "12345"))
    readback = stack.chat("c3", "13812345678")
    assert "10:00-11:00" in texts(readback) and "预约成功" not in texts(readback)
    done = stack.chat("c3", "确认预约")
    code = re.search(r"确认码：([A-Z0-9]{6})", texts(done)).group(1)
    assert "预约成功" in texts(done)
    ask = stack.chat("c3", "取消预约")
    assert "确认码" in texts(ask)
    assert "后4位" in texts(stack.chat("c3", code))
    assert "不一致" in texts(stack.chat("c3", "1111"))
    assert "确认取消吗" in texts(stack.chat("c3", "5678"))
    cancelled = stack.chat("c3", "确认取消")
    assert f"已取消预约 {code}" in texts(cancelled)


def test_progress_query_wrong_then_right(stack):
    assert "办件编号" in texts(stack.chat("c4", "查一下我的办件进度"))
    assert "没有查到" in texts(stack.chat("c4", "SQ20261102009"))
    assert "后4位" in texts(stack.chat("c4", "SQ20261102001"))
    assert "不一致" in texts(stack.chat("c4", "1111"))
    result = stack.chat("c4", "5678")
    assert "审批通过" in texts(result)


def test_a_question_inside_a_form_is_answered_and_the_form_resumes(stack):
    stack.chat("c5", "护照怎么办")
    stack.chat("c5", "我想预约办理")
    middle = stack.chat("c5", "护照要多少钱")
    assert middle["decision"] == "answer" and "120元" in texts(middle)
    assert "哪一天" in texts(middle)  # the form asks again
    assert "可预约的时段" in texts(stack.chat("c5", "下周三"))


def test_complaint_becomes_a_ticket_with_the_transcript(stack):
    stack.chat("c6", "我要投诉")
    stack.chat("c6", "服务态度")
    stack.chat("c6", "窗口工作人员态度很差，我的手机13912345678打了好几次都没人接")
    done = stack.chat("c6", "不留")
    assert "工单号" in texts(done)
    with Database(stack.settings.database_url).session() as s:
        ticket = s.query(Ticket).filter_by(sender_id="c6").one()
        assert ticket.kind == "complaint" and ticket.category == "投诉" and ticket.topic == "服务态度"
        assert "139****5678" in ticket.content and "13912345678" not in ticket.content  # masked
        assert any("我要投诉" in line["text"] for line in ticket.transcript)


def test_handoff_switches_the_conversation_to_a_human(stack):
    reply = stack.chat("c7", "转人工")
    assert reply["decision"] == "handoff" and reply["mode"] == "human" and "工单号" in texts(reply)
    after = stack.chat("c7", "你好，在吗")
    assert after["mode"] == "human"


def test_imported_faq_sheet_is_answerable_without_restart(stack, tmp_path):
    sheet = tmp_path / "other_city.csv"
    sheet.write_bytes(("code,title,question,similar_questions,answer\n"
                       "DOG-01,养犬登记,养狗要去哪里登记,狗证怎么办|给狗上户口,带犬只免疫证明到辖区派出所登记。\n"
                       ).encode("gbk"))
    env = {**os.environ, "GOVBOT_VAR_DIR": str(stack.settings.var_dir),
           "DATABASE_URL": stack.settings.database_url,
           "GOVBOT_EMBEDDING_MODEL": str(stack.settings.embedding_model)}
    out = subprocess.run([sys.executable, "-m", "govbot.cli", "kb", "import", str(sheet)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    deadline = time.time() + 10
    while time.time() < deadline:
        reply = stack.chat("c8", "狗证在哪办")
        if reply["matches"] and reply["matches"][0]["code"] == "DOG-01":
            break
        time.sleep(0.5)
    assert reply["decision"] == "answer" and "派出所" in texts(reply)
