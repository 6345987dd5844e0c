"""What every agency simulator shares: latency, injected faults, idempotent query counting,
deterministic data from the subject, and a small control API for tests and benchmarks.

A simulator is a real aiohttp server. Its agency-specific part (wire format, data) lives in
``connectors/<agency>/simulator.py`` and uses this kit:

    state = SimulatorState(config)
    app = make_simulator_app(state, routes, error_style=my_error_body)

Control endpoints (never part of the agency's API):
    GET  /_sim/stats   counts of calls, effective queries (by idempotency key), faults injected,
                       requests in flight now and at most (peak_in_flight)
    POST /_sim/config  change latency or fault rates at run time (JSON, SimulatorConfig fields)
    POST /_sim/reset   forget the ledger and the counts

Faults and counting: ``p_hang`` and ``p_drip`` delay a request that is then handled normally,
so the agency *did* run the query and it counts as an effective query (as in life; the
idempotency key makes the retry free): ``p_drip`` always (the answer is computed, then sent
slowly), ``p_hang`` when the client is still connected after ``hang_seconds``. The other faults
never reach the handler. ``p_malformed``'s body is a truncated JSON envelope (``{"code": "0000", ...``),
malformed in any agency's style.

Time: deferred simulators wait ``answer_delay_seconds`` of *simulated* time before answering,
and simulated time runs ``time_scale`` times faster than real time; ``state.real_seconds(...)``
converts. The conformance suite runs simulators with a large ``time_scale``. Timestamps on the
wire stay real wall-clock times.

Agency-specific state: subclass ``SimulatorState`` and read it back, typed, with
``state_of(request.app, MyState)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

from aiohttp import web

ErrorStyle = Callable[[int, str, str], tuple[str, bytes]]
"""(http status, error code, message) -> (content type, body) in the agency's own style."""

FAULTS = (
    "p_5xx",
    "p_hang",
    "p_malformed",
    "p_wrong_content_type",
    "p_unauthorized",
    "p_rate_limited",
    "p_drip",
    "p_reset",
)

# The reason the kit gives, through the agency's error style, for each injected fault: a
# connector must carry it into its error message (the conformance suite checks it does).
FAULT_REASONS = {
    "service_unavailable": "系统繁忙，请稍后再试",
    "unauthorized": "身份认证失败",
    "rate_limited": "请求过于频繁",
}


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    latency_median_ms: float = 0.0
    latency_sigma: float = 0.0
    p_5xx: float = 0.0
    p_hang: float = 0.0
    p_malformed: float = 0.0
    p_wrong_content_type: float = 0.0
    p_unauthorized: float = 0.0
    p_rate_limited: float = 0.0
    p_drip: float = 0.0
    p_reset: float = 0.0
    down: bool = False
    hang_seconds: float = 30.0
    drip_seconds: float = 5.0
    retry_after_seconds: float = 1.0
    seed: int | None = None
    # Deferred agencies: simulated seconds that pass per real second, and answer delay.
    time_scale: float = 1.0
    answer_delay_seconds: float = 2.0
    # Agencies that answer controls by ticket (banks): simulated seconds before a control is done.
    control_delay_seconds: float = 0.5
    callback_url: str = ""
    callback_secret: str = ""
    api_key: str = "sim-key"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: SimulatorConfig | None = None) -> SimulatorConfig:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown simulator settings: {unknown}")
        current = base or cls()
        coerced: dict[str, Any] = {}
        for key, value in data.items():
            default = getattr(current, key)
            if isinstance(default, bool):
                coerced[key] = bool(value)
            elif isinstance(default, float):
                coerced[key] = float(value)
            else:
                coerced[key] = value
        return replace(current, **coerced)


@dataclass
class SimulatorState:
    config: SimulatorConfig
    ledger: dict[str, Any] = field(default_factory=dict)
    effective_queries: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    in_flight: int = 0  # requests being handled now (the agency's view of a client's concurrency)
    peak_in_flight: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.config.seed is not None:
            self.rng.seed(self.config.seed)

    async def effective(self, key: str, compute: Callable[[], Awaitable[Any] | Any]) -> Any:
        """Run ``compute`` once per idempotency key; later calls with the key get the same answer."""
        if key and key in self.ledger:
            return self.ledger[key]
        value = compute()
        if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
            value = await value
        if key:
            if key in self.ledger:  # another request with the key finished first
                return self.ledger[key]
            self.ledger[key] = value
        self.effective_queries[key or "(no key)"] += 1
        return value

    def real_seconds(self, simulated_seconds: float) -> float:
        """Real seconds that ``simulated_seconds`` of agency time take (``time_scale``)."""
        scale = self.config.time_scale if self.config.time_scale > 0 else 1.0
        return max(0.0, simulated_seconds) / scale

    def answer_delay(self) -> float:
        """Real seconds before a deferred answer is ready: ``answer_delay_seconds`` scaled."""
        return self.real_seconds(self.config.answer_delay_seconds)

    def control_delay(self) -> float:
        """Real seconds before a control answered by ticket is done: ``control_delay_seconds`` scaled."""
        return self.real_seconds(self.config.control_delay_seconds)

    def stats(self) -> dict[str, Any]:
        duplicated = sum(1 for n in self.effective_queries.values() if n > 1)
        return {
            "calls": self.calls,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "effective_queries": sum(self.effective_queries.values()),
            "distinct_keys": len(self.effective_queries),
            "duplicated_keys": duplicated,
            "faults": dict(self.faults),
            "config": asdict(self.config),
        }

    def reset(self) -> None:
        self.ledger.clear()
        self.effective_queries.clear()
        self.faults.clear()
        self.calls = 0
        self.peak_in_flight = self.in_flight


