"""Dashboard figures over a range of local days, read from the rollups (ratings from the turn log).

Definitions (the tests count the same things independently):
- questions: citizen messages; replies: bot messages, each with its decision
  (answer | clarify | handoff = the knowledge base had no answer | dialogue = small talk, forms |
  safety = the safety policy answered: self-harm, emergencies, … — turns whose intent is `safety:<topic>`);
- answer / clarify / unanswered rates: shares of the replies to service questions (the first three decisions);
- hand-off rate: share of all replies that transferred the citizen to a human agent;
- satisfaction: satisfied / rated answers; latency: exact p50 and p95 (nearest rank) of the bot replies;
- top services: answers by their item, and the same summed by the item's department, theme and region.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Select, func, select, union_all

from core.db import Database
from insight.buckets import date_of, day_number, first_day_of_month, local_today, month_of_day, utc_start_of
from insight.models import MONTHLY, DailyCount, LatencyDaily, QuestionDaily, QuestionHourOfDay, ServiceDaily, Turn
from knowledge_base.workflow import KnowledgeBase

SERVICE_DECISIONS = ("answer", "clarify", "handoff")
DECISIONS = (*SERVICE_DECISIONS, "dialogue", "safety")
RATINGS = ("satisfied", "unsatisfied")
MAX_DAYS = 400
UNKNOWN = "（未知）"


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end`, both included."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, start: str | None, end: str | None, default_days: int = 30) -> "Period":
        try:
            last = dt.date.fromisoformat(end) if end else local_today()
            first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=default_days - 1)
        except ValueError as exc:
            raise PeriodError("日期格式应为 YYYY-MM-DD / dates must look like 2025-01-31") from exc
        if first > last:
            raise PeriodError("开始日期晚于结束日期 / the start date is after the end date")
        if (last - first).days >= MAX_DAYS:
            raise PeriodError(f"时间范围最长 {MAX_DAYS} 天 / at most {MAX_DAYS} days")
        return cls(first, last)

    @classmethod
    def last_days(cls, days: int, end: dt.date | None = None) -> "Period":
        end = end or local_today()
        return cls(end - dt.timedelta(days=days - 1), end)

    @property
    def days(self) -> range:
        return range(day_number(self.start), day_number(self.end) + 1)

    def spans(self) -> tuple[range, list[range]]:
        """The whole local months inside the period, and the days before and after them."""
        first, stop = self.days.start, self.days.stop
        month = month_of_day(first)
        months = range(month if first_day_of_month(month) == first else month + 1, month_of_day(stop))
        if not months:
            return months, [self.days]
        return months, [range(first, first_day_of_month(months.start)), range(first_day_of_month(months.stop), stop)]

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def percentile(histogram: list[tuple[int, int]], q: float) -> int | None:
    """Nearest-rank percentile of (value, count) pairs sorted by value."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for value, n in histogram:
        seen += n
        if seen >= rank:
            return value
    return histogram[-1][0]


