"""Masking: generated spellings of personal numbers never survive; non-personal numbers stay as written."""
from __future__ import annotations

import datetime as dt
import re
import timeit

from hypothesis import given, settings
from hypothesis import strategies as st

from core.masking import mask_personal_data

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_SEPARATORS = st.sampled_from([" ", "-", "　", "－", "  ", " - ", "\u200b"])
# Surrounding words carry no digits, so every digit left in the output comes from the masked number.
_WORDS = st.text(alphabet="我的号码是请帮查一下谢谢，。：身份证手机卡护照电话 ", max_size=12)


def _digits(n: int):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def id18(draw) -> str:
    region = draw(st.sampled_from(["110101", "310104", "440305", "510107", "650102", "320102"]))
    born = draw(st.dates(dt.date(1920, 1, 1), dt.date(2020, 12, 31))).strftime("%Y%m%d")
    body = region + born + draw(_digits(3))
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS)) % 11]


@st.composite
def id15(draw) -> str:
    born = draw(st.dates(dt.date(1920, 1, 1), dt.date(1999, 12, 31))).strftime("%y%m%d")
    return draw(st.sampled_from(["110101", "310104", "440305"])) + born + draw(_digits(3))


@st.composite
def mobile(draw) -> str:
    return "1" + draw(st.sampled_from("3456789")) + draw(_digits(9))


@st.composite
def bank_card(draw) -> str:
    n = draw(st.integers(16, 19))
    body = draw(st.sampled_from(["62", "4", "5", "60"]))
    body += draw(_digits(n - 1 - len(body)))
    total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d
                for i, d in enumerate(int(c) for c in reversed(body)))
    return body + str(-total % 10)


@st.composite
def landline(draw) -> str:
    area = draw(st.sampled_from(["010", "021", "020", "0755", "0571", "0931"]))
    return area + draw(st.sampled_from("23456789")) + draw(_digits(draw(st.sampled_from([6, 7]))))


def _grouped(draw, number: str, sizes: list[int]) -> str:
    sep = draw(_SEPARATORS)
    groups, pos = [], 0
    for size in sizes:
        groups.append(number[pos:pos + size])
        pos += size
    return sep.join(g for g in groups + [number[pos:]] if g)


@st.composite
def spelled(draw, number_strategy, groupings: list[list[int]], prefixes: tuple[str, ...] = ("",)) -> tuple[str, str]:
    """(the number, how a citizen writes it): plain or in groups, half- or full-width, with a prefix."""
    number = draw(number_strategy)
    text = _grouped(draw, number, draw(st.sampled_from(groupings))) if draw(st.booleans()) else number
    text = draw(st.sampled_from(prefixes)) + text
    if draw(st.booleans()):
        text = text.translate(_FULL_WIDTH)
    return number, text


PERSONAL = st.one_of(
    spelled(id18(), [[6, 8, 4], [6, 4, 4, 4], [3, 3, 4, 4, 4]]),
    spelled(id15(), [[6, 6, 3], [3, 3, 3, 3]]),
    spelled(mobile(), [[3, 4, 4], [3, 8]], prefixes=("", "+86", "+86 ", "86", "0086 ")),
    spelled(bank_card(), [[4, 4, 4, 4], [6, 13], [4, 4, 4, 4, 3]]),
    spelled(landline(), [[3, 8], [4, 8], [4, 4]]),
)


def _digits_left(text: str) -> str:
    return re.sub(r"\D", "", text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


@settings(max_examples=400, deadline=None)
@given(PERSONAL, _WORDS, _WORDS)
def test_no_spelling_of_a_personal_number_survives(case, before, after):
    number, written = case
    masked = mask_personal_data(before + written + after)
    left = _digits_left(masked)
    assert number not in left and "*" in masked
    assert len(left) <= 10  # at most the kept head and tail (110101…1234), never the middle


@settings(max_examples=200, deadline=None)
@given(st.sampled_from("EeGgDdPpSs"), _digits(8), _WORDS)
def test_passport_numbers_are_masked(letter, digits, before):
    masked = mask_personal_data(f"{before}护照号{letter}{digits}")
    assert digits not in masked and masked.endswith(digits[-4:])


@st.composite
def not_personal(draw) -> str:
    day = draw(st.dates(dt.date(2000, 1, 1), dt.date(2035, 12, 31)))
    return draw(st.sampled_from([
        f"SQ{day:%Y%m%d}{draw(st.integers(0, 999)):03d}",
        f"{day:%Y-%m-%d}", f"{day:%Y年%m月%d日}", f"{day:%Y%m%d}", f"{day:%Y/%m/%d}",
        f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
        f"{draw(st.integers(0, 50_000_000))}元", f"¥{draw(st.integers(0, 99_999_999))}",
        f"{draw(st.integers(0, 99_999))}.{draw(st.integers(0, 99)):02d}元",
        "12345", "拨打12345热线", f"{day.year}-{day.year + 3}",
        draw(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=6, max_size=6)),  # booking code
    ]))


@settings(max_examples=400, deadline=None)
@given(not_personal(), _WORDS)
def test_numbers_that_are_not_personal_data_are_kept(text, before):
    assert mask_personal_data(before + text) == before + text


def test_id_card_and_mobile_numbers_are_masked():
    text = "我的身份证是110101199003071234，手机13812345678，申请号SQ20261102001"
    assert mask_personal_data(text) == "我的身份证是110101********1234，手机138****5678，申请号SQ20261102001"


def test_id_card_with_x_checksum_and_a_mistyped_check_digit():
    assert mask_personal_data("11010119900307123X") == "110101********123X"
    assert mask_personal_data("110101199003071236") == "110101********1236"


def test_two_numbers_side_by_side_are_both_masked():
    assert mask_personal_data("13812345678 110101199003071234") == "138****5678 110101********1234"


def test_landlines_with_and_without_area_code():
    assert mask_personal_data("座机(010)8888-6666") == "座机010****6666"
    assert mask_personal_data("家里电话 8888 6666") == "家里电话 ****6666"


def test_house_numbers_in_an_address_are_masked():
    assert mask_personal_data("住在幸福路123号5栋2单元301室") == "住在幸福路***号*栋*单元***室"
    assert mask_personal_data("住在阳光小区12栋3单元") == "住在阳光小区**栋*单元"


def test_mask_is_fast_on_a_typical_message():
    message = "您好，我想预约2026年12月1日上午10:30办理护照，手机13812345678，申请号SQ20261102001"
    per_call = min(timeit.repeat(lambda: mask_personal_data(message), number=2000, repeat=3)) / 2000
    assert per_call < 300e-6, f"{per_call * 1e6:.0f} µs per call"
