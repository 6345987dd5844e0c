"""What every conformance rule runs against: the connector's own simulator on loopback, a
client session that records every request the connector sends, and helpers to build requests,
probe subjects, drive deferred answers and inject faults through ``/_sim/config``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from connectors.sdk.conformance.rule import Violation
from connectors.sdk.errors import ConnectorError
from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import Connector, ConnectorSpec
from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.types import AgencyRequest, AgencyResult, ConnectorConfig, ControlResult, Outcome, Pending
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.subjects import Subject

T = TypeVar("T")

NORMAL_TIMEOUT = 3.0  # the connector's timeout for ordinary calls
SHORT_TIMEOUT = 0.3  # ... for calls that must time out
TIMEOUT_SLACK = 1.0  # how late past its timeout a call may end (a loaded machine is slow)
TIME_SCALE = 100_000.0  # simulated seconds per real second: a bank's two days in ~2 s
HARD_LIMIT = 20.0  # no call of the suite may take longer, whatever the connector does
SETTLE_WITHIN = 10.0  # a deferred answer must arrive within this (simulated time is fast)
JUDGE_NAME = "李明远"
JUDGE_OFFICER_ID = "J110105023"
PERSON_NAMES = ("张建华", "王秀英", "刘志强", "陈丽娟", "杨国庆", "赵海燕")
ORGANIZATION_NAMES = ("沈阳恒通商贸有限公司", "北京华信科技有限公司", "广州南粤物流有限公司")
REGIONS = ("110105", "210102", "310104", "440305", "510107", "330106")
PROBES_PER_KIND = 12

ESCAPE_FIX = (
    "translate every failure at the boundary into TransientError, AuthError or RejectedError "
    "(`raise TransientError(...) from exc`); no other exception may leave a connector"
)


@dataclass
class WireCall:
    """One HTTP request the connector sent, as it went on the wire."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)


def probe_subjects(kind: str, count: int = PROBES_PER_KIND) -> list[Subject]:
    """Deterministic, valid subjects of ``kind``: the same list on every run."""
    out: list[Subject] = []
    for i in range(count):
        region = REGIONS[i % len(REGIONS)]
        if kind == "person":
            number = make_resident_id(region, date(1960 + 3 * i, 1 + i % 12, 1 + (7 * i) % 28), 100 + 17 * i)
            out.append(Subject.parse("person", number, PERSON_NAMES[i % len(PERSON_NAMES)]))
        else:
            number = make_credit_code("9", "1", region, f"MA{i:02d}{(37 * i) % 10000:04d}")
            out.append(Subject.parse("organization", number, ORGANIZATION_NAMES[i % 3]))
    return out


def broken_subject(kind: str) -> Subject:
    """A subject whose number has the right shape but a wrong check character (unchecked)."""
    good = probe_subjects(kind, 1)[0]
    last = good.id_number[-1]
    wrong = "1" if last != "1" else "2"
    return Subject(good.kind, good.id_number[:-1] + wrong, good.name)


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _on_request_start(
    calls: list[WireCall],
    _session: aiohttp.ClientSession,
    ctx: SimpleNamespace,
    params: aiohttp.TraceRequestStartParams,
) -> None:
    call = WireCall(params.method, str(params.url), dict(params.headers))
    ctx.wire_call = call
    if "/_sim/" not in call.url:
        calls.append(call)


async def _on_chunk_sent(
    _session: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestChunkSentParams
) -> None:
    call = getattr(ctx, "wire_call", None)
    if call is not None:
        call.body.extend(params.chunk)


