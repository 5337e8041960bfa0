"""The hand-off settings file (working hours, holidays, SLA by priority, canned replies)
and the working-time arithmetic: is it open now, when does it next open, when is a first response due."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

DEFAULT_CONFIG = Path(__file__).parent / "handoff.yml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
log = logging.getLogger("govbot.handoff")


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text if len(text) > 4 else f"0{text}")


@dataclass(frozen=True)
class HandoffConfig:
    zone: ZoneInfo
    hours: dict[int, tuple[dt.time, dt.time]]  # weekday (0 = Monday) → open, close
    holidays: frozenset[dt.date]
    extra_workdays: frozenset[dt.date]
    sla_minutes: dict[str, int]
    minutes_per_ticket: float
    canned_replies: tuple[str, ...]

    @classmethod
    def parse(cls, doc: dict) -> "HandoffConfig":
        if "sensitive_keywords" in doc:
            log.warning("hand-off settings: sensitive_keywords is no longer read; sensitive topics are the knowledge "
                        "base's safety policy (editor → 安全话题, /api/v1/kb/safety-topics)")
        hours = {}
        for day, span in (doc.get("hours") or {}).items():
            opens, closes = _time(str(span[0])), _time(str(span[1]))
            if closes <= opens:
                raise ValueError(f"hours.{day}: closes before it opens")
            hours[WEEKDAYS.index(day)] = (opens, closes)
        sla = {"urgent": 1, "high": 3, "normal": 10, "low": 60} | dict(doc.get("sla_minutes") or {})
        return cls(ZoneInfo(doc.get("timezone", "Asia/Shanghai")), hours,
                   frozenset(dt.date.fromisoformat(str(d)) for d in doc.get("holidays") or []),
                   frozenset(dt.date.fromisoformat(str(d)) for d in doc.get("extra_workdays") or []),
                   {k: int(v) for k, v in sla.items()}, float(doc.get("minutes_per_ticket", 3)),
                   tuple(str(r) for r in doc.get("canned_replies") or []))

    # ---- working time -------------------------------------------------------------------------------
    def _span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The day's opening hours as aware datetimes, or None when closed."""
        if day in self.holidays:
            return None
        weekday = 0 if day in self.extra_workdays and day.weekday() not in self.hours else day.weekday()
        if weekday not in self.hours:
            return None
        opens, closes = self.hours[weekday]
        return (dt.datetime.combine(day, opens, self.zone), dt.datetime.combine(day, closes, self.zone))

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        span = self._span(local.date())
        return span is not None and span[0] <= local < span[1]

    def next_open(self, moment: dt.datetime) -> dt.datetime | None:
        """`moment` itself when open, else the next opening within a year (None: never)."""
        local = moment.astimezone(self.zone)
        for offset in range(366):
            span = self._span(local.date() + dt.timedelta(days=offset))
            if span and local < span[1]:
                return max(local, span[0])
        return None

    def add_working_minutes(self, moment: dt.datetime, minutes: float) -> dt.datetime | None:
        """The moment `minutes` of working time after `moment` (time outside the hours does not count)."""
        left = dt.timedelta(minutes=minutes)
        at = self.next_open(moment)
        while at is not None:
            _, closes = self._span(at.date())
            if at + left <= closes:
                return (at + left).astimezone(dt.timezone.utc)
            left -= closes - at
            at = self.next_open(closes)
        return None

    def sla_due(self, created: dt.datetime, priority: str) -> dt.datetime | None:
        return self.add_working_minutes(created, self.sla_minutes.get(priority, self.sla_minutes["normal"]))

    def hours_text(self) -> str:
        """"每天 9:00-21:00" or "周一至周五 9:00-18:00" style, for citizens."""
        names = "一二三四五六日"
        spans = {(o, c) for o, c in self.hours.values()}
        if not self.hours:
            return "暂无人工服务时间"
        if len(spans) == 1:
            o, c = next(iter(spans))
            days = sorted(self.hours)
            which = "每天" if len(days) == 7 else (f"周{names[days[0]]}至周{names[days[-1]]}"
                                                 if days == list(range(days[0], days[-1] + 1))
                                                 else "、".join(f"周{names[d]}" for d in days))
            return f"{which} {o.strftime('%H:%M')}-{c.strftime('%H:%M')}"
        return "；".join(f"周{names[d]} {o.strftime('%H:%M')}-{c.strftime('%H:%M')}"
                        for d, (o, c) in sorted(self.hours.items()))


class ConfigFile:
    """The settings file, read again when it changes on disk (so keywords and hours are editable live)."""

    def __init__(self, path: Path = DEFAULT_CONFIG) -> None:
        self.path = path
        self._stamp: float | None = None
        self._config: HandoffConfig | None = None

    def get(self) -> HandoffConfig:
        stamp = self.path.stat().st_mtime
        if self._config is None or stamp != self._stamp:
            self._config = HandoffConfig.parse(yaml.safe_load(self.path.read_text(encoding="utf-8")) or {})
            self._stamp = stamp
        return self._config
