"""``enforcement demo`` as a newcomer sees it: one line while it starts, the banner last (logs in a
file, the token in a file, neither on the terminal), and the banner again on demand."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import sys
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _read_until(stream: asyncio.StreamReader, marker: str, timeout: float) -> str:
    seen = ""

    async def go() -> str:
        nonlocal seen
        while marker not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the demo ended before {marker!r}:\n{seen}")
            seen += line.decode()
        return seen

    return await asyncio.wait_for(go(), timeout)


async def _start_demo(db_url: str, tmp_path: Path) -> tuple[asyncio.subprocess.Process, dict[str, str], Path, int]:
    """``enforcement demo`` in its own process on a free port, its data in ``tmp_path/data``."""
    port = _free_port()
    data = tmp_path / "data"
    env = {**os.environ, "DATABASE_URL": db_url, "ENFORCEMENT_DATA_DIR": str(data), "PORT": str(port),
           "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "demo", "--latency-ms", "0", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    return proc, env, data, port


@pytest.mark.timeout(240)
async def test_demo_prints_its_banner_last_and_again_on_demand(db_url: str, tmp_path: Path) -> None:
    proc, env, data, port = await _start_demo(db_url, tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        closing = "=" * 72 + "\n"
        text = await _read_until(proc.stdout, "演示环境已启动", 180)
        text += await _read_until(proc.stdout, closing, 10)
        lines = [x for x in text.splitlines() if x.strip()]
        assert lines[0].startswith("演示环境启动中") and "data/demo.log" in lines[0]
        banner = lines[1:]
        assert len(banner) <= 25 and max(len(x) for x in banner) < 200  # no 580-character token line
        token = (data / "demo-token").read_text(encoding="utf-8").strip()
        assert token.count(".") == 2 and token not in text
        assert stat.S_IMODE((data / "demo-token").stat().st_mode) == 0o600
        assert "data/demo-token" in text and "data/demo.log" in text and f"127.0.0.1:{port}" in text
        log = (data / "demo.log").read_text(encoding="utf-8")
        assert log.count("\n") > 10  # the seeding's lines went to the file, not the terminal

        # Again on demand: --banner (make demo-info) from another shell, and SIGUSR1.
        again = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enforcement.cli", "demo", "--banner", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(again.communicate(), 30)
        assert again.returncode == 0 and "演示环境已启动" in out.decode() and "data/demo-token" in out.decode()
        proc.send_signal(signal.SIGUSR1)
        assert "演示环境已启动" in await _read_until(proc.stdout, "Ctrl-C stops everything", 10)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), 60)
    err = (await proc.stderr.read()).decode() if not proc.stderr.at_eof() else ""
    assert "Traceback" not in err
    gone = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "demo", "--banner", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err_bytes = await asyncio.wait_for(gone.communicate(), 30)
    assert gone.returncode == 1 and "the demo is not running" in err_bytes.decode()


@pytest.mark.timeout(240)
async def test_ctrl_c_stops_everything_even_when_the_terminal_is_already_gone(db_url: str, tmp_path: Path) -> None:
    """``make demo | tee demo.txt`` and Ctrl-C: the signal reaches tee too, so the demo's "stopping"
    line meets a closed pipe. The shutdown goes on: the service, the simulators (and, without
    DATABASE_URL, the embedded PostgreSQL) are stopped, and the pid file is gone."""
    proc, _env, data, port = await _start_demo(db_url, tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        await _read_until(proc.stdout, "Ctrl-C stops everything", 180)
        assert (data / "demo.pid").exists()
        transport = proc._transport  # type: ignore[attr-defined]  # the reading end of the demo's stdout
        transport.get_pipe_transport(1).close()  # the terminal (tee) is gone
        await asyncio.sleep(0.2)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert not (data / "demo.pid").exists(), err.decode()[-2000:]
    with socket.socket() as probe:  # the service's port is free again
        probe.bind(("127.0.0.1", port))
