"""Timed waits for the service's background loops (decision 0705).

``asyncio.wait_for`` on Python 3.11 returns the awaited result when a cancellation lands in
the same loop iteration as the wake-up, and the cancelled loop goes round again: a shutdown
waits on it forever. ``asyncio.timeout`` delivers the cancellation whatever else completes.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set, at most ``seconds``; whether it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


__all__ = ["wait_set"]
