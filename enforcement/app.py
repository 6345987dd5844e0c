"""The one composition root: ``create_app(settings)`` builds the pool, the HTTP client session,
the connector registry, the services and the background workers, as aiohttp cleanup contexts,
and puts each under its typed key (declared beside its type: ``kernel.pool.POOL``,
``kernel.users.USERS``, ``api.auth.DEMO_ISSUER``, ...). Nothing else constructs infrastructure;
route modules only declare routes.

Layout: the infrastructure and the edge (tokens, audit, middlewares, response hooks, pool, HTTP
session, audit chainer, metrics listener) first, then one block per feature.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from connectors.sdk.pool import RecentFirstConnector
from connectors.sdk.registry import Registry
from enforcement.api import audit as audit_api
from enforcement.api import health
from enforcement.api import web as web_pages
from enforcement.api.auth import (
    DEMO_ISSUER,
    REFUSALS,
    TOKEN_VERIFIER,
    AnonymousRefusals,
    DemoIssuer,
    build_verifier,
    make_auth_middleware,
)
from enforcement.api.health import METRICS_LISTENER, metrics_listener
from enforcement.api.keys import AUDIT, DSN, HTTP_SESSION, POOL, REGISTRY, SETTINGS
from enforcement.api.middleware import request_context
from enforcement.api.protocol import neutral_server_header
from enforcement.cases.alerts import AlertService
from enforcement.cases.breach_check import BreachCheck
from enforcement.cases.indicators import IndicatorChoices, IndicatorService
from enforcement.cases.keys import ALERTS, BREACH_CHECK, CASES, INDICATORS, LIFECYCLE, LIFECYCLE_WORKER, NOTICES
from enforcement.cases.lifecycle import LifecycleRules, LifecycleService, court_today
from enforcement.cases.notices import NoticeService
from enforcement.cases.registry import CaseService
from enforcement.cases.requery import RequeryConfig, RequeryScheduler, tick_budget
from enforcement.cases.review import AnswerReviewer, DossierFlags
from enforcement.cases.routes import alerts as alerts_api
from enforcement.cases.routes import cases
from enforcement.cases.routes import indicators as indicators_api
from enforcement.cases.routes import lifecycle as lifecycle_api
from enforcement.cases.routes import notices as notices_api
from enforcement.cases.store.alerts import AlertStore
from enforcement.cases.store.breach_check import BreachCheckStore
from enforcement.cases.store.indicators import IndicatorStore
from enforcement.cases.store.lifecycle import LifecycleStore
from enforcement.cases.store.notices import NoticeStore
from enforcement.cases.store.registry import CaseRegistry
from enforcement.cases.store.requery import RequeryStore
from enforcement.cases.worker import LifecycleWorker
from enforcement.kernel import metrics
from enforcement.kernel.audit import AUDIT_TRAIL, AuditLog, AuditTrail, load_audit_key
from enforcement.kernel.audit_chainer import AUDIT_CHAINER, AuditChainer
from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.notify import LISTENER, Listener
from enforcement.kernel.partitions import PartitionKeeper
from enforcement.kernel.pool import POOL_PROBE, PoolProbe, create_pool, resolve_database_url
from enforcement.kernel.settings import Settings
from enforcement.kernel.users import USERS, UserStore

# measures feature (imports)
from enforcement.measures.dispatcher import ExpiryWatch, MeasureDispatcher, MeasureDispatcherConfig
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_DISPATCHER, MEASURE_EXPIRY, MEASURES
from enforcement.measures.port import ControlGateway
from enforcement.measures.routes import measures as measures_api
from enforcement.measures.service import MeasureClock, MeasureConfig, MeasureService
from enforcement.measures.store.measures import MeasureStore

# searches feature (imports)
from enforcement.searches.agency_view import AgencyView, SecretRegister
from enforcement.searches.bulk import BatchService
from enforcement.searches.callbacks import CallbackReceiver
from enforcement.searches.coordination import LIVENESS_BEATS
from enforcement.searches.dispatcher import Dispatcher, DispatcherConfig
from enforcement.searches.events import EventHub
from enforcement.searches.gauges import AuditChainWatch, GaugeRefresher
from enforcement.searches.keys import AGENCY_VIEW, BATCHES, CALLBACKS, DISPATCHER, EVENTS, GAUGES, RUNTIMES, SEARCHES
from enforcement.searches.port import SearchPort
from enforcement.searches.routes import agencies, batches, searches
from enforcement.searches.runtime import build_runtimes
from enforcement.searches.service import SearchService
from enforcement.searches.store.agencies import AgencyStore
from enforcement.searches.store.batches import BatchStore
from enforcement.searches.store.gauges import GaugeStore
from enforcement.searches.store.searches import SearchStore
from enforcement.searches.store.tasks import TaskStore

log = structlog.get_logger(__name__)

# Route modules: each only declares ``routes`` (a RouteTableDef); what they use is built here.
ROUTE_MODULES: list[Any] = [health, searches, web_pages, cases, audit_api, agencies, batches, lifecycle_api,
                            indicators_api, alerts_api, notices_api, measures_api]


def _worker_id(settings: Settings) -> str:
    return settings.worker_id or f"{socket.gethostname()}:{os.getpid()}"


async def _background(name: str, coro: Any) -> AsyncIterator[None]:
    task = asyncio.create_task(coro, name=name)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# -- cases feature --------------------------------------------------------------------------------
# The case registry, lifecycle, 终本 checklist, indicators and alerts (issue 5), each service on its
# store under the typed keys of enforcement/cases/keys.py; the lifecycle worker; and the one
# crossing from cases into searches, the re-query's search port (enforcement/searches/port.py).


def _measure_today(app: web.Application) -> date | None:
    """The court's date by the measures' clock (built later, in ``measures_services``): the date a
    renewal from an alert is ruled on by default."""
    clock = app.get(MEASURE_CLOCK)
    return None if clock is None else clock.today()


def cases_services(settings: Settings, registry: Registry) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cases feature's services (every process); dossier alerts on every search view."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        pool, audit = app[POOL], app[AUDIT]
        categories = {name: spec.manifest.search_category for name, spec in registry.items()}
        lifecycle = LifecycleService(LifecycleStore(pool, audit), LifecycleRules.from_settings(settings), categories)
        app[CASES] = CaseService(CaseRegistry(pool, audit), cases.check_structure)
        app[LIFECYCLE] = lifecycle
        app[INDICATORS] = IndicatorService(IndicatorStore(pool, audit), lifecycle,
                                             IndicatorChoices.from_settings(settings))
        app[ALERTS] = AlertService(AlertStore(pool, audit), today=functools.partial(_measure_today, app))
        app[SEARCHES].annotators.append(DossierFlags(AlertStore(pool), settings.property_kinds).annotate)
        manifests = {name: spec.manifest for name, spec in registry.items()}
        app[NOTICES] = NoticeService(NoticeStore(pool), manifests, settings.property_kinds, court_today)
        breach_check = BreachCheck(BreachCheckStore(pool), app[SEARCHES], manifests)
        app[BREACH_CHECK] = breach_check
        app[SEARCHES].followers.append(breach_check.follow)
        yield

    return context


def cases_worker(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """The 终本 re-query schedule, answer review (alerts), lifecycle reconciliation, indicator
    gauges (worker processes)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        config = RequeryConfig.from_settings(settings)
        manifests = {n: rt.manifest for n, rt in app[RUNTIMES].items()}
        port: SearchPort = app[SEARCHES]
        worker = LifecycleWorker(
            lifecycle=app[LIFECYCLE],
            scheduler=RequeryScheduler(RequeryStore(app[POOL]), port, config),
            reviewer=AnswerReviewer(AlertStore(app[POOL]), settings.property_kinds),
            indicators=app[INDICATORS],
            budget=tick_budget(config, manifests, settings.lifecycle_tick_seconds),
            tick_seconds=settings.lifecycle_tick_seconds,
            refresh_seconds=settings.indicator_refresh_seconds,
        )
        app[LIFECYCLE_WORKER] = worker
        # Woken by the answers queued for review (the trigger's own channel, migration 0026), not by
        # every search event: those woke every worker's tick for each search (issue 19). Re-query
        # rounds and removal checks wait for the tick's interval; a reconnect runs a tick at once.
        await app[LISTENER].subscribe("answer_review", worker.wake, on_reconnect=worker.wake)
        runner = asyncio.gather(worker.run())
        yield
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    return context