def subject_rng(agency: str, id_number: str) -> random.Random:
    """The same subject always gets the same data from the same agency."""
    digest = hashlib.sha256(f"{agency}|{id_number}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - test data, not secrets


def sample_latency(state: SimulatorState) -> float:
    cfg = state.config
    if cfg.latency_median_ms <= 0:
        return 0.0
    z = state.rng.gauss(0.0, 1.0) if cfg.latency_sigma > 0 else 0.0
    return cfg.latency_median_ms / 1000.0 * math.exp(cfg.latency_sigma * z)


def _default_error_style(status: int, code: str, message: str) -> tuple[str, bytes]:
    body = json.dumps({"error": code, "message": message}, ensure_ascii=False)
    return "application/json", body.encode()


STATE_KEY = web.AppKey("simulator_state", SimulatorState)
STYLE_KEY = web.AppKey("simulator_error_style", object)

S = TypeVar("S", bound=SimulatorState)


def state_of(app: web.Application, cls: type[S]) -> S:
    """The simulator's state, as the (sub)class the agency's simulator built it with."""
    state = app[STATE_KEY]
    if not isinstance(state, cls):
        raise TypeError(f"simulator state is a {type(state).__name__}, not a {cls.__name__}")
    return state


def _pick_fault(state: SimulatorState) -> str | None:
    cfg = state.config
    if cfg.down:
        return "down"
    roll = state.rng.random()
    acc = 0.0
    for name in FAULTS:
        acc += float(getattr(cfg, name))
        if roll < acc:
            return name
    return None


@web.middleware
async def concurrency_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count the agency's requests in flight, and the most at once (``/_sim/stats``)."""
    if request.path.startswith("/_sim/"):
        return await handler(request)
    state = request.app[STATE_KEY]
    state.in_flight += 1
    state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
    try:
        return await handler(request)
    finally:
        state.in_flight -= 1


@web.middleware
async def fault_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.path.startswith("/_sim/"):
        return await handler(request)
    state = request.app[STATE_KEY]
    style: ErrorStyle = request.app[STYLE_KEY]  # type: ignore[assignment]
    state.calls += 1
    delay = sample_latency(state)
    if delay:
        await asyncio.sleep(delay)
    fault = _pick_fault(state)
    if fault is None:
        return await handler(request)
    state.faults[fault] += 1
    cfg = state.config
    if fault in ("down", "p_5xx"):
        status = 503 if fault == "down" else state.rng.choice((500, 502, 503))
        ctype, body = style(status, "service_unavailable", FAULT_REASONS["service_unavailable"])
        return web.Response(status=status, body=body, content_type=ctype.split(";")[0])
    if fault == "p_unauthorized":
        ctype, body = style(401, "unauthorized", FAULT_REASONS["unauthorized"])
        return web.Response(status=401, body=body, content_type=ctype.split(";")[0])
    if fault == "p_rate_limited":
        ctype, body = style(429, "rate_limited", FAULT_REASONS["rate_limited"])
        return web.Response(
            status=429,
            body=body,
            content_type=ctype.split(";")[0],
            headers={"Retry-After": f"{cfg.retry_after_seconds:g}"},
        )
    if fault == "p_hang":
        await asyncio.sleep(cfg.hang_seconds)
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=504)  # the client gave up: nobody to answer
        return await handler(request)
    if fault == "p_malformed":
        return web.Response(status=200, body=b'{"code": "0000", "data": [', content_type="application/json")
    if fault == "p_wrong_content_type":
        return web.Response(status=200, text="<html><body>维护中</body></html>", content_type="text/html")
    if fault == "p_reset":
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise web.HTTPInternalServerError()  # never reaches the client: the socket is gone
    # p_drip: a valid answer, one byte at a time, over drip_seconds.
    inner = await handler(request)
    payload = inner.body if isinstance(inner, web.Response) and isinstance(inner.body, bytes) else b""
    resp = web.StreamResponse(status=inner.status, headers={"Content-Type": inner.content_type})
    resp.content_length = len(payload)
    await resp.prepare(request)
    step = cfg.drip_seconds / max(len(payload), 1)
    try:
        for i in range(len(payload)):
            await resp.write(payload[i : i + 1])
            await asyncio.sleep(step)
        await resp.write_eof()
    except ConnectionResetError:
        pass  # the client gave up waiting, as it should
    return resp


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].stats())


async def _config(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        state.config = SimulatorConfig.from_mapping(await request.json(), state.config)
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(asdict(state.config))


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return web.json_response({"ok": True})


def make_simulator_app(
    state: SimulatorState,
    routes: list[web.RouteDef],
    *,
    error_style: ErrorStyle = _default_error_style,
) -> web.Application:
    app = web.Application(middlewares=[concurrency_middleware, fault_middleware])
    app[STATE_KEY] = state
    app[STYLE_KEY] = error_style
    app.add_routes(routes)
    app.add_routes(
        [
            web.get("/_sim/stats", _stats),
            web.post("/_sim/config", _config),
            web.post("/_sim/reset", _reset),
        ]
    )
    return app


__all__ = [
    "FAULTS",
    "FAULT_REASONS",
    "STATE_KEY",
    "ErrorStyle",
    "SimulatorConfig",
    "SimulatorState",
    "concurrency_middleware",
    "fault_middleware",
    "make_simulator_app",
    "sample_latency",
    "state_of",
    "subject_rng",
]
