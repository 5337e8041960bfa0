"""Killing Rasa mid-run under `govbot serve`: every message still gets an answer (the knowledge base answers
alone, marked degraded), none is lost from the turn log, and full service returns by itself once the
supervisor has started Rasa again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from core.db import Database
from insight.models import Turn
from tests.stack import EPOCHS_SCALE

pytestmark = pytest.mark.slow
APP, RASA = 18030, 15035


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{what} within {timeout:.0f} s")


def _rasa_pid() -> int:
    found = subprocess.run(["pgrep", "-f", f"rasa run .*-p {RASA} "], capture_output=True, text=True).stdout.split()
    assert found, "the Rasa server of this test is not running"
    return int(found[0])


def test_killing_rasa_mid_run_loses_nothing_and_service_returns(tmp_path):
    env = {**os.environ, "GOVBOT_PORT": str(APP), "RASA_PORT": str(RASA), "GOVBOT_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'govbot.db'}", "REDIS_URL": ""}
    serve = subprocess.Popen([sys.executable, "-m", "govbot.cli", "serve", "--epochs-scale", str(EPOCHS_SCALE)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{APP}", timeout=30) as http:
            _wait(lambda: http.get("/healthz").json()["status"] == "ok", 900, "the stack came up")

            def ask(sender: str, text: str) -> dict:
                r = http.post("/api/v1/chat", json={"sender_id": sender, "message": text, "channel": "web"})
                assert r.status_code == 200, r.text
                assert r.json()["messages"] and all(m["text"] for m in r.json()["messages"])
                return r.json()

            assert not ask("ft-1", "护照怎么办")["degraded"]
            os.kill(_rasa_pid(), signal.SIGKILL)
            said = [ask(f"ft-{i}", q) for i, q in enumerate(["身份证丢了怎么补办", "公积金怎么提取", "我要预约办护照",
                                                           "社保卡丢了咋办", "结婚登记要带什么"], start=2)]
            assert all(s["degraded"] for s in said)
            assert said[0]["decision"] == "answer" and "身份证" in said[0]["messages"][0]["text"]
            assert "稍后再试" in "\n".join(m["text"] for m in said[2]["messages"])
            assert _wait(lambda: http.get("/healthz").json()["status"] == "ok", 600, "Rasa came back")
            assert not ask("ft-1", "那要多少钱")["degraded"]
        with Database(env["DATABASE_URL"]).session() as s:
            citizen = s.query(Turn).filter(Turn.author == "citizen").count()
            bot = s.query(Turn).filter(Turn.author == "bot").count()
        assert citizen == bot == 7  # every message and its answer logged, none lost
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
    assert "starting it again" in out and "stopped." in out
