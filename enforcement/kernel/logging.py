"""structlog, configured once: contextvars first, personal data masked by key, JSON when not a TTY.

Call ``configure_logging`` from the composition root or the CLI; never elsewhere.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from enforcement.domain.privacy import REDACTED_KEYS, redact, scrub_identifiers


def _redact_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if any(k in REDACTED_KEYS for k in event_dict) or any(isinstance(v, dict) for v in event_dict.values()):
        return redact(dict(event_dict))
    return event_dict


def _scrub_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last net: an ID number inside any text (a formatted exception, a database error) is masked."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = scrub_identifiers(value)
    return event_dict


class _ScrubFilter(logging.Filter):
    """The same net for the standard library's logging (asyncpg, aiohttp)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub_identifiers(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_identifiers(record.exc_text)
        return True


def configure_logging(level: str = "INFO", *, json_output: bool | None = None, stream: TextIO | None = None) -> None:
    """structlog once per process: context variables, PII scrubbing, JSON unless a TTY. Logs go to
    ``stream`` (the demo's log file), else stderr."""
    out = stream or sys.stderr
    as_json = (not out.isatty()) if json_output is None else json_output
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_processor,
        structlog.processors.format_exc_info,
        _scrub_processor,
    ]
    processors.append(
        structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=out,
                        format="%(name)s %(levelname)s %(message)s", force=stream is not None)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _ScrubFilter) for f in handler.filters):
            handler.addFilter(_ScrubFilter())


__all__ = ["configure_logging"]
