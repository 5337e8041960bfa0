"""Masks personal data before text reaches a log, the turn log, a ticket or analytics.

Covers the spellings citizens use: full-width digits, numbers written in groups with spaces or dashes,
a +86 / 0086 prefix. Recognised: 18-digit ID numbers (birth date, check digit), 15-digit old IDs, mobile
numbers, landlines (with or without area code), bank cards (16–19 digits, Luhn), passports and travel
permits (E/G/D/S/P + 8 digits, E + letter + 7, C/H/M + 8 or 10), and house numbers in an address.
Not masked: application numbers (SQ20261102001), dates, times, amounts, short hotlines (12345), booking codes.
"""
from __future__ import annotations

import datetime as dt
import re

# Length-preserving width folding, so spans found in the folded text apply to the original text.
_FOLD = str.maketrans(
    {**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
     "\u3000": " ", "\u200b": " ", "\u200c": " ", "\u200d": " ", "\u2060": " ", "\ufeff": " ", "\u00ad": " ",
     "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-"}
)
_HAS_DIGIT = re.compile(r"[0-9\uff10-\uff19]")
# A run of digits, possibly in groups ("138 1234 5678", "(010)-8888-6666"), possibly with a + prefix.
_RUN = re.compile(r"(?<![0-9A-Za-z+])\+?\(?\d(?:(?:[ -]{1,3}|\)[ -]?)?\d)*[Xx]?(?![0-9A-Za-z])")
_GROUP = re.compile(r"\d+[Xx]?")
_PASSPORT = re.compile(r"(?<![0-9A-Za-z])(?:[EeGgDdSsPp]\d{8}|[Ee][A-Za-z]\d{7}|[CcHhMm]\d{8}(?:\d{2})?)"
                       r"(?![0-9A-Za-z])")
_HOUSE = re.compile(r"(?<=[路街巷弄道村])\d+(?:-\d+)?号(?:\d+(?:号楼|栋|幢|座|单元|层|楼|室|号))*"
                    r"|\d+(?:号楼|栋|幢|座)\d+(?:单元|层|楼|室|号)(?:\d+(?:室|号|层))*")
_UNIT_AFTER = re.compile(r"\s*(?:元|块|万|亿|%|％|年|月|日|号|个|件|人|次|份|天|小时|分|秒|米|公里|平|斤|克|岁|页|条|项)")
_CURRENCY_BEFORE = ("¥", "￥", "$", "RMB", "rmb")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _id18_check_ok(digits: str) -> bool:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS)) % 11] == digits[17].upper()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _mask_number(digits: str) -> str | None:
    """The masked form of a number written without separators, or None when it is not personal data."""
    n, plain = len(digits), digits[:-1] if digits[-1] in "Xx" else digits
    if not plain.isdigit():
        return None
    id_like = n == 18 and digits[0] != "0" and 1900 <= int(digits[6:10]) <= 2099 \
        and _valid_date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    if id_like and _id18_check_ok(digits):
        return f"{digits[:6]}********{digits[14:]}"  # ID number
    if plain == digits and 16 <= n <= 19 and _luhn_ok(digits):
        return f"{digits[:4]}{'*' * (n - 8)}{digits[-4:]}"  # bank card
    if id_like:
        return f"{digits[:6]}********{digits[14:]}"  # an ID number with a mistyped check digit
    if plain != digits:
        return None
    if n == 15 and digits[0] != "0" and _valid_date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12])):
        return f"{digits[:6]}******{digits[12:]}"  # old 15-digit ID
    for prefix in ("", "86", "0086"):
        rest = digits[len(prefix):]
        if digits.startswith(prefix) and len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789":
            return f"{'+86 ' if prefix else ''}{rest[:3]}****{rest[7:]}"  # mobile
    if digits[0] == "0" and 10 <= n <= 12 and digits[1] != "0":
        area = 3 if digits[1] in "12" else 4  # 010, 02x; 0xxx elsewhere
        local = digits[area:]
        if 7 <= len(local) <= 8 and local[0] not in "01":
            return f"{digits[:area]}{'*' * (len(local) - 4)}{local[-4:]}"  # landline with area code
    return None


def _is_date_or_year_range(digits: str, groups: list[str]) -> bool:
    if len(digits) == 8 and 1900 <= int(digits[:4]) <= 2099 \
            and _valid_date(int(digits[:4]), int(digits[4:6]), int(digits[6:])):
        return True
    return len(groups) == 2 and all(len(g) == 4 and g[:2] in ("19", "20") for g in groups)


def _mask_local_landline(digits: str, groups: list[str], text: str, start: int, end: int) -> str | None:
    """7–8 digits without area code: a landline unless it is a date, a year range or an amount/count."""
    if not (7 <= len(digits) <= 8 and digits[0] not in "01") or _is_date_or_year_range(digits, groups):
        return None
    if _UNIT_AFTER.match(text, end) or text[max(0, start - 3):start].rstrip().endswith(_CURRENCY_BEFORE):
        return None
    return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def _mask_run(run: str, text: str, start: int) -> str:
    """Masks a run of digit groups: the whole run if it is one number, else the longest numbers within it."""
    groups = [(m.start(), m.end(), m.group()) for m in _GROUP.finditer(run)]
    out, pos, i = [], 0, 0
    while i < len(groups):
        for j in range(len(groups), i, -1):  # longest span of consecutive groups first
            span = [g for _, _, g in groups[i:j]]
            digits = "".join(span)
            masked = _mask_number(digits)
            lo = 0 if i == 0 else groups[i][0]  # keep a leading "+" / "(" inside the masked span
            hi = groups[j - 1][1]
            if masked is None and not any(g[-1] in "Xx" for g in span):
                masked = _mask_local_landline(digits, span, text, start + lo, start + hi)
            if masked is not None:
                out.append(run[pos:lo] + masked)
                pos, i = hi, j
                break
        else:
            i += 1
    return "".join(out) + run[pos:]


def mask_personal_data(text: str) -> str:
    if not text or not _HAS_DIGIT.search(text):
        return text
    folded = text.translate(_FOLD)
    pieces, pos = [], 0
    for m in _RUN.finditer(folded):
        if m.end() - m.start() < 7:  # shorter than any personal number (times, amounts, 12345)
            continue
        masked = _mask_run(m.group(), folded, m.start())
        if masked != m.group():
            pieces += [text[pos:m.start()], masked]
            pos = m.end()
    text = "".join(pieces) + text[pos:]
    if pos:
        folded = text.translate(_FOLD)
    text = _sub_spans(text, folded, _PASSPORT, lambda s: f"{s[0]}{'*' * (len(s) - 5)}{s[-4:]}")
    return _sub_spans(text, text.translate(_FOLD), _HOUSE, lambda s: re.sub(r"\d", "*", s))


def _sub_spans(text: str, folded: str, pattern: re.Pattern, render) -> str:
    """Replaces each match of `pattern` in the width-folded text by `render(match)` in the original text."""
    pieces, pos = [], 0
    for m in pattern.finditer(folded):
        pieces += [text[pos:m.start()], render(m.group())]
        pos = m.end()
    return "".join(pieces) + text[pos:] if pieces else text
