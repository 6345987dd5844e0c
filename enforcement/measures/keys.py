"""Typed keys for what the composition root (``enforcement.app``) builds for the measures feature."""

from __future__ import annotations

from aiohttp import web

from enforcement.measures.dispatcher import ExpiryWatch, MeasureDispatcher
from enforcement.measures.service import MeasureClock, MeasureService

MEASURES = web.AppKey("measures", MeasureService)
MEASURE_CLOCK = web.AppKey("measure_clock", MeasureClock)  # the court's date; tests move it
MEASURE_DISPATCHER = web.AppKey("measure_dispatcher", MeasureDispatcher)  # worker processes only
MEASURE_EXPIRY = web.AppKey("measure_expiry", ExpiryWatch)  # worker processes only

__all__ = ["MEASURES", "MEASURE_CLOCK", "MEASURE_DISPATCHER", "MEASURE_EXPIRY"]
