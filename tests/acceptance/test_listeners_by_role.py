"""Which processes LISTEN to which channel (issue 19): every NOTIFY wakes each listener, so a
channel a process does not need costs the database a round per notification in every such
process. The audit chainers: each submission's ``audit_pending`` woke the chainer of every process,
API and workers, and all but one found the chain head taken (at 4 workers, ~5 statements a
search). Only the processes serving the API listen now; a worker chains on its interval."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import enforcement.app


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    heard: list[str] = []
    real = enforcement.app.listen_forever

    async def recording(dsn: str, channel: str, on_notify: Callable[[str], None], **kw: Any) -> None:
        heard.append(channel)
        await real(dsn, channel, on_notify, **kw)

    monkeypatch.setattr(enforcement.app, "listen_forever", recording)
    return heard


async def settled(channels: list[str]) -> list[str]:
    for _ in range(20):  # the listeners start as background tasks of the app's contexts
        await asyncio.sleep(0.05)
    return sorted(set(channels))


async def test_a_worker_does_not_listen_for_audit_records(make_api: Any, channels: list[str]) -> None:
    await make_api(role="worker")
    heard = await settled(channels)
    assert "agency_tasks" in heard  # its dispatcher does
    assert "audit_pending" not in heard


async def test_the_api_listens_for_audit_records(make_api: Any, channels: list[str]) -> None:
    await make_api(role="api")
    assert "audit_pending" in await settled(channels)


async def test_a_worker_lifecycle_listens_for_answer_reviews_not_for_every_search_event(
        make_api: Any, channels: list[str]) -> None:
    # search_events woke every worker's lifecycle tick (about seven statements) for each search;
    # what the tick must do promptly is review the answers the trigger queued (migration 0026).
    await make_api(role="worker")
    heard = await settled(channels)
    assert "answer_review" in heard
    assert "search_events" not in heard