def _summed(daily: type, period: Period, key: str) -> Select:
    """(key, n) rows of a per-day rollup over the period, read from its per-month twin for whole months."""
    monthly = MONTHLY[daily]
    months, edges = period.spans()
    parts = [select(getattr(daily, key), daily.n).where(daily.day >= days.start, daily.day < days.stop)
             for days in edges if days]
    if months:
        parts.append(select(getattr(monthly, key), monthly.n).where(monthly.month >= months.start,
                                                                     monthly.month < months.stop))
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return select(rows.c[key], func.sum(rows.c.n).label("total")).group_by(rows.c[key])


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class Analytics:
    def __init__(self, db: Database, kb: KnowledgeBase) -> None:
        self.db, self.kb = db, kb
        self._catalogue: tuple[int, dict[str, dict[str, str]]] = (-1, {})

    def catalogue(self) -> dict[str, dict[str, str]]:
        """code → title, department, theme, region of every live item (re-read after a KB change)."""
        change = self.kb.last_change()
        if self._catalogue[0] != change:
            self._catalogue = (change, {g.code: {"title": g.title, "department": g.department or UNKNOWN,
                                                 "theme": g.theme or UNKNOWN, "region": g.region or UNKNOWN}
                                        for g in self.kb.live()})
        return self._catalogue[1]

    # ---- volume, decisions, satisfaction, latency -------------------------------------------------
    def overview(self, period: Period) -> dict:
        in_range = (DailyCount.day >= period.days.start, DailyCount.day < period.days.stop)
        with self.db.session() as s:
            by_day = dict(s.execute(select(DailyCount.day, func.sum(DailyCount.n))
                                    .where(*in_range, DailyCount.author == "citizen").group_by(DailyCount.day)).all())
            kinds = s.execute(select(DailyCount.author, DailyCount.channel, DailyCount.decision, DailyCount.handoff,
                                     func.sum(DailyCount.n)).where(*in_range)
                              .group_by(DailyCount.author, DailyCount.channel, DailyCount.decision,
                                        DailyCount.handoff)).all()
            by_hour = dict(s.execute(select(QuestionHourOfDay.hour, func.sum(QuestionHourOfDay.n)).where(
                QuestionHourOfDay.day >= period.days.start, QuestionHourOfDay.day < period.days.stop)
                .group_by(QuestionHourOfDay.hour)).all())
            ratings = dict(s.execute(select(Turn.rating, func.count()).where(
                Turn.rating.in_(RATINGS), Turn.at >= utc_start_of(period.start),
                Turn.at < utc_start_of(period.end + dt.timedelta(days=1))).group_by(Turn.rating)).all())
            latency = _summed(LatencyDaily, period, "latency_ms")
            hist = [(int(ms), int(n)) for ms, n in s.execute(latency.order_by(latency.selected_columns[0]))]
        by_channel: Counter[str] = Counter()
        decisions = {d: 0 for d in DECISIONS}
        handoffs = 0
        for author, channel, decision, handoff, n in kinds:
            n = int(n)
            if author == "citizen":
                by_channel[channel] += n
            elif author == "bot":
                decisions[decision] = decisions.get(decision, 0) + n
                handoffs += n if handoff else 0
        service = sum(decisions[d] for d in SERVICE_DECISIONS)
        total_replies = sum(decisions.values())
        satisfied, unsatisfied = (int(ratings.get(r, 0)) for r in RATINGS)
        return {
            "period": period.as_dict(),
            "questions": sum(by_channel.values()),
            "replies": total_replies,
            "by_day": [{"day": date_of(d).isoformat(), "questions": int(by_day.get(d, 0))} for d in period.days],
            "by_hour": [int(by_hour.get(h, 0)) for h in range(24)],
            "by_channel": dict(by_channel.most_common()),
            "decisions": decisions,
            "handoffs": handoffs,
            "rates": {"answer": _rate(decisions["answer"], service), "clarify": _rate(decisions["clarify"], service),
                      "unanswered": _rate(decisions["handoff"], service), "handoff": _rate(handoffs, total_replies)},
            "satisfaction": {"satisfied": satisfied, "unsatisfied": unsatisfied,
                             "rate": _rate(satisfied, satisfied + unsatisfied)},
            "latency": {"replies": sum(n for _, n in hist), "p50_ms": percentile(hist, 0.5),
                        "p95_ms": percentile(hist, 0.95)},
        }

    # ---- services (热点) and the departments, themes, regions they belong to ------------------------
    def service_counts(self, period: Period) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(_summed(ServiceDaily, period, "code")).all()
        return {code: int(n) for code, n in rows}

    def services(self, period: Period, top: int = 20) -> dict:
        counts = self.service_counts(period)
        catalogue = self.catalogue()
        grouped: dict[str, dict[str, int]] = {"department": {}, "theme": {}, "region": {}}
        for code, n in counts.items():
            info = catalogue.get(code, {})
            for field, sums in grouped.items():
                key = info.get(field, UNKNOWN)
                sums[key] = sums.get(key, 0) + n
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return {
            "period": period.as_dict(),
            "answers": sum(counts.values()),
            "top": [{"code": c, "title": catalogue.get(c, {}).get("title", c), "answers": n} for c, n in ranked],
            **{f"by_{field}": dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))
               for field, sums in grouped.items()},
        }

    # ---- the questions citizens type most ------------------------------------------------------------
    def questions(self, period: Period, top: int = 20) -> dict:
        counts = _summed(QuestionDaily, period, "question")
        question, total = counts.selected_columns
        tie = question  # ties in code-point order on every database (SQLite compares bytes)
        if self.db.engine.dialect.name == "postgresql":
            tie = tie.collate("C")
        with self.db.session() as s:
            rows = s.execute(counts.order_by(total.desc(), tie).limit(top)).all()
        return {"period": period.as_dict(), "top": [{"question": q, "count": int(n)} for q, n in rows]}

    # ---- trends: services rising week over week ------------------------------------------------------
    def trends(self, end: dt.date, top: int = 10, min_count: int = 3) -> dict:
        this = self.service_counts(Period.last_days(7, end))
        last = self.service_counts(Period.last_days(7, end - dt.timedelta(days=7)))
        catalogue = self.catalogue()
        rising = [{"code": c, "title": catalogue.get(c, {}).get("title", c),
                   "theme": catalogue.get(c, {}).get("theme", UNKNOWN), "this_week": n,
                   "last_week": last.get(c, 0), "change": n - last.get(c, 0),
                   "growth": round((n - last.get(c, 0)) / max(1, last.get(c, 0)), 3)}
                  for c, n in this.items() if n >= min_count and n > last.get(c, 0)]
        rising.sort(key=lambda r: (-r["growth"], -r["change"], r["code"]))
        return {"week_ending": end.isoformat(), "rising": rising[:top]}

    def figures(self, period: Period) -> dict:
        """Everything the dashboard shows, for the report and the CSV export."""
        return {"overview": self.overview(period), "services": self.services(period),
                "questions": self.questions(period), "trends": self.trends(period.end)}


