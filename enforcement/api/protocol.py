"""HTTP protocol hygiene: a neutral ``Server`` header on every response, and the answers aiohttp's
own low-level server gives before the application sees a request.

- ``Server: enforcement`` everywhere (aiohttp would say ``Python/3.x aiohttp/3.y``): set in
  ``on_response_prepare`` for every response the application makes (404 and 405 included), and by
  ``ProtocolErrorHandler`` for the others.
- A request aiohttp cannot parse (a header or request line over ``max_field_size`` /
  ``max_line_size``, 8190 bytes; too many headers; a malformed line) is answered by
  ``RequestHandler.handle_error``, which by default sends the parser's message as plain text, and
  that message quotes the offending line: an oversized ``Authorization`` header came back with the
  token in it. ``ProtocolErrorHandler`` answers instead with the usual JSON error body (code
  ``header_too_large`` or ``bad_http_request``, both languages), quoting nothing; its 500 (a
  failure outside the middlewares) carries no traceback either.

aiohttp builds its ``RequestHandler`` in ``web.Server.__call__``; ``AppRunner`` (use it instead of
``web.AppRunner``: ``enforcement serve``, ``enforcement demo`` and the tests do) makes the server
build ours. Decision 0902.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from enforcement.api.middleware import error_body

SERVER_HEADER = "enforcement"


async def neutral_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``Server: enforcement`` on every response the application prepares (an ``on_response_prepare``
    hook the composition root installs)."""
    response.headers["Server"] = SERVER_HEADER


class ProtocolErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering a request it could not parse (or a failure outside
    the application's middlewares) with a JSON error that echoes nothing of the request."""

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs; raises when a response was already sent
        request_id = uuid.uuid4().hex
        if status >= 500:
            body = error_body("internal_error", "Internal error; the request id helps operations find it.",
                              "服务器内部错误，请提供请求编号以便排查", request_id)
        elif isinstance(exc, LineTooLong):
            body = error_body("header_too_large", "A request line or header is too long.", "请求行或请求头过长",
                              request_id)
        else:
            reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Bad Request"
            body = error_body("bad_http_request", f"The request is not valid HTTP ({reason}).",
                              "请求不是合法的 HTTP 请求", request_id)
        answer = web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                              content_type="application/json",
                              headers={"Server": SERVER_HEADER, "X-Request-Id": request_id})
        answer.force_close()  # as aiohttp's: the connection's state is unknown after an error
        return answer


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return ProtocolErrorHandler(self, loop=self._loop, **self._kwargs)


class AppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer unparsable requests with ``ProtocolErrorHandler``."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server  # same state, our handler factory
        return server


__all__ = ["SERVER_HEADER", "AppRunner", "ProtocolErrorHandler", "neutral_server_header"]