# -- end of the cases feature ---------------------------------------------------------------------


# -- measures feature -----------------------------------------------------------------------------
# Control measures (issue 17): the service on its store (every process), the court's clock, and in
# worker processes the measure dispatcher and the expiry watch. The agencies reach it through the
# narrow ControlGateway (enforcement/measures/port.py) over the searches feature's runtimes.


class _RuntimeControls:
    """``ControlGateway`` over the agency runtimes: the connector of each agency, nothing else."""

    def __init__(self, runtimes: Any) -> None:
        self.runtimes = runtimes

    async def control(self, agency: str, request: Any) -> Any:
        return await self.runtimes[agency].connector.control(request)

    async def control_status(self, agency: str, ticket: str) -> Any:
        return await self.runtimes[agency].connector.control_status(ticket)

    def answer_within_seconds(self, agency: str) -> float:
        controls = self.runtimes[agency].connector.manifest.controls
        return 86400.0 if controls is None else float(controls.deadline_seconds)


def _measure_config(settings: Settings) -> MeasureConfig:
    return MeasureConfig(
        renewal_notice_days=settings.measure_renewal_notice_days,
        ruling_valid_days=settings.measure_ruling_valid_days,
        deadline_seconds=settings.measure_deadline_seconds,
        funds_account=settings.court_funds_account or "执行案款专户",
        deduction_approval_above=settings.measure_deduction_approval_yuan,
    )


