"""Synthetic citizen traffic with known counts, for the dashboard tests and `govbot bench insight`.

One record is one exchange: a citizen question and the bot's reply (decision, matches, latency, rating,
hand-off). `replay` writes both turns into the turn log with the record's time, masking the text the same
way the live path does; a test counts the records itself and compares with the dashboard.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import insert

from core.db import Database
from core.masking import mask_personal_data
from insight.models import Turn

CHANNELS = ("web", "wechat_official", "wechat_miniprogram", "rest")
TEMPLATES = ("{t}怎么办", "办理{t}需要什么材料", "{t}在哪里办", "{t}要多少钱", "{t}多久能办好", "我想咨询一下{t}")
MISSING = ("养狗要办狗证吗", "电动车怎么上牌照", "无人机需要登记吗", "摆地摊要办什么手续", "小区装充电桩要审批吗")
SMALL_TALK = ("你好", "谢谢", "再见", "/choose_option")


def generate(exchanges: int, end: dt.datetime, days: int, services: list[tuple[str, str]],
             seed: int = 7) -> Iterator[dict]:
    """`services`: (code, title) pairs. Times spread over the `days` before `end`, in time order."""
    rng = random.Random(seed)
    span = days * 86400
    offsets = sorted(rng.random() * span for _ in range(exchanges))
    start = end - dt.timedelta(days=days)
    weights = [1 / (i + 1) for i in range(len(services))]  # a few services are asked far more often
    for offset in offsets:
        roll = rng.random()
        code, title = rng.choices(services, weights)[0]
        matches: list[dict] = []
        handoff, rating, intent = False, "", "ask_service"
        if roll < 0.62:
            decision, question = "answer", rng.choice(TEMPLATES).format(t=title)
            matches = [{"code": code, "title": title, "score": round(rng.uniform(0.8, 0.99), 4)}]
            rating = rng.choices(("", "satisfied", "unsatisfied"), (0.8, 0.15, 0.05))[0]
        elif roll < 0.74:
            decision, question = "clarify", rng.choice(("证件丢了怎么办", "我要办证", "怎么补办"))
            matches = [{"code": code, "title": title, "score": 0.7},
                       {"code": services[0][0], "title": services[0][1], "score": 0.69}]
        elif roll < 0.86:
            decision, question = "handoff", rng.choice(MISSING)
        elif roll < 0.9:
            decision, question, handoff, intent = "handoff", "转人工", True, "request_human"
        else:
            decision, question, intent = "dialogue", rng.choice(SMALL_TALK), "greet"
        if rng.random() < 0.01:  # citizens type their numbers in
            question += f" 我的身份证{rng.choice(('110101199003071234', '44030519851212345X'))}" \
                        f" 电话{rng.choice(('13812345678', '15900001111'))}"
        sender = f"s{rng.randrange(exchanges // 3 + 1)}"
        yield {"at": (start + dt.timedelta(seconds=offset)).isoformat(), "sender": sender,
               "channel": rng.choices(CHANNELS, (0.5, 0.25, 0.2, 0.05))[0], "question": question,
               "decision": decision, "matches": matches, "latency_ms": int(rng.lognormvariate(4.7, 0.35)),
               "rating": rating, "handoff": handoff, "intent": intent}


def write_jsonl(records: Iterable[dict], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def replay(db: Database, records: Iterable[dict], chunk: int = 5000) -> int:
    """Write each exchange as two turns (citizen, then bot); returns the number of turns written."""
    written, rows = 0, []

    def flush() -> None:
        if rows:
            with db.session() as s:
                s.execute(insert(Turn), rows)
            rows.clear()

    for r in records:
        at = dt.datetime.fromisoformat(r["at"])
        rows.append({"sender_id": r["sender"], "at": at, "author": "citizen", "text": mask_personal_data(r["question"]),
                     "decision": "", "matches": [], "rating": "", "latency_ms": 0, "channel": r["channel"],
                     "intent": "", "handoff": False})
        rows.append({"sender_id": r["sender"], "at": at + dt.timedelta(milliseconds=r["latency_ms"]), "author": "bot",
                     "text": "（答复）", "decision": r["decision"], "matches": r["matches"], "rating": r["rating"],
                     "latency_ms": r["latency_ms"], "channel": r["channel"], "intent": r["intent"],
                     "handoff": r["handoff"]})
        written += 2
        if len(rows) >= chunk:
            flush()
    flush()
    return written
