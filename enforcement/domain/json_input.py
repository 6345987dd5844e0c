"""JSON from outside, read one way everywhere: every JSON body and every NDJSON line goes through
``parse_json``, which refuses what the service cannot keep or PostgreSQL would reject, naming
where it is (``data/amount``, ``debtors/0/name``):

- nesting deeper than ``MAX_DEPTH`` (32) levels (``too_deep``; checked before parsing, so a
  body nested 100,000 deep costs a scan, not a RecursionError);
- ``NaN``, ``Infinity``, ``-Infinity`` and numbers that overflow to infinity such as ``1e400``
  (``number_not_finite``);
- integers outside a signed 64-bit range (``integer_out_of_range``);
- NUL characters (``nul_character``) and lone UTF-16 surrogates (``lone_surrogate``) in any
  string or key;
- bytes that are not UTF-8 (``invalid_utf8``) and text that is not JSON (``malformed_json``):
  these two are ``malformed``, a 400 at the API; the others are a 422.

A leaf module: it imports only the domain's errors.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from enforcement.domain.errors import DomainError

__all__ = ["INT_MAX", "INT_MIN", "MAX_DEPTH", "ImportLine", "JsonRejected", "parse_json"]

MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
ROOT = "(root)"
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]', re.S)
_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRejected(DomainError):
    """The JSON cannot be accepted."""

    default_zh = "JSON 内容不可接受"
    code = "invalid_json"

    def __init__(self, code: str, field: str | None, message_en: str, message_zh: str, *,
                 malformed: bool = False, **details: object) -> None:
        super().__init__(message_en, message_zh=message_zh, code=code, field=field, **details)
        self.field = field
        self.malformed = malformed


@dataclass(frozen=True, slots=True)
class ImportLine:
    """One line of an NDJSON body: its bytes, or why the reader refused it (``too_long``, ...)."""

    number: int
    raw: bytes = b""
    refused: tuple[str, str, str] | None = None  # (code, en, zh)


class _Refused:
    """Put in place of a value the parser hooks refuse; the walk names its path."""

    __slots__ = ("code", "en", "zh")

    def __init__(self, code: str, en: str, zh: str) -> None:
        self.code, self.en, self.zh = code, en, zh


def _constant(name: str) -> _Refused:
    return _Refused("number_not_finite", f"{name} is not a number JSON allows.", f"{name} 不是 JSON 允许的数值")


def _float(text: str) -> float | _Refused:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Refused("number_not_finite", "the number is too large (it overflows to infinity).",
                    "数值过大（溢出为无穷大）")


def _int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) <= 19:
        value = int(text)
        if INT_MIN <= value <= INT_MAX:
            return value
    return _Refused("integer_out_of_range", f"the integer is outside the 64-bit range ({INT_MIN} to {INT_MAX}).",
                    f"整数超出64位范围（{INT_MIN} 至 {INT_MAX}）")


def parse_json(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``raw`` (UTF-8 bytes, a BOM allowed, or text), or ``JsonRejected``."""
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonRejected("invalid_utf8", None, f"The text is not UTF-8 (byte {exc.start + 1}).",
                               f"内容不是 UTF-8 文本（第 {exc.start + 1} 字节）", malformed=True) from exc
    else:
        text = raw
    _check_depth(text, max_depth)
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        where_en = f"line {exc.lineno}, column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        where_zh = f"第 {exc.lineno} 行第 {exc.colno} 列" if exc.lineno > 1 else f"第 {exc.colno} 列"
        raise JsonRejected("malformed_json", None, f"Not valid JSON ({exc.msg} at {where_en}).",
                           f"不是合法的 JSON（{where_zh}：{exc.msg}）", malformed=True) from exc
    except RecursionError as exc:  # only if the depth scan were wrong; never a 500
        raise _too_deep(ROOT, max_depth) from exc
    _walk(value, [], max_depth)
    return value


