"""The Containerfile and `make image`, checked without a container engine: the image `make
image` tags is the one the Kubernetes manifests run, it runs as the manifests' non-root user,
every file it copies exists, its port is the service's, and it starts `enforcement serve`."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import yaml

from enforcement.cli import build_parser
from enforcement.kernel.settings import Settings
from tests.system_tools import MAKE, require

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
K8S = ROOT / "ops" / "deploy" / "kubernetes"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def make_image_command() -> list[str]:
    result = subprocess.run([require(MAKE), "-n", "image", "CONTAINER=podman", "BUILD=abc123"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("podman build")]
    return shlex.split(line)


def deployment_containers() -> list[dict[str, object]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc["kind"] == "Deployment":
                out.append(doc["spec"]["template"]["spec"])
    return out


def test_make_image_tags_the_image_the_kubernetes_manifests_run() -> None:
    argv = make_image_command()
    tag = argv[argv.index("--tag") + 1]
    assert argv[argv.index("--file") + 1] == "Containerfile"
    assert "BUILD=abc123" in argv
    assert tag.endswith(":" + version())
    specs = deployment_containers()
    assert len(specs) == 2
    for spec in specs:
        for container in spec["containers"]:  # type: ignore[attr-defined]
            assert container["image"] == tag, container["name"]


def test_the_image_runs_as_the_manifests_non_root_user() -> None:
    users = [args for word, args in final_stage() if word == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, users[-1]  # numeric, so runAsNonRoot can verify it
    for spec in deployment_containers():
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True  # type: ignore[index]
        assert security["runAsUser"] == int(uid)  # type: ignore[index]
        if gid:
            assert security["runAsGroup"] == int(gid)  # type: ignore[index]


def test_both_stages_are_slim_python_of_the_supported_version() -> None:
    bases = [args.split()[0] for word, args in instructions() if word == "FROM"]
    assert len(bases) == 2
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = re.search(r">=\s*(3\.\d+)", requires).group(1)  # type: ignore[union-attr]
    for base in bases:
        assert re.fullmatch(rf"(docker\.io/library/)?python:{re.escape(minimum)}(\.\d+)?-slim(-\w+)?", base), base


def test_every_copied_source_exists_and_the_wheel_is_installed() -> None:
    copies = [args for word, args in instructions() if word == "COPY"]
    assert copies
    for args in copies:
        parts = args.split()
        if parts[0].startswith("--from="):
            continue
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for source in ("schemas", "enforcement", "connectors", "pyproject.toml"):
        assert source not in ignored
    runs = " ".join(args for word, args in final_stage() if word == "RUN")
    assert "pip install" in runs and ".whl" in runs  # the wheel, not the source tree


def test_the_entrypoint_serves_on_the_settings_port_on_every_interface() -> None:
    stage = final_stage()
    [entrypoint] = [json.loads(args) for word, args in stage if word == "ENTRYPOINT"]
    [cmd] = [json.loads(args) for word, args in stage if word == "CMD"]
    assert entrypoint == ["enforcement", "serve"]
    parsed = build_parser().parse_args([*entrypoint[1:], *cmd])
    assert parsed.command == "serve"
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(args for word, args in stage if word == "ENV")))
    settings = Settings.from_env({k: v for k, v in env.items() if not v.startswith("$")})
    assert settings.host == "0.0.0.0"  # noqa: S104 - the default 127.0.0.1 would be unreachable from outside the container
    exposed = {int(p.split("/")[0]) for word, args in stage if word == "EXPOSE" for p in args.split()}
    assert exposed == {settings.port}
    assert env["ENFORCEMENT_BUILD"] == "${BUILD}"
    for spec in deployment_containers():
        for container in spec["containers"]:  # type: ignore[attr-defined]
            ports = {p["containerPort"] for p in container["ports"]}
            assert ports <= exposed | {Settings.from_env(env).metrics_port}, ports
