"""Tables for a terminal that hold Chinese text: columns aligned by display width (a CJK
character takes two cells, ``unicodedata.east_asian_width`` W/F), times in Beijing time."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

# China keeps one zone and no daylight saving since 1991: UTC+8 needs no tz database (slim images).
BEIJING = timezone(timedelta(hours=8), "北京时间")


def display_width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` display cells, with an ellipsis when cut."""
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (),
           max_width: int = 40) -> list[str]:
    """Lines of a table: the header, a rule, then the rows; columns ``right`` right-aligned."""
    cells = [[clip(str(c), max_width) for c in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], display_width(c))
    lines = ["  ".join(pad(h, widths[i], right=i in right) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(c, widths[i], right=i in right) for i, c in enumerate(row)).rstrip() for row in cells]
    return lines


def beijing_time(value: str | None, *, seconds: bool = False) -> str:
    """An ISO date-time (any offset) as Beijing time ``YYYY-MM-DD HH:MM``; a bare date as itself."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= 10:
        return date.fromisoformat(value).isoformat()
    if moment.tzinfo is None:  # an agency's local time, given without an offset: already Beijing time
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


__all__ = ["BEIJING", "beijing_time", "clip", "display_width", "pad", "render"]
