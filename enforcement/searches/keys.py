"""Typed keys for what the composition root (``enforcement.app``) builds for the searches feature
and its routes read: ``request.app[SEARCHES]`` is a ``SearchService``, checked by mypy."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from enforcement.searches.agency_view import AgencyView
from enforcement.searches.bulk import BatchService
from enforcement.searches.callbacks import CallbackReceiver
from enforcement.searches.dispatcher import Dispatcher
from enforcement.searches.events import EventHub
from enforcement.searches.gauges import GaugeRefresher
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.service import SearchService

RUNTIMES: web.AppKey[Mapping[str, AgencyRuntime]] = web.AppKey("runtimes")  # every agency at run time
SEARCHES = web.AppKey("searches", SearchService)
BATCHES = web.AppKey("search_batches", BatchService)
EVENTS = web.AppKey("events", EventHub)  # API processes only
CALLBACKS = web.AppKey("agency_callbacks", CallbackReceiver)
AGENCY_VIEW = web.AppKey("agency_view", AgencyView)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)  # worker processes only
GAUGES = web.AppKey("gauges", GaugeRefresher)

__all__ = ["AGENCY_VIEW", "BATCHES", "CALLBACKS", "DISPATCHER", "EVENTS", "GAUGES", "RUNTIMES", "SEARCHES"]
