"""`govbot ask --json`: one JSON line per stdin question, the model loaded once."""
import json
import os
import subprocess
import sys

from tests.conftest import make_settings


def test_ask_json_lines(tmp_path):
    s = make_settings(tmp_path)
    env = {**os.environ, "GOVBOT_VAR_DIR": str(s.var_dir), "DATABASE_URL": s.database_url}
    out = subprocess.run([sys.executable, "-m", "govbot.cli", "ask", "--json"], input="护照怎么办\n今天天气怎么样\n\n社保卡丢了怎么补办\n",
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["护照怎么办", "今天天气怎么样", "社保卡丢了怎么补办"]
    passport, weather, card = rows
    assert passport["decision"] == "answer" and passport["matches"][0]["code"] == "GA-CR-01"
    assert len(passport["matches"]) >= 5 and {"code", "title", "score"} <= passport["matches"][0].keys()
    assert weather["decision"] == "handoff"
    assert card["decision"] == "answer" and card["matches"][0]["code"] == "RS-02"
