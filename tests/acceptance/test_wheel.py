"""The built wheel is the whole service: built with ``pip wheel``, installed into a fresh venv,
its own ``enforcement serve`` migrates an empty database, takes a pushed case (the case schema)
and runs a search against the agency simulators; nothing is read from this checkout.

Offline: the fresh venv gets the wheel alone (``--no-deps --no-index``); its dependencies are
those of the running interpreter, seen through a folder of links that leaves out every
``enforcement`` distribution and editable hook installed there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from enforcement.api.auth import DemoIssuer
from enforcement.kernel.pool import create_pool
from enforcement.kernel.settings import Settings
from enforcement.kernel.version import version
from enforcement.seeds import CASES, seed
from tests.pg import with_database

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SKIP_COPY = {".git", ".venv", ".data", "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
# What must not leak from the running interpreter into the fresh venv: this project, installed editable.
NOT_DEPENDENCIES = ("enforcement", "__editable__", "_enforcement", "real_estate", "distutils-precedence.pth")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _can_build_offline() -> bool:
    """setuptools >= 68 and wheel beside this interpreter: build without an isolated environment."""
    if importlib.util.find_spec("wheel") is None:
        return False
    from importlib.metadata import version as dist_version

    return int(dist_version("setuptools").split(".")[0]) >= 68


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy of the checkout, so that a stale build/ folder here can never leak into the wheel.
    source = tmp_path_factory.mktemp("wheel-src") / "enforcement"
    shutil.copytree(ROOT, source, symlinks=True, ignore=lambda _d, names: [n for n in names if n in SKIP_COPY])
    out = tmp_path_factory.mktemp("wheel-out")
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)]
    if _can_build_offline():
        argv.insert(4, "--no-build-isolation")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, env=clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = out.glob("enforcement-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120,
                   env=clean_env())
    python = root / "bin" / "python"
    # Without PYTHONPATH: pip would take this checkout on it for an installed enforcement.
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                             "--no-index", str(wheel)], timeout=300, capture_output=True, text=True, env=clean_env(),
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully installed enforcement" in result.stdout, result.stdout
    # The dependencies: links to this interpreter's site-packages, without the project itself.
    deps = root.parent / "deps"
    deps.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for entry in here.iterdir():
        if not entry.name.startswith(NOT_DEPENDENCIES) and not entry.name.endswith(".pth"):
            (deps / entry.name).symlink_to(entry)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    Path(purelib, "zz-dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    return root


def party(debtor: Any) -> dict[str, str]:
    return {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV") and not k.startswith(("AGENCY_", "METRICS_"))}
    env.update(extra)
    return env


def test_the_wheel_carries_every_runtime_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = []
    for package in ("enforcement", "connectors"):
        for dirpath, dirnames, filenames in os.walk(ROOT / package, followlinks=True):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for filename in filenames:
                if not filename.endswith((".pyc", ".pyo")):
                    expected.append((Path(dirpath) / filename).relative_to(ROOT).as_posix())
    assert "enforcement/schemas/case.schema.json" in expected  # through the symlink to schemas/
    missing = sorted(set(expected) - names)
    assert not missing, f"not in the wheel: {missing}"
    # The shipped schemas are the contract's, byte for byte.
    with zipfile.ZipFile(wheel) as z:
        for path in (ROOT / "schemas").rglob("*"):
            if path.is_file():
                shipped = f"enforcement/schemas/{path.relative_to(ROOT / 'schemas').as_posix()}"
                assert z.read(shipped) == path.read_bytes(), shipped


def test_the_installed_wheel_imports_nothing_from_the_checkout(venv: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import enforcement, connectors.sdk.manifest as m, enforcement.schema_files as s; "
         "print(enforcement.__file__); print(s.SCHEMAS); print(len(m.manifest_schema()))"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()
    assert all(line.startswith(str(venv)) for line in out[:2]), out
    result = subprocess.run([str(venv / "bin" / "enforcement"), "--version"], cwd=tmp_path, env=clean_env(),
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith(f"enforcement {version()} (build "), result.stdout


@pytest.fixture
async def empty_database(pg_admin: tuple[str, Any]) -> AsyncIterator[str]:
    admin_dsn, _ = pg_admin
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("DROP DATABASE IF EXISTS wheel_install WITH (FORCE)")
        await conn.execute("CREATE DATABASE wheel_install")
    finally:
        await conn.close()
    yield with_database(admin_dsn, "wheel_install")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("DROP DATABASE IF EXISTS wheel_install WITH (FORCE)")
    finally:
        await conn.close()


async def test_the_installed_wheel_serves_a_pushed_case_and_a_search(venv: Path, empty_database: str,
                                                                     simulators: dict[str, Any],
                                                                     tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = clean_env(DATABASE_URL=empty_database, ENFORCEMENT_DATA_DIR=str(data), HOST="127.0.0.1", PORT=str(port),
                    JWT_MODE="demo", LOG_JSON="1", IDLE_POLL_SECONDS="0.2", ENFORCEMENT_BUILD="wheel-test",
                    **{f"AGENCY_{name.upper()}_URL": sim.url for name, sim in simulators.items()})
    log = (tmp_path / "serve.log").open("w")
    proc = await asyncio.create_subprocess_exec(str(venv / "bin" / "enforcement"), "serve", cwd=tmp_path, env=env,
                                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(60):
                while True:
                    assert proc.returncode is None, (tmp_path / "serve.log").read_text()
                    try:
                        async with http.get(f"{base}/readyz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.2)
            async with http.get(f"{base}/healthz") as resp:
                assert await resp.json() == {"status": "ok", "version": version(), "build": "wheel-test"}
            pool = await create_pool(empty_database, min_size=1, max_size=2)
            try:
                await seed(pool)  # the served process migrated the empty database
            finally:
                await pool.close()
            settings = Settings(data_dir=data)
            issuer = DemoIssuer(data / "keys")  # the key the served process made

            def auth(login: str, role: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {issuer.issue(settings, login, role)}"}

            case = {"case_number": "（2026）辽0102执9001号", "court_code": "辽0102",
                    "judge": {"login": "zhangwei", "name": "张伟"}, "amount_to_enforce": "52000.00",
                    "filed_on": "2026-01-05",
                    "applicant": party(CASES[1][-1][0]), "debtors": [party(CASES[0][-1][0])]}
            async with http.post(f"{base}/api/v1/cases", json=case, headers=auth("cms-0102", "case_system")) as resp:
                body = await resp.json()
                assert resp.status == 201, body
            case_id = body["case"]["id"]
            search = {"case_id": case_id, "subject": case["debtors"][0], "purpose": "财产调查"}
            async with http.post(f"{base}/api/v1/searches", json=search, headers=auth("zhangwei", "judge")) as resp:
                body = await resp.json()
                assert resp.status == 202, body
            async with asyncio.timeout(45):
                while True:
                    async with http.get(f"{base}/api/v1/searches/{body['id']}",
                                        headers=auth("zhangwei", "judge")) as resp:
                        view = await resp.json()
                    if view["status"] == "completed":
                        break
                    await asyncio.sleep(0.25)
            statuses = {a["agency"]: a["status"] for a in view["agencies"]}
            built_in = {"vehicles", "exit_entry", "social_insurance", "hotels", "banks", "securities"}
            assert built_in <= statuses.keys(), statuses
            assert set(statuses.values()) <= {"succeeded"}, statuses
            assert any(view["dossier"]["sections"].values()), json.dumps(view["dossier"], ensure_ascii=False)[:500]
    finally:
        proc.terminate()
        try:
            async with asyncio.timeout(20):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()