def figures_csv_rows(figures: dict) -> list[tuple[str, str, object]]:
    """(figure, key, value) rows: one flat table a spreadsheet opens."""
    o, sv, q, t = figures["overview"], figures["services"], figures["questions"], figures["trends"]
    rows: list[tuple[str, str, object]] = [("period", "from", o["period"]["from"]), ("period", "to", o["period"]["to"]),
                                           ("questions", "total", o["questions"]), ("replies", "total", o["replies"]),
                                           ("handoffs", "total", o["handoffs"])]
    rows += [("questions_by_day", d["day"], d["questions"]) for d in o["by_day"]]
    rows += [("questions_by_hour", f"{h:02d}", n) for h, n in enumerate(o["by_hour"])]
    rows += [("questions_by_channel", c, n) for c, n in o["by_channel"].items()]
    rows += [("decisions", d, n) for d, n in o["decisions"].items()]
    rows += [("rates", k, v) for k, v in o["rates"].items()]
    rows += [("satisfaction", k, v) for k, v in o["satisfaction"].items()]
    rows += [("latency", k, v) for k, v in o["latency"].items()]
    rows += [("top_services", f"{s['code']} {s['title']}", s["answers"]) for s in sv["top"]]
    for field in ("department", "theme", "region"):
        rows += [(f"answers_by_{field}", k, n) for k, n in sv[f"by_{field}"].items()]
    rows += [("top_questions", x["question"], x["count"]) for x in q["top"]]
    rows += [("rising_services", f"{r['code']} {r['title']}", f"{r['last_week']}→{r['this_week']}")
             for r in t["rising"]]
    return rows
