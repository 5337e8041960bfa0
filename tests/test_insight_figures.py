"""Every dashboard figure equals an independent count of a replayed synthetic traffic file (≥ 5,000 turns)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import threading
from collections import Counter

import pytest
import yaml

from core.settings import ROOT
from tests.conftest import auth

LOCAL = dt.timedelta(hours=8)
EXCHANGES = 2600  # two turns each


@pytest.fixture
def traffic(app_client, tmp_path) -> tuple[list[dict], dt.date]:
    from insight.synthetic import generate, read_jsonl, replay, write_jsonl

    svc = app_client.app.state.services
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=1)
    path = tmp_path / "traffic.jsonl"
    assert write_jsonl(generate(EXCHANGES, now, 21, [(g.code, g.title) for g in svc.kb.live()], seed=11), path) \
        == EXCHANGES
    records = list(read_jsonl(path))
    assert replay(svc.db, records) >= 5000
    return records, (now + LOCAL).date()


def _local(at: dt.datetime) -> dt.datetime:
    return at + LOCAL


def expected(records: list[dict], first: dt.date, last: dt.date) -> dict:
    """The dashboard's figures counted straight from the traffic file."""
    guides = {}
    for path in (ROOT / "knowledge_base" / "sample" / "guides").glob("*.yaml"):
        g = yaml.safe_load(path.read_text(encoding="utf-8"))
        guides[g["code"]] = g
    asked = [r for r in records if first <= _local(dt.datetime.fromisoformat(r["at"])).date() <= last]
    replied = [r for r in records if first <= _local(dt.datetime.fromisoformat(r["at"]) + dt.timedelta(
        milliseconds=r["latency_ms"])).date() <= last]
    decisions = Counter(r["decision"] for r in replied)
    service = sum(decisions[d] for d in ("answer", "clarify", "handoff"))
    handoffs = sum(r["handoff"] for r in replied)
    ratings = Counter(r["rating"] for r in replied)
    latencies = sorted(r["latency_ms"] for r in replied)
    answered = Counter(r["matches"][0]["code"] for r in replied if r["decision"] == "answer")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = Counter(_local(dt.datetime.fromisoformat(r["at"])).date() for r in asked)
    by_hour = Counter(_local(dt.datetime.fromisoformat(r["at"])).hour for r in asked)

    def grouped(field: str) -> dict[str, int]:
        sums = Counter()
        for code, n in answered.items():
            sums[guides[code][field]] += n
        return dict(sums)

    from core.masking import mask_personal_data

    questions = Counter(" ".join(mask_personal_data(r["question"]).split()) for r in asked
                        if not r["question"].startswith("/"))
    return {
        "questions": len(asked), "replies": len(replied),
        "by_day": [{"day": d.isoformat(), "questions": by_day[d]} for d in days],
        "by_hour": [by_hour[h] for h in range(24)],
        "by_channel": dict(Counter(r["channel"] for r in asked)),
        "decisions": {d: decisions[d] for d in ("answer", "clarify", "handoff", "dialogue", "safety")},
        "handoffs": handoffs,
        "rates": {"answer": round(decisions["answer"] / service, 4),
                  "clarify": round(decisions["clarify"] / service, 4),
                  "unanswered": round(decisions["handoff"] / service, 4), "handoff": round(handoffs / len(replied), 4)},
        "satisfaction": {"satisfied": ratings["satisfied"], "unsatisfied": ratings["unsatisfied"],
                         "rate": round(ratings["satisfied"] / (ratings["satisfied"] + ratings["unsatisfied"]), 4)},
        "latency": {"replies": len(latencies), "p50_ms": latencies[math.ceil(0.5 * len(latencies)) - 1],
                    "p95_ms": latencies[math.ceil(0.95 * len(latencies)) - 1]},
        "answered": dict(answered), "by_department": grouped("department"), "by_theme": grouped("theme"),
        "by_region": grouped("region"),
        "top_questions": sorted(questions.items(), key=lambda kv: (-kv[1], kv[0]))[:20],
    }


def _check(client, first: dt.date, last: dt.date, want: dict) -> None:
    q = {"from": first.isoformat(), "to": last.isoformat()}
    o = client.get("/api/v1/insight/overview", params=q, headers=auth("editor")).json()
    for key in ("questions", "replies", "by_day", "by_hour", "decisions", "handoffs", "rates", "satisfaction",
                "latency"):
        assert o[key] == want[key], key
    assert o["by_channel"] == want["by_channel"]
    s = client.get("/api/v1/insight/services", params=q, headers=auth("reviewer")).json()
    ranked = sorted(want["answered"].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    assert [(t["code"], t["answers"]) for t in s["top"]] == ranked
    assert s["answers"] == sum(want["answered"].values())
    for field in ("department", "theme", "region"):
        assert s[f"by_{field}"] == want[f"by_{field}"], field
    top = client.get("/api/v1/insight/questions", params=q, headers=auth("admin")).json()["top"]
    assert [(t["question"], t["count"]) for t in top] == want["top_questions"]


def test_every_figure_equals_an_independent_count(app_client, traffic):
    records, today = traffic
    first = min(_local(dt.datetime.fromisoformat(r["at"])).date() for r in records)
    _check(app_client, first, today, expected(records, first, today))
    week = today - dt.timedelta(days=6)  # the time-range filter: a sub-range counts only its days
    _check(app_client, week, today, expected(records, week, today))


def test_trends_compare_this_week_with_the_week_before(app_client, traffic):
    records, today = traffic
    this = expected(records, today - dt.timedelta(days=6), today)["answered"]
    last = expected(records, today - dt.timedelta(days=13), today - dt.timedelta(days=7))["answered"]
    rising = app_client.get("/api/v1/insight/trends", params={"to": today.isoformat()},
                            headers=auth("editor")).json()["rising"]
    assert rising, "the synthetic traffic has services that rise"
    for r in rising:
        assert (r["this_week"], r["last_week"]) == (this[r["code"]], last.get(r["code"], 0))
        assert r["this_week"] > r["last_week"]
    growth = [r["growth"] for r in rising]
    assert growth == sorted(growth, reverse=True)


def test_csv_export_carries_the_same_figures(app_client, traffic):
    records, today = traffic
    first = today - dt.timedelta(days=13)
    want = expected(records, first, today)
    resp = app_client.get("/api/v1/insight/export.csv", params={"from": first.isoformat(), "to": today.isoformat()},
                          headers=auth("editor"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text.lstrip("\ufeff"))))
    assert rows[0] == ["figure", "key", "value"]
    table = {(f, k): v for f, k, v in rows[1:]}
    assert table[("questions", "total")] == str(want["questions"])
    assert table[("latency", "p95_ms")] == str(want["latency"]["p95_ms"])
    assert table[("decisions", "clarify")] == str(want["decisions"]["clarify"])
    assert {k: int(v) for (f, k), v in table.items() if f == "answers_by_theme"} == want["by_theme"]
    assert {k: int(v) for (f, k), v in table.items() if f == "questions_by_day"} == \
        {d["day"]: d["questions"] for d in want["by_day"]}


