"""Masks personal data (ID card numbers, mobile numbers) before text reaches logs or analytics."""
from __future__ import annotations

import re

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