def measures_services(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        clock = app[MEASURE_CLOCK] = MeasureClock()
        app[MEASURES] = MeasureService(MeasureStore(app[POOL], app[AUDIT]), _measure_config(settings), clock)
        yield

    return context


def measures_worker(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        store = MeasureStore(app[POOL], app[AUDIT])
        config = _measure_config(settings)
        gateway: ControlGateway = _RuntimeControls(app[RUNTIMES])
        dispatcher = MeasureDispatcher(store, gateway, MeasureDispatcherConfig(
            worker_id=_worker_id(settings), claim_batch_size=settings.claim_batch_size,
            lease_seconds=settings.lease_seconds, idle_poll_seconds=settings.idle_poll_seconds,
        ), config, app[MEASURE_CLOCK])
        watch = ExpiryWatch(store, config, app[MEASURE_CLOCK], settings.measure_expiry_check_seconds)
        app[MEASURE_DISPATCHER], app[MEASURE_EXPIRY] = dispatcher, watch
        await app[LISTENER].subscribe("measure_tasks", dispatcher.wake, on_reconnect=dispatcher.wake)
        running = [
            asyncio.create_task(dispatcher.run(), name="measure-dispatcher"),
            asyncio.create_task(watch.run(), name="measure-expiry-watch"),
        ]
        yield
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    return context


# -- end of the measures feature ------------------------------------------------------------------


def create_app(
    settings: Settings,
    *,
    registry: Registry | None = None,
    migrate: bool = True,
) -> web.Application:
    registry = registry if registry is not None else Registry.discover().only(settings.enabled_agencies)
    # Routes read their bodies through api/bodies.py, each under its own limit (JSON commands 64 KiB,
    # callbacks 1 MiB, bulk searches 8 MiB, NDJSON imports 16 MiB); aiohttp's own limit, which only
    # request.read()/json()/post() obey, is the smallest, so a route that bypassed them gets 64 KiB.
    app = web.Application(client_max_size=settings.json_body_max_bytes)
    app[SETTINGS] = settings
    app[REGISTRY] = registry

    # Infrastructure and the edge.
    # Tokens: the demo issuer's key, or the identity provider's JWKS (JWT_MODE=jwks); see api/auth.py.
    app[DEMO_ISSUER] = DemoIssuer(settings.data_dir / "keys") if settings.jwt_mode == "demo" else None
    app[TOKEN_VERIFIER] = build_verifier(settings, app[DEMO_ISSUER])
    app[AUDIT] = AuditLog(load_audit_key(settings))
    app[REFUSALS] = AnonymousRefusals(settings.audit_anonymous_refusals_per_minute)
    app.on_response_prepare.append(neutral_server_header)  # Server: enforcement on every response
    app.on_response_prepare.append(web_pages.asset_headers)  # static assets: revalidated, never sniffed
    app.middlewares.append(request_context)
    app.middlewares.append(make_auth_middleware(app[TOKEN_VERIFIER], metrics_public=settings.metrics_public,
                                                metrics_token=settings.metrics_token, anonymous=app[REFUSALS]))

    async def database(app: web.Application) -> AsyncIterator[None]:
        dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
        app[DSN] = dsn
        pool = await create_pool(dsn, min_size=settings.pool_min_size, max_size=settings.pool_max_size)
        if migrate:
            async with pool.acquire() as conn:
                await apply_migrations(conn)
        app[POOL] = pool
        app[POOL_PROBE] = PoolProbe(pool)
        # The process's one LISTENing connection: the features subscribe their channels (decision 1935).
        app[LISTENER] = Listener(dsn)
        app[USERS] = UserStore(pool)
        app[AUDIT_TRAIL] = AuditTrail(app[AUDIT], pool)
        yield
        await app[LISTENER].close()
        await pool.close()

    async def metrics_port(app: web.Application) -> AsyncIterator[None]:
        # /metrics on a listener of its own (METRICS_PORT), see api/health.py.
        runner = web.AppRunner(metrics_listener(app), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.metrics_port, reuse_address=True)
        await site.start()
        app[METRICS_LISTENER] = runner
        yield
        await runner.cleanup()

    async def audit_chainer(app: web.Application) -> AsyncIterator[None]:
        # Every process chains audit records shortly after their actions commit, one at a time (decision 0404).
        # Only the processes serving the API (the writers of nearly every record) are woken by each
        # action's NOTIFY; a worker chains on its interval, a backstop. Woken too, each of N workers
        # took a round per submission that found the head taken: at 4 workers ~5 statements a search
        # (decision 0706).
        chainer = AuditChainer(app[AUDIT], app[POOL])
        app[AUDIT_CHAINER] = chainer
        loops = [chainer.run()]
        if settings.role in ("api", "all"):
            await app[LISTENER].subscribe("audit_pending", chainer.wake, on_reconnect=chainer.wake)
        runner = asyncio.gather(*loops)
        yield
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    async def http_client(app: web.Application) -> AsyncIterator[None]:
        connector = RecentFirstConnector(limit=max(256, settings.max_in_flight * 2), limit_per_host=0,
                                         keepalive_timeout=15)
        session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))
        app[HTTP_SESSION] = session
        yield
        await session.close()

    # searches feature ------------------------------------------------------------------------
    # The agencies at run time, the services of the routes under their typed keys
    # (enforcement.searches.keys), the event hub (API), the dispatcher (worker), the gauges.

    async def searches_services(app: web.Application) -> AsyncIterator[None]:
        runtimes = app[RUNTIMES] = build_runtimes(registry, settings, app[HTTP_SESSION])
        manifests = {n: rt.manifest for n, rt in runtimes.items()}
        pool = app[POOL]
        agency_store, task_store = AgencyStore(pool), TaskStore(pool)
        app[SEARCHES] = SearchService(SearchStore(pool, app[AUDIT]), manifests)
        app[BATCHES] = BatchService(BatchStore(pool, app[AUDIT]), manifests)
        app[CALLBACKS] = CallbackReceiver(
            runtimes, settings.callback_secrets, agency_store, task_store,
            max_skew_seconds=settings.callback_max_skew_seconds,
        )
        app[AGENCY_VIEW] = AgencyView(
            manifests, agency_store, task_store,
            liveness_seconds=max(settings.heartbeat_seconds * LIVENESS_BEATS, 2.0),
            secrets=SecretRegister(
                callback_configured=frozenset(a for a, v in settings.callback_secrets.items() if v),
                credential_configured=frozenset(a for a, v in settings.agency_secrets.items() if v),
                callback_issued=settings.callback_secrets_issued,
                credential_issued=settings.agency_secrets_issued,
                max_age_days=settings.secret_max_age_days,
            ),
        )
        yield

    async def event_hub(app: web.Application) -> AsyncIterator[None]:
        hub = EventHub(SearchStore(app[POOL]))
        await hub.start()
        app[EVENTS] = hub
        await app[LISTENER].subscribe("search_events", hub.notify, on_reconnect=hub.notify)
        runner = asyncio.gather(hub.run())
        yield
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    async def dispatcher(app: web.Application) -> AsyncIterator[None]:
        config = DispatcherConfig(
            worker_id=_worker_id(settings),
            claim_batch_size=settings.claim_batch_size,
            lease_seconds=settings.lease_seconds,
            idle_poll_seconds=settings.idle_poll_seconds,
            max_in_flight=settings.max_in_flight,
            flush_linger_seconds=settings.flush_linger_seconds,
            flush_concurrency=settings.flush_concurrency,
            heartbeat_seconds=settings.heartbeat_seconds,
        )
        worker = Dispatcher(TaskStore(app[POOL]), AgencyStore(app[POOL]), app[RUNTIMES], config)
        app[DISPATCHER] = worker
        await app[LISTENER].subscribe("agency_tasks", worker.wake, on_reconnect=worker.wake)
        metrics.WORKER_INFO.labels(role="worker").set(1)
        running = [
            asyncio.create_task(worker.run(), name="dispatcher"),
        ]
        log.info("dispatcher_started", worker_id=config.worker_id, agencies=sorted(app[RUNTIMES].keys()))
        yield
        for task in running:
            task.cancel()
        # Wait for each to finish (a cancelled gather would not): the dispatcher lets its calls
        # end and flushes their outcomes while the pool is still open.
        await asyncio.gather(*running, return_exceptions=True)
        metrics.WORKER_INFO.labels(role="worker").set(0)

    async def gauges(app: web.Application) -> AsyncIterator[None]:
        # Database-wide gauges from API processes; every process keeps its pool gauges fresh.
        runtimes = app[RUNTIMES]
        refresher = GaugeRefresher(
            GaugeStore(app[POOL]),
            runtimes.keys(),
            interval_seconds=settings.metrics_refresh_seconds,
            database_wide=settings.role in ("api", "all"),
            pool=app[POOL],
        )
        app[GAUGES] = refresher
        tasks = []
        if settings.role in ("api", "all"):
            watch = AuditChainWatch(app[AUDIT], app[POOL], interval_seconds=settings.audit_verify_seconds)
            refresher.add_source("audit_backlog", watch.observe_backlog)
            if settings.audit_verify_seconds > 0:
                tasks.append(asyncio.create_task(watch.run(), name="audit-chain-watch"))
            # the coming months' partitions of agency_task and search_event (decision 1901)
            tasks.append(asyncio.create_task(PartitionKeeper(app[POOL]).run(), name="partition-keeper"))
        tasks.append(asyncio.create_task(refresher.run(), name="gauge-refresher"))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # end of the searches feature ---------------------------------------------------------------

    contexts: list[Callable[[web.Application], AsyncIterator[None]]] = [
        database, http_client, searches_services, gauges, cases_services(settings, registry),
        measures_services(settings), audit_chainer]
    if settings.role in ("api", "all"):
        contexts.append(event_hub)
        metrics.WORKER_INFO.labels(role="api").set(1)
    if settings.role in ("worker", "all"):
        contexts.append(dispatcher)
        contexts.append(cases_worker(settings))
        contexts.append(measures_worker(settings))
    if settings.metrics_port:
        contexts.append(metrics_port)
    app.cleanup_ctx.extend(contexts)

    for module in ROUTE_MODULES:
        app.router.add_routes(module.routes)
    return app


__all__ = ["ROUTE_MODULES", "cases_services", "cases_worker", "create_app", "measures_services", "measures_worker"]
