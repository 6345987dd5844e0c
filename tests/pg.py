"""Where the tests' PostgreSQL comes from: ``TEST_DATABASE_URL``, else testcontainers when a
Docker engine answers, else the embedded server. Always a real PostgreSQL, never a mock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def docker_answers() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        client = None
        try:
            import docker

            client = docker.from_env(timeout=2)
            client.ping()
            return True
        except Exception:
            return False
        finally:
            if client is not None:
                client.close()
            gc.collect()


@contextmanager
def postgres_server() -> Iterator[tuple[str, object]]:
    """Yield (admin DSN, handle). The handle is an EmbeddedPostgres when embedded (for restarts)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url, None
        return
    if os.environ.get("TEST_USE_DOCKER", "auto") != "never" and docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url(), container
        return
    from enforcement.kernel.embedded import EmbeddedPostgres

    root = Path(os.environ.get("TEST_PG_DIR") or tempfile.mkdtemp(prefix="enforcement-test-pg-"))
    server = EmbeddedPostgres(root, fast=True)
    dsn = server.start()
    try:
        yield dsn, server
    finally:
        server.stop(mode="immediate")


def with_database(dsn: str, database: str) -> str:
    """The same server, another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))
