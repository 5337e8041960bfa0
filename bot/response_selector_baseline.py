"""Baseline for `govbot eval`: Rasa's own ResponseSelector trained on the same FAQ data.

Runs inside .venv-rasa:  python -m bot.response_selector_baseline train DATA_DIR MODEL_DIR
                         python -m bot.response_selector_baseline parse MODEL  < questions.jsonl
The app side (retrieval/benchmark.py) writes DATA_DIR from the knowledge base and reads the rankings.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.disable(logging.WARNING)


def parse(model: str) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model)

    async def run() -> None:
        for line in sys.stdin:
            q = json.loads(line)["q"]
            result = await agent.parse_message(q)
            selectors = result.get("response_selector", {})
            ranking = (selectors.get("faq") or selectors.get("default") or {}).get("ranking", [])
            out = [{"code": r["intent_response_key"].split("/", 1)[1], "confidence": r["confidence"]}
                   for r in ranking if "/" in r.get("intent_response_key", "")]
            print(json.dumps({"q": q, "intent": result["intent"]["name"], "ranking": out}, ensure_ascii=False),
                  flush=True)

    asyncio.run(run())


if __name__ == "__main__":
    parse(sys.argv[1])
