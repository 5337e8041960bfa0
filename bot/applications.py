"""Where application progress comes from: the app database (demo rows) or a real approval system's
HTTP API (GOVBOT_APPLICATIONS_URL): GET {url}/applications/{number} → {number, phone_tail,
service_title, status, updated_at, note}, 404 when unknown. Progress is shown only after the phone-tail
check (bot/tail_check.py), which locks a number after 5 wrong answers."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import httpx

from bot.models import Application
from bot.tail_check import TailCheck, TailVerdict
from core.clock import city_date, utcnow
from core.db import Database

APPLICATION_NO = re.compile(r"[A-Z]{0,2}\d{10,14}")
SAMPLE_APPLICATIONS = [  # demo data, replaced by the city's approval system
    ("SQ20261102001", "5678", "普通护照申领", "审批通过，证件制作中", "预计3个工作日内寄出"),
    ("SQ20261105017", "1234", "住房公积金提取（租房）", "已受理，审核中", "审核通过后1个工作日内到账"),
    ("SQ20261110023", "8888", "个体工商户设立登记", "已办结", "营业执照已邮寄，请留意快递"),
    ("SQ20261112008", "4321", "医疗费用零星报销", "材料需补正", "缺少住院费用明细清单，请补交"),
]


@dataclass
class Progress:
    number: str
    phone_tail: str
    service_title: str
    status: str
    updated_at: str
    note: str


class Applications:
    def __init__(self, db: Database, backend_url: str = "") -> None:
        self.db, self.backend_url = db, backend_url.rstrip("/")
        self.tails = TailCheck(db)

    def seed_samples(self) -> None:
        with self.db.session() as s:
            if s.get(Application, SAMPLE_APPLICATIONS[0][0]) is None:
                for number, tail, title, status, note in SAMPLE_APPLICATIONS:
                    s.add(Application(number=number, phone_tail=tail, service_title=title, status=status, note=note))

    def lookup(self, number: str) -> Progress | None:
        number = number.strip().upper()
        if not APPLICATION_NO.fullmatch(number):  # never pass arbitrary text on to the approval system
            return None
        if self.backend_url:
            resp = httpx.get(f"{self.backend_url}/applications/{number}", timeout=5.0)
            if resp.status_code == 404:
                return None
            resp.raise_for_status()
            return Progress(**{k: str(v) for k, v in resp.json().items() if k in Progress.__annotations__})
        with self.db.session() as s:
            row = s.get(Application, number)
            if row is None:
                return None
            return Progress(row.number, row.phone_tail, row.service_title, row.status,
                            city_date(row.updated_at or utcnow()).isoformat(), row.note)

    def locked_until(self, number: str) -> dt.datetime | None:
        return self.tails.locked_until(f"application:{number.strip().upper()}")

    def check_tail(self, progress: Progress, tail: str) -> TailVerdict:
        return self.tails.check(f"application:{progress.number}", progress.phone_tail, tail)
