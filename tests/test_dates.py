"""Dates and times as citizens say them (bot/when.py), with "today" injected."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.appointments import date_problem
from bot.when import cn_number, parse_date, parse_time, spoken, without_when

TUESDAY = dt.date(2026, 12, 1)  # the day the reproductions were taken
MONDAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize("said, expected", [
    ("今天", TUESDAY), ("明天", dt.date(2026, 12, 2)), ("后天", dt.date(2026, 12, 3)),
    ("大后天", dt.date(2026, 12, 4)), ("明儿个", dt.date(2026, 12, 2)), ("明天上午10点", dt.date(2026, 12, 2)),
    ("昨天", dt.date(2026, 11, 30)), ("前天", dt.date(2026, 11, 29)), ("大前天", dt.date(2026, 11, 28)),
    ("这周五", dt.date(2026, 12, 4)), ("本周五", dt.date(2026, 12, 4)), ("这个星期五", dt.date(2026, 12, 4)),
    ("这周一", dt.date(2026, 11, 30)),  # this week's Monday is yesterday: past, said so by the caller
    ("下周三", dt.date(2026, 12, 9)), ("下个礼拜三", dt.date(2026, 12, 9)), ("下星期天", dt.date(2026, 12, 13)),
    ("下下周一", dt.date(2026, 12, 14)), ("周一", dt.date(2026, 12, 7)), ("星期四", dt.date(2026, 12, 3)),
    ("周二", TUESDAY), ("礼拜天", dt.date(2026, 12, 6)), ("周末", dt.date(2026, 12, 5)),
    ("月底", dt.date(2026, 12, 31)), ("月末", dt.date(2026, 12, 31)), ("下个月底", dt.date(2027, 1, 29)),
    ("下个月5号", dt.date(2027, 1, 5)), ("下月5日", dt.date(2027, 1, 5)), ("这个月10号", dt.date(2026, 12, 10)),
    ("5号", dt.date(2026, 12, 5)), ("三号", dt.date(2026, 12, 3)), ("十五号", dt.date(2026, 12, 15)),
    ("12月3日", dt.date(2026, 12, 3)), ("12月3号", dt.date(2026, 12, 3)), ("十二月三日", dt.date(2026, 12, 3)),
    ("12.3", dt.date(2026, 12, 3)), ("12/3", dt.date(2026, 12, 3)), ("2026-12-03", dt.date(2026, 12, 3)),
    ("2026年12月3日", dt.date(2026, 12, 3)), ("２０２６－１２－０３", dt.date(2026, 12, 3)),
    ("１２月３日", dt.date(2026, 12, 3)), ("2026/12/10", dt.date(2026, 12, 10)),
    ("11月20日", dt.date(2026, 11, 20)),  # 11 days behind: past, not next year
    ("1月5日", dt.date(2027, 1, 5)), ("一月五号", dt.date(2027, 1, 5)),  # 11 months behind: next January
    ("10月8日", dt.date(2026, 10, 8)),  # 54 days behind: still past
    ("2月30日", None), ("随便哪天", None), ("下周", None), ("上午", None), ("10点", None), ("", None),
    ("3个月", None), ("第二个", None), ("下週三", dt.date(2026, 12, 9)), ("下個禮拜三", dt.date(2026, 12, 9)),
    ("十二月三號", dt.date(2026, 12, 3)),
])
def test_dates(said, expected):
    assert parse_date(said, TUESDAY) == expected


def test_month_end_after_the_last_working_day_is_next_months():
    assert parse_date("月底", dt.date(2026, 12, 31)) == dt.date(2027, 1, 29)  # Friday; the 30th/31st are a weekend
    assert parse_date("月底", dt.date(2026, 11, 27)) == dt.date(2026, 11, 30)


def test_bare_day_already_past_this_month_is_next_months():
    assert parse_date("5号", dt.date(2026, 11, 20)) == dt.date(2026, 12, 5)


def test_a_month_day_rolls_into_next_year_only_far_behind():
    assert parse_date("1月5号", MONDAY) == dt.date(2027, 1, 5)
    assert parse_date("11月20日", MONDAY) == dt.date(2026, 11, 20)


@pytest.mark.parametrize("said, clock, half", [
    ("上午10点", "10:00", "上午"), ("下午两点半", "14:30", "下午"), ("10:30", "10:30", "上午"),
    ("10：30", "10:30", "上午"), ("１０：３０", "10:30", "上午"), ("两点", "14:00", "下午"),
    ("十点", "10:00", "上午"), ("三点半", "15:30", "下午"), ("十一点", "11:00", "上午"), ("9点", "09:00", "上午"),
    ("下午2点半", "14:30", "下午"), ("14:00", "14:00", "下午"), ("晚上8点", "20:00", "晚上"),
    ("12点半", "12:30", "下午"), ("中午12点", "12:00", "下午"), ("中午1点", "13:00", "下午"),
    ("十点一刻", "10:15", "上午"), ("10点15分", "10:15", "上午"), ("九点到十点", "09:00", "上午"),
    ("明天上午10点", "10:00", "上午"), ("早上九点半", "09:30", "上午"), ("下午三点三刻", "15:45", "下午"),
    ("上午", "", "上午"), ("下午", "", "下午"), ("明天下午", "", "下午"), ("晚上", "", "晚上"),
    ("上午十一點", "11:00", "上午"), ("下午兩點", "14:00", "下午"), ("11点的", "11:00", "上午"),
])
def test_times(said, clock, half):
    asked = parse_time(said)
    assert asked is not None and (asked.clock(), asked.half) == (clock, half)


@pytest.mark.parametrize("said", ["快一点", "早一点可以吗", "明天", "12月3日", "3号", "3小时", "王小明", ""])
def test_no_time(said):
    assert parse_time(said) is None


def test_chinese_numbers_and_reading_back():
    assert [cn_number(s) for s in ("十", "十二", "二十", "二十一", "三十一", "两", "7", "十十", "百")] == [
        10, 12, 20, 21, 31, 2, 7, None, None]
    assert spoken(dt.date(2026, 12, 3)) == "12月3日（星期四）"
    assert without_when("预约明天上午10点办护照") == "预约办护照"
    assert without_when("下周三下午两点半去办社保卡") == "去办社保卡"


@pytest.mark.parametrize("day, problem", [
    (dt.date(2026, 11, 30), "已经过去"), (dt.date(2026, 11, 20), "已经过去"), (TUESDAY, "当天"),
    (dt.date(2026, 12, 5), "周末（星期六）"), (dt.date(2027, 1, 4), "30天"),
    (dt.date(2026, 12, 2), None),
])
def test_date_problems_stay_precise(day, problem):
    found = date_problem(day, TUESDAY)
    assert (found is None) if problem is None else (problem in found)


def test_a_holiday_is_called_a_holiday():
    assert "法定节假日" in date_problem(dt.date(2027, 1, 1), dt.date(2026, 12, 20))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789今明后前昨天大周星期礼拜一二三四五六七八九十两日号月底末下上这本个点时半刻分:：.-/年早晚午 ",
               max_size=20))
def test_any_words_give_a_date_a_time_or_none_never_an_error(text):
    day, asked = parse_date(text, TUESDAY), parse_time(text)
    assert day is None or isinstance(day, dt.date)
    assert asked is None or asked.minutes is None or 0 <= asked.minutes < 25 * 60
    without_when(text)