class Harness:
    """One connector under test, its simulator, and a recorded client session."""

    def __init__(self, spec: ConnectorSpec, session: aiohttp.ClientSession) -> None:
        self.spec = spec
        self.manifest: Manifest = spec.manifest
        self.session = session
        self.base_config = SimulatorConfig(time_scale=TIME_SCALE)
        self.secret = self.base_config.api_key
        self.sim_url = ""
        self.calls: list[WireCall] = []
        self._runner: web.AppRunner | None = None
        self._n = 0

    # -- life cycle -------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, spec: ConnectorSpec, *, simulator: bool = True) -> AsyncIterator[Harness]:
        calls: list[WireCall] = []
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(functools.partial(_on_request_start, calls))
        trace.on_request_chunk_sent.append(_on_chunk_sent)
        async with aiohttp.ClientSession(trace_configs=[trace]) as session:
            harness = cls(spec, session)
            harness.calls = calls
            try:
                if simulator:
                    await harness._start_simulator()
                yield harness
            finally:
                if harness._runner is not None:
                    await harness._runner.cleanup()

    async def _start_simulator(self) -> None:
        if self.spec.simulator is None:
            raise Violation(
                "the ConnectorSpec ships no simulator, so nothing can be verified over the wire",
                fix="export `simulator=create_simulator` in the ConnectorSpec (built with "
                "connectors.sdk.simulator_kit.make_simulator_app)",
            )
        try:
            app = self.spec.simulator(self.base_config)
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.2)
            await runner.setup()
        except Exception as exc:
            raise Violation(
                f"the simulator did not start: {type(exc).__name__}: {exc}",
                fix="make `create_simulator(config)` return the aiohttp Application built by "
                "connectors.sdk.simulator_kit.make_simulator_app",
            ) from exc
        self._runner = runner
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.sim_url = f"http://127.0.0.1:{port}"

    # -- the connector ------------------------------------------------------------------------

    def connector(
        self,
        *,
        secret: str | None = None,
        timeout: float = NORMAL_TIMEOUT,
        base_url: str | None = None,
        manifest: Manifest | None = None,
    ) -> Connector:
        config = ConnectorConfig(
            base_url=self.sim_url if base_url is None else base_url,
            secret=self.secret if secret is None else secret,
            timeout_seconds=timeout,
            manifest=manifest or self.manifest,
        )
        try:
            return self.spec.factory(config, self.session)
        except Exception as exc:
            raise Violation(
                f"the factory refused a valid configuration: {type(exc).__name__}: {exc}",
                fix="`factory(config, session)` must build the connector without I/O and "
                "without raising for a well-formed ConnectorConfig",
            ) from exc

    def request(self, subject: Subject, *, key: str | None = None, **overrides: Any) -> AgencyRequest:
        self._n += 1
        fields: dict[str, Any] = {
            "request_no": f"CF{self._n:08d}",
            "idempotency_key": key or f"conformance-{self._n}:{self.manifest.name}",
            "case_number": "（2026）京0105执1234号",
            "court_code": "京0105",
            "judge_name": JUDGE_NAME,
            "judge_officer_id": JUDGE_OFFICER_ID,
            "document_number": "（2026）京0105执1234号之一",
            "subject": subject,
        }
        if self.manifest.date_range:
            fields["date_from"] = date(date.today().year - 10, 1, 1)
            fields["date_to"] = date.today()
        fields.update(overrides)
        return AgencyRequest(**fields)

    async def call(self, what: str, make: Callable[[], Awaitable[T]], *, limit: float = HARD_LIMIT) -> T:
        """Run one connector call; anything but a ConnectorError escaping is a violation."""
        try:
            async with asyncio.timeout(limit):
                return await make()
        except ConnectorError:
            raise
        except TimeoutError as exc:
            raise Violation(
                f"{what} did not return within {limit:g}s",
                fix="bound every call by config.timeout_seconds (connectors.sdk.http.fetch_json "
                "does) and raise TransientError when it passes",
            ) from exc
        except Violation:
            raise
        except Exception as exc:
            raise Violation(
                f"{what} raised {type(exc).__name__}: {str(exc)[:200]}", fix=ESCAPE_FIX
            ) from exc

    async def expect_error(
        self, what: str, make: Callable[[], Awaitable[Any]], kind: type[ConnectorError]
    ) -> ConnectorError:
        """Run a call that must raise ``kind``; return the error."""
        try:
            got = await self.call(what, make)
        except ConnectorError as exc:
            if not isinstance(exc, kind):
                raise Violation(
                    f"{what} raised {type(exc).__name__} ({exc.code}: {exc.message[:160]}), "
                    f"expected {kind.__name__}"
                ) from exc
            return exc
        raise Violation(f"{what} returned {type(got).__name__} instead of raising {kind.__name__}")

    async def settle(self, connector: Connector, outcome: Outcome, *, what: str = "poll") -> AgencyResult:
        """Follow a Pending ticket with ``poll`` until the answer comes."""
        deadline = time.monotonic() + SETTLE_WITHIN
        while isinstance(outcome, Pending):
            ticket = outcome.ticket
            if not isinstance(ticket, str) or not ticket:
                raise Violation(f"{what}: a Pending outcome has no ticket ({ticket!r})")
            if time.monotonic() > deadline:
                raise Violation(
                    f"ticket {ticket!r} was still pending after {SETTLE_WITHIN:g}s of polling "
                    f"(the simulator runs {TIME_SCALE:g}x faster than real time)",
                    fix="make the simulator answer after state.answer_delay() real seconds "
                    "(answer_delay_seconds scaled by time_scale), and poll() return the "
                    "AgencyResult once the agency has answered",
                )
            await asyncio.sleep(min(max(outcome.poll_after_seconds, 0.0), 0.05))
            outcome = await self.call(f"poll({ticket!r})", functools.partial(connector.poll, ticket))
        if not isinstance(outcome, AgencyResult):
            raise Violation(f"{what} answered {type(outcome).__name__}, not an AgencyResult or Pending")
        return outcome

    async def settle_control(self, connector: Connector, outcome: object, *, what: str = "control()") -> ControlResult:
        """Follow a control's ``Pending`` ticket with ``control_status`` until the agency's answer.

        A connector whose manifest declares synchronous controls must not answer ``Pending``."""
        controls = self.manifest.controls
        if isinstance(outcome, Pending) and (controls is None or controls.answers != "async"):
            raise Violation(f"{what} answered Pending, but the manifest declares synchronous controls",
                            fix='declare `"answers": "async"` in the manifest\'s `controls` and implement '
                            "control_status(ticket), or answer the ControlResult in the same call")
        deadline = time.monotonic() + SETTLE_WITHIN
        while isinstance(outcome, Pending):
            ticket = outcome.ticket
            if not isinstance(ticket, str) or not ticket:
                raise Violation(f"{what}: a Pending control has no ticket ({ticket!r})")
            if time.monotonic() > deadline:
                raise Violation(
                    f"control ticket {ticket!r} was still pending after {SETTLE_WITHIN:g}s of polling",
                    fix="make the simulator process a control after state.control_delay() real seconds "
                    "and control_status() return the ControlResult once the agency has answered")
            await asyncio.sleep(min(max(outcome.poll_after_seconds, 0.0), 0.05))
            outcome = await self.call(f"control_status({ticket!r})",
                                      functools.partial(connector.control_status, ticket))
        if not isinstance(outcome, ControlResult):
            raise Violation(f"{what} answered {type(outcome).__name__}, not a ControlResult or Pending")
        return outcome

    async def answer(self, connector: Connector, request: AgencyRequest) -> AgencyResult:
        """search() and, for a deferred connector, poll until answered."""
        outcome = await self.call("search()", lambda: connector.search(request))
        return await self.settle(connector, outcome, what="search()")

    async def first_answer_with_records(self, connector: Connector) -> tuple[AgencyRequest, AgencyResult]:
        """The first probe subject the simulated agency knows something about."""
        tried = 0
        for kind in sorted(self.manifest.subject_kinds):
            for subject in probe_subjects(kind):
                request = self.request(subject)
                tried += 1
                result = await self.answer(connector, request)
                if result.records:
                    return request, result
        raise Violation(
            f"none of the {tried} probe subjects got any record, so answers cannot be checked",
            fix="let the simulator derive data from the subject (simulator_kit.subject_rng) so "
            "that most subjects hold something (about 70-80%)",
        )

    # -- the simulator's control API ------------------------------------------------------------

    async def configure(self, **overrides: Any) -> None:
        """Set the simulator to its base configuration plus ``overrides``."""
        settings = {k: v for k, v in asdict(self.base_config).items() if v is not None}
        settings.update(overrides)
        async with self.session.post(f"{self.sim_url}/_sim/config", json=settings) as resp:
            if resp.status != 200:
                raise Violation(
                    f"the simulator refused /_sim/config (HTTP {resp.status})",
                    fix="build the simulator with connectors.sdk.simulator_kit.make_simulator_app",
                )

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(f"{self.sim_url}/_sim/stats") as resp:
            body = await resp.read()
        try:
            stats: dict[str, Any] = json.loads(body)
        except ValueError as exc:
            raise Violation(
                "the simulator's /_sim/stats is not JSON",
                fix="build the simulator with connectors.sdk.simulator_kit.make_simulator_app",
            ) from exc
        return stats

    async def reset(self) -> None:
        async with self.session.post(f"{self.sim_url}/_sim/reset") as resp:
            await resp.read()

    @contextlib.asynccontextmanager
    async def callback_receiver(self) -> AsyncIterator[CallbackReceiver]:
        receiver = CallbackReceiver()
        app = web.Application()
        app.router.add_post("/callbacks", receiver.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/callbacks"
        try:
            yield receiver
        finally:
            await runner.cleanup()


class CallbackReceiver:
    """Records every callback the simulated agency pushes."""

    def __init__(self) -> None:
        self.url = ""
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.deliveries.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return web.json_response({"ok": True})

    async def wait(self, done: Callable[[Sequence[tuple[dict[str, str], bytes]]], bool], within: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not done(self.deliveries):
                    self.arrived.clear()
                    await self.arrived.wait()
        return done(self.deliveries)


__all__ = [
    "HARD_LIMIT",
    "NORMAL_TIMEOUT",
    "SHORT_TIMEOUT",
    "TIMEOUT_SLACK",
    "TIME_SCALE",
    "CallbackReceiver",
    "Harness",
    "WireCall",
    "broken_subject",
    "free_port",
    "probe_subjects",
]