def _too_deep(path: str, max_depth: int) -> JsonRejected:
    return JsonRejected("too_deep", path, f"{path}: the JSON is nested more than {max_depth} levels deep.",
                        f"{path}：JSON 嵌套超过 {max_depth} 层", limit=max_depth)


def _path(parts: list[str | int]) -> str:
    """The path shown in a refusal: each key as ``_segment`` shows it (made only when refusing)."""
    return "/".join(_segment(p) if isinstance(p, str) else str(p) for p in parts) if parts else ROOT


def _segment(key: str) -> str:
    """A key as a path segment: shown, but never with the characters refused, nor too long."""
    shown = _SURROGATE.sub("\ufffd", key.replace(_NUL, "\ufffd"))
    return shown if len(shown) <= 64 else shown[:63] + "…"


def _check_depth(text: str, max_depth: int) -> None:
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > max_depth:
            raise _too_deep(_path(_deep_path(text, max_depth)), max_depth)


def _deep_path(text: str, max_depth: int) -> list[str | int]:
    """The path to the first container nested deeper than ``max_depth`` (only on refusal)."""
    stack: list[list[Any]] = []  # per open container: [kind, key or index]
    last_string: str | None = None
    for m in _TOKEN.finditer(text):
        mark = m.group()
        if mark[0] == '"':
            last_string = mark
        elif mark == ":" and stack and last_string is not None:
            try:
                stack[-1][1] = _segment(str(json.loads(last_string)))
            except json.JSONDecodeError:
                stack[-1][1] = "?"
        elif mark == "," and stack and stack[-1][0] == "[":
            stack[-1][1] += 1
        elif mark in "[{":
            parts = [entry[1] for entry in stack]
            if len(stack) >= max_depth:
                return parts
            stack.append([mark, 0 if mark == "[" else "?"])
        elif mark in "]}" and stack:
            stack.pop()
    return [entry[1] for entry in stack]


# What the parser hands back that is fine as it is: numbers the hooks let through, true, false, null.
_LEAVES = frozenset({int, float, bool, type(None)})


def _walk(value: Any, parts: list[str | int], max_depth: int) -> None:
    if isinstance(value, str):
        if _NUL in value or _SURROGATE.search(value):
            _check_string(value, parts)
    elif isinstance(value, _Refused):
        where = _path(parts)
        raise JsonRejected(value.code, where, f"{where}: {value.en}", f"{where}：{value.zh}")
    elif isinstance(value, dict):
        if len(parts) >= max_depth:
            raise _too_deep(_path(parts), max_depth)
        for key, item in value.items():
            inner = [*parts, key]  # raw keys: _path shows them as _segment does, when refusing
            # A clean key, and a number, true, false or null, need no call of their own (issue 19).
            if _NUL in key or _SURROGATE.search(key):
                _check_string(key, inner, key=True)
            if type(item) not in _LEAVES:
                _walk(item, inner, max_depth)
    elif isinstance(value, list):
        if len(parts) >= max_depth:
            raise _too_deep(_path(parts), max_depth)
        for index, item in enumerate(value):
            if type(item) not in _LEAVES:
                _walk(item, [*parts, index], max_depth)


def _check_string(text: str, parts: list[str | int], *, key: bool = False) -> None:
    what_en, what_zh = ("key", "键名") if key else ("text", "文字")
    if _NUL in text:
        where = _path(parts)
        raise JsonRejected("nul_character", where, f"{where}: the {what_en} contains a NUL character (\\u0000).",
                           f"{where}：{what_zh}含有 NUL 字符（\\u0000）")
    if _SURROGATE.search(text):
        where = _path(parts)
        raise JsonRejected("lone_surrogate", where,
                           f"{where}: the {what_en} contains a lone UTF-16 surrogate (\\ud800-\\udfff).",
                           f"{where}：{what_zh}含有不成对的 UTF-16 代理字符（\\ud800-\\udfff）")
