"""Request bodies, read one way everywhere: whole, to their end, under the route's limit.

- ``read_body(request, limit)``: the whole body, or ``413 payload_too_large`` naming the limit
  (refused by ``Content-Length`` before reading, or as soon as more than ``limit`` bytes
  arrived). Never one ``content.read(n)``, which answers with whatever has arrived so far.
- ``read_json(request)``: a JSON object under ``JSON_BODY_MAX_BYTES`` (64 KiB), checked by
  ``enforcement.domain.json_input.parse_json`` (depth, numbers, NUL, lone surrogates).
- ``read_ndjson(request, max_bytes=, max_lines=)``: every line of an NDJSON body, numbered from
  1 as the sender counts them, read to the end before anything is processed (so a 413 means
  nothing was stored). Blank lines are skipped; a line over ``MAX_LINE_BYTES`` and every
  non-blank line past ``max_lines`` come back refused (``line_too_long``, ``too_many_lines``),
  so the import reports them with their numbers.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from enforcement.api.errors import ApiError, BadRequest, PayloadTooLarge, ValidationFailed
from enforcement.api.keys import SETTINGS
from enforcement.domain.json_input import ImportLine, JsonRejected, parse_json

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")
MAX_LINE_BYTES = 64 * 1024
CHUNK = 64 * 1024


def too_large(limit: int, what_en: str = "The request body", what_zh: str = "请求内容") -> PayloadTooLarge:
    """The 413 for a body over ``limit`` bytes (what the limit is, in both languages)."""
    return PayloadTooLarge(f"{what_en} is larger than {limit} bytes, the limit of this route; split it or send less.",
                           message_zh=f"{what_zh}超过本接口上限 {limit} 字节，请拆分或减少内容",
                           code="payload_too_large", limit=limit)


def json_error(exc: JsonRejected) -> ApiError:
    """A refused JSON body as the API answers it: 400 when it is not JSON, 422 naming the field."""
    details = {k: v for k, v in exc.details.items() if v is not None}
    if exc.malformed:  # not JSON, or not UTF-8: both malformed_json, as before
        return BadRequest(f"The body is not valid JSON: {exc.message_en}",
                          message_zh=f"请求体不是合法的 JSON：{exc.message_zh}", code="malformed_json", **details)
    return ValidationFailed(exc.message_en, message_zh=exc.message_zh, code=exc.code, **details)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes (413 past it, read no further)."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    if request.content_length is not None and "Content-Encoding" not in request.headers:
        # Not compressed: the parser delivers exactly Content-Length bytes, at most ``limit``, so
        # read them to their end at once (to EOF, never ``read(n)``), without the chunk loop's
        # calls (issue 19). A compressed body is inflated as it is read: counted chunk by chunk.
        return await request.content.read()
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        if len(body) + len(chunk) > limit:
            raise too_large(limit)
        body += chunk
    return bytes(body)


async def read_json_value(request: web.Request, limit: int) -> Any:
    """Any JSON value (the caller checks its shape), read whole under ``limit``."""
    raw = await read_body(request, limit)
    try:
        return parse_json(raw)
    except JsonRejected as exc:
        raise json_error(exc) from exc


async def read_json(request: web.Request) -> dict[str, Any]:
    """A JSON object: the body of every JSON command."""
    if request.content_type not in ("application/json", ""):
        raise BadRequest(f"Expected application/json, got {request.content_type}.",
                         message_zh="请求体须为 JSON（application/json）", code="bad_content_type")
    body = await read_json_value(request, request.app[SETTINGS].json_body_max_bytes)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", message_zh="请求体须为 JSON 对象", code="not_an_object")
    return body


def require_ndjson(request: web.Request, what_zh: str = "每行一个 JSON 对象") -> None:
    """Refuse (400 ``bad_content_type``) a request whose content type is not NDJSON."""
    if request.content_type not in NDJSON_TYPES:
        raise BadRequest(f"Expected NDJSON ({NDJSON_TYPES[0]}), got {request.content_type}.",
                         message_zh=f"请求体须为 NDJSON（{NDJSON_TYPES[0]}），{what_zh}", code="bad_content_type")


async def read_ndjson(request: web.Request, *, max_bytes: int, max_lines: int,
                      max_line_bytes: int = MAX_LINE_BYTES) -> list[ImportLine]:
    """Every non-blank line of the body, in order, read to its end (see the module's text)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large(max_bytes, "The import", "导入内容")
    lines: list[ImportLine] = []
    number, buffer, too_long, total = 0, bytearray(), False, 0

    def finish() -> None:
        if too_long:
            lines.append(_counted(len(lines), max_lines, ImportLine(number, refused=(
                "line_too_long", f"The line is longer than {max_line_bytes} bytes.",
                f"该行超过 {max_line_bytes} 字节"))))
            return
        raw = bytes(buffer).strip()
        if raw:
            lines.append(_counted(len(lines), max_lines, ImportLine(number, raw)))

    async for chunk in request.content.iter_chunked(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise too_large(max_bytes, "The import", "导入内容")
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not too_long:
                buffer += piece
                if len(buffer) > max_line_bytes:
                    too_long, buffer = True, bytearray()
            if end < 0:
                break
            number += 1
            finish()
            buffer, too_long, start = bytearray(), False, end + 1
    if buffer.strip() or too_long:
        number += 1
        finish()
    return lines


def _counted(before: int, max_lines: int, line: ImportLine) -> ImportLine:
    """The line, or past the limit the line refused as ``too_many_lines`` (its bytes dropped)."""
    if before < max_lines:
        return line
    return ImportLine(line.number, refused=(
        "too_many_lines", f"An import holds at most {max_lines} lines; send this line again in another import.",
        f"每次导入最多 {max_lines} 行，请在下一批中重新发送该行"))


__all__ = ["MAX_LINE_BYTES", "NDJSON_TYPES", "json_error", "read_body", "read_json", "read_json_value",
           "read_ndjson", "require_ndjson", "too_large"]
