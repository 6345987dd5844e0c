"""Agency dates and times as the wires write them, parsed without ``strptime`` when they are in
their usual fixed form (issue 19): ``datetime.strptime`` is pure Python, about 26 function calls
a field, and every answer has a few. Any other spelling ``strptime`` accepts (``2019512``,
``2026-1-5 1:02:03``) still goes through it, so what parses and what is refused stays the same;
a refusal is the same ``ValueError``.
"""

from __future__ import annotations

from datetime import date, datetime


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def compact_date(text: str) -> date:
    """``20190512`` (``%Y%m%d``) as a date."""
    if len(text) == 8 and _digits(text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return datetime.strptime(text, "%Y%m%d").date()


def compact_datetime(text: str) -> datetime:
    """``20260105140311`` (``%Y%m%d%H%M%S``) as a naive time."""
    if len(text) == 14 and _digits(text):
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                        int(text[12:]))
    return datetime.strptime(text, "%Y%m%d%H%M%S")


def dashed_date(text: str) -> date:
    """``2019-05-12`` (``%Y-%m-%d``) as a date."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and _digits(text[:4] + text[5:7] + text[8:]):
        return date(int(text[:4]), int(text[5:7]), int(text[8:]))
    return datetime.strptime(text, "%Y-%m-%d").date()


def dashed_datetime(text: str) -> datetime:
    """``2026-11-24 21:15:22`` (``%Y-%m-%d %H:%M:%S``) as a naive time."""
    if (len(text) == 19 and text[4] == "-" and text[7] == "-" and text[10] == " " and text[13] == ":"
            and text[16] == ":" and _digits(text[:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:])):
        return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                        int(text[17:]))
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


__all__ = ["compact_date", "compact_datetime", "dashed_date", "dashed_datetime"]
