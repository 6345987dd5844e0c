"""Run the service as real operating-system processes, to kill and restart them in tests.

``ServiceProcess`` starts ``python -m enforcement.cli serve`` with a given role and environment,
waits until it answers ``/healthz``, and can be killed with SIGKILL (no cleanup, no goodbye:
leases are left behind) or stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_env(
    database_url: str,
    agency_urls: Mapping[str, str],
    data_dir: Path,
    **extra: str,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENCY_", "PYTEST_"))}
    env.update(
        DATABASE_URL=database_url,
        ENFORCEMENT_DATA_DIR=str(data_dir),
        LOG_JSON="1",
        LOG_LEVEL="INFO",
        IDLE_POLL_SECONDS="0.2",
        DB_POOL_MIN="1",
        DB_POOL_MAX="5",
    )
    for name, url in agency_urls.items():
        env[f"AGENCY_{name.upper()}_URL"] = url
    env.update(extra)
    return env


class ServiceProcess:
    def __init__(self, role: str, env: Mapping[str, str], log_path: Path, *, port: int | None = None) -> None:
        self.role = role
        self.env = dict(env)
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, *, timeout: float = 30.0) -> ServiceProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "enforcement.cli", "serve", "--role", self.role, "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.role} process exited with {self.proc.returncode}; see {self.log_path}")
                try:
                    async with session.get(f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        if r.status == 200:
                            return self
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"{self.role} process did not become healthy; see {self.log_path}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to release anything."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    async def stop(self, *, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while self.proc.poll() is None and loop.time() < deadline:
                await asyncio.sleep(0.05)
            if self.proc.poll() is None:
                self.kill()
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
