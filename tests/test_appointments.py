import datetime as dt

from bot.appointments import date_problem, parse_date, parse_slot

TODAY = dt.date(2026, 11, 23)  # a Monday


def test_relative_and_absolute_dates():
    assert parse_date("明天", TODAY) == dt.date(2026, 11, 24)
    assert parse_date("下周二", TODAY) == dt.date(2026, 12, 1)
    assert parse_date("周五", TODAY) == dt.date(2026, 11, 27)
    assert parse_date("12月3日", TODAY) == dt.date(2026, 12, 3)
    assert parse_date("2026-12-01", TODAY) == dt.date(2026, 12, 1)
    assert parse_date("1月5号", TODAY) == dt.date(2027, 1, 5)
    assert parse_date("随便哪天", TODAY) is None
    assert parse_date("2月30日", TODAY) is None


def test_date_rules_working_days_within_30_days():
    assert date_problem(dt.date(2026, 11, 20), TODAY) == "这个日期已经过去了"
    assert "当天" in date_problem(TODAY, TODAY)
    assert "周末" in date_problem(dt.date(2026, 11, 28), TODAY)
    assert "30天" in date_problem(dt.date(2027, 1, 4), TODAY)
    assert date_problem(dt.date(2026, 11, 25), TODAY) is None


def test_time_slots():
    assert parse_slot("9点") == "09:00-10:00"
    assert parse_slot("下午2点半") == "14:30-15:30"
    assert parse_slot("14:00") == "13:30-14:30"
    assert parse_slot("晚上8点") is None
