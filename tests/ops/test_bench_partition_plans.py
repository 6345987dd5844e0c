"""ops/bench/partition_plans.py explains the statements the service sends: the outcome flush as the
worker sends it (``flush_outcomes_packed``, with the store's own ``flush_arguments``), not the
parallel arrays the worker no longer sends; and it still starts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from enforcement.kernel.queries import Q

BENCH = Path(__file__).resolve().parents[2] / "ops" / "bench" / "partition_plans.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("partition_plans", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_explains_the_flush_the_worker_sends() -> None:
    hot = {sql for sql, _ in bench().HOT.values()}
    assert Q.flush_outcomes_packed in hot
    assert Q.flush_outcomes not in hot


def test_the_benchmark_answers_help() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(BENCH), "--help"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "--dsn" in done.stdout