def test_the_catch_up_pass_counts_each_turn_once_even_when_run_concurrently(services, tmp_path):
    from insight.analytics import Period
    from insight.rollup import catch_up
    from insight.synthetic import generate, replay

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    replay(services.db, generate(1500, now, 3, [("GA-CR-01", "普通护照申领")], seed=3))
    counted = []
    threads = [threading.Thread(target=lambda: counted.append(catch_up(services.db, batch=200))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted.append(catch_up(services.db))
    assert sum(counted) == 3000
    replay(services.db, generate(10, now, 1, [("GA-CR-01", "普通护照申领")], seed=4))
    assert catch_up(services.db) == 20  # only what is new
    overview = services.insight.overview(Period.last_days(5, (now + LOCAL).date()))
    assert overview["questions"] == overview["replies"] == 1510


def test_fresh_turns_wait_until_they_settle(services):
    from insight.rollup import catch_up

    services.conversations.log("s1", "citizen", "护照怎么办", channel="web")
    assert catch_up(services.db) == 0  # younger than the settle time: a smaller id may still commit
    assert catch_up(services.db, settle_seconds=0) == 1


def test_periods_are_validated_in_chinese_and_english(app_client):
    bad = app_client.get("/api/v1/insight/overview", params={"from": "2025-02-30"}, headers=auth("editor"))
    assert bad.status_code == 422 and "日期格式" in bad.text
    reversed_ = app_client.get("/api/v1/insight/overview", params={"from": "2025-03-02", "to": "2025-03-01"},
                               headers=auth("editor"))
    assert reversed_.status_code == 422 and "开始日期晚于结束日期" in reversed_.text
    assert app_client.get("/api/v1/insight/overview").status_code == 401
    assert app_client.get("/api/v1/insight/overview", headers=auth("agent")).status_code == 403


def test_a_period_reads_its_whole_months_and_the_days_at_its_edges():
    import random

    from insight.analytics import Period
    from insight.buckets import date_of, day_number, first_day_of_month, month_of_day

    d = dt.date
    months, edges = Period(d(2025, 1, 15), d(2025, 4, 10)).spans()
    assert [date_of(first_day_of_month(m)) for m in months] == [d(2025, 2, 1), d(2025, 3, 1)]
    assert [(date_of(e.start), date_of(e.stop - 1)) for e in edges] == [(d(2025, 1, 15), d(2025, 1, 31)),
                                                                     (d(2025, 4, 1), d(2025, 4, 10))]
    months, edges = Period(d(2024, 12, 1), d(2025, 1, 31)).spans()
    assert len(months) == 2 and not any(edges)
    months, edges = Period(d(2025, 2, 2), d(2025, 2, 27)).spans()
    assert not months and edges == [range(day_number(d(2025, 2, 2)), day_number(d(2025, 2, 28)))]
    rng = random.Random(5)
    for _ in range(300):  # every day of the period exactly once, in a whole month or at an edge
        start = d(2024, 1, 1) + dt.timedelta(days=rng.randrange(800))
        period = Period(start, start + dt.timedelta(days=rng.randrange(400)))
        months, edges = period.spans()
        covered = [day for e in edges for day in e]
        covered += [day for day in period.days if month_of_day(day) in months]
        assert sorted(covered) == list(period.days)
        assert all(first_day_of_month(m) >= period.days.start and first_day_of_month(m + 1) <= period.days.stop
                   for m in months)


def test_figures_over_whole_months_equal_an_independent_count(app_client):
    from insight.analytics import Period
    from insight.synthetic import generate, replay

    svc = app_client.app.state.services
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=1)
    records = list(generate(1500, now, 80, [(g.code, g.title) for g in svc.kb.live()], seed=13))
    replay(svc.db, records)
    today = (now + LOCAL).date()
    first = min(_local(dt.datetime.fromisoformat(r["at"])).date() for r in records)
    assert Period(first, today).spans()[0], "80 days hold at least one whole month"
    _check(app_client, first, today, expected(records, first, today))
    middle = first + dt.timedelta(days=20)  # starts inside a month: its first days come from the daily rows
    _check(app_client, middle, today - dt.timedelta(days=3), expected(records, middle, today - dt.timedelta(days=3)))
