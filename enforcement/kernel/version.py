"""Which release and build this process runs: ``enforcement --version``, ``/healthz`` and the
``enforcement_build_info`` metric.

The version is the installed distribution's (``pyproject.toml``). The build is, in order: the
``ENFORCEMENT_BUILD`` variable (the Containerfile sets it from its ``BUILD`` argument, the git
commit the image was built from), the commit of the git checkout the code is imported from, or
``unknown`` (a wheel installed without either).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

UNKNOWN = "unknown"


@cache
def version() -> str:
    """The installed release (the package metadata), or ``0+unknown``."""
    try:
        return metadata.version("enforcement")
    except metadata.PackageNotFoundError:
        return "0+" + UNKNOWN


def _git_commit(root: Path) -> str | None:
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    try:
        result = subprocess.run([git, "-C", str(root), "rev-parse", "--short=12", "HEAD"],  # noqa: S603 - our argv
                                capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


@cache
def build() -> str:
    """The build this process runs (``ENFORCEMENT_BUILD``, else the git commit), or ``unknown``."""
    explicit = os.environ.get("ENFORCEMENT_BUILD", "").strip()
    if explicit:
        return explicit
    return _git_commit(Path(__file__).resolve().parents[2]) or UNKNOWN


def describe() -> str:
    """Release and build in one line, for ``--version`` and the startup log."""
    return f"enforcement {version()} (build {build()})"


__all__ = ["UNKNOWN", "build", "describe", "version"]
