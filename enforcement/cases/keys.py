"""Typed keys for the cases feature's services on the application, put there by the composition
root (``enforcement.app``, its ``# cases feature`` block) and read by the feature's routes."""

from __future__ import annotations

from aiohttp import web

from enforcement.cases.alerts import AlertService
from enforcement.cases.breach_check import BreachCheck
from enforcement.cases.indicators import IndicatorService
from enforcement.cases.lifecycle import LifecycleService
from enforcement.cases.notices import NoticeService
from enforcement.cases.registry import CaseService
from enforcement.cases.worker import LifecycleWorker

CASES = web.AppKey("cases", CaseService)
LIFECYCLE = web.AppKey("lifecycle", LifecycleService)
INDICATORS = web.AppKey("indicators", IndicatorService)
ALERTS = web.AppKey("alerts", AlertService)
NOTICES = web.AppKey("notices", NoticeService)
BREACH_CHECK = web.AppKey("breach_check", BreachCheck)
LIFECYCLE_WORKER = web.AppKey("lifecycle_worker", LifecycleWorker)  # only in worker processes

__all__ = ["ALERTS", "BREACH_CHECK", "CASES", "INDICATORS", "LIFECYCLE", "LIFECYCLE_WORKER", "NOTICES"]
