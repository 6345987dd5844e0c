"""The deployment files describe processes the service can run: every command parses with the
real CLI, every probe points at a route the application serves, every setting is one the
service reads, and the Kubernetes objects select each other consistently."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from enforcement.cli import build_parser
from enforcement.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "ops" / "deploy"
K8S = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"


def known_settings() -> set[str]:
    source = (ROOT / "enforcement" / "kernel" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'_(?:env|int|float|bool)\(e, "([A-Z_]+)"', source)) | set(
        re.findall(r'e\.get\("([A-Z_]+)"\)', source)
    )


def check_setting(name: str) -> None:
    if name.startswith("AGENCY_"):
        if name.endswith("_ISSUED"):  # a secret's issue date (the operations page shows its age)
            settings = Settings.from_env({name: "2026-01-01"})
            assert settings.callback_secrets_issued or settings.agency_secrets_issued, name
            return
        assert name.endswith(("_URL", "_SECRET")) or Settings.from_env({name: "1"}).agency_overrides, name
        return
    assert name in known_settings(), f"{name} is not a setting the service reads"


def check_command(argv: list[str]) -> Any:
    assert Path(argv[0]).name == "enforcement", argv
    return build_parser().parse_args(argv[1:])


@pytest.fixture(scope="module")
def served_routes(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    from enforcement.app import create_app

    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("deploy-app")), migrate=False)
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.method in ("GET", "*") and route.resource is not None
    }


# -- systemd ---------------------------------------------------------------------------------

def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(SYSTEMD / name, encoding="utf-8")
    return parser


@pytest.mark.parametrize(("name", "role"), [("enforcement-api.service", "api"),
                                            ("enforcement-worker@.service", "worker")])
def test_systemd_units_run_the_right_role(name: str, role: str) -> None:
    u = unit(name)
    argv = shlex.split(u["Service"]["ExecStart"].replace("%i", "1").replace("%H", "host"))
    args = check_command(argv)
    assert (args.command, args.role) == ("serve", role)
    assert args.port in (8080, 8091)
    assert u["Service"]["EnvironmentFile"] == "/etc/enforcement/enforcement.env"
    assert u["Service"]["KillSignal"] == "SIGTERM"
    assert u["Install"]["WantedBy"] == "enforcement.target"
    if "ExecStartPre" in u["Service"]:
        assert check_command(shlex.split(u["Service"]["ExecStartPre"])).command == "migrate"


def test_systemd_target_starts_api_and_workers() -> None:
    wants = unit("enforcement.target")["Unit"]["Wants"].split()
    assert "enforcement-api.service" in wants
    assert any(w.startswith("enforcement-worker@") for w in wants)


def test_environment_example_names_only_real_settings() -> None:
    lines = (SYSTEMD / "enforcement.env.example").read_text(encoding="utf-8").splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert "DATABASE_URL" in names
    for name in names:
        check_setting(name)


# -- Kubernetes ------------------------------------------------------------------------------

def objects() -> list[dict[str, Any]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return out


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [o for o in objects() if o["kind"] == kind]


def test_kubernetes_files_parse_and_hold_the_expected_objects() -> None:
    kinds = sorted(o["kind"] for o in objects())
    assert kinds.count("Deployment") == 2
    for kind in ("Service", "ConfigMap", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Namespace"):
        assert kind in kinds, kind
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    for resource in kustomization["resources"]:
        assert (K8S / resource).exists(), resource
    assert "secret.example.yaml" not in kustomization["resources"]  # never apply the example


def test_deployments_run_api_and_worker_with_probes_on_real_routes(served_routes: set[str]) -> None:
    assert {"/healthz", "/readyz", "/metrics"} <= served_routes
    roles = set()
    for dep in by_kind("Deployment"):
        spec = dep["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), dep["metadata"]["name"]
        [container] = spec["template"]["spec"]["containers"]
        args = check_command(container["command"])
        assert args.command == "serve"
        roles.add(args.role)
        assert labels["app.kubernetes.io/component"] == args.role
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == args.port
        annotations = spec["template"]["metadata"]["annotations"]
        assert int(annotations["prometheus.io/port"]) == args.port
        assert annotations["prometheus.io/path"] in served_routes
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] in served_routes, f"{probe} {get['path']} is not a route"
            assert get["port"] in ports
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        refs = {next(iter(ref)): next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {"configMapRef": "enforcement-config", "secretRef": "enforcement-secrets"}
    assert roles == {"api", "worker"}


def test_config_and_secret_keys_are_settings() -> None:
    [config] = by_kind("ConfigMap")
    [secret] = by_kind("Secret")
    for name in [*config["data"], *secret["stringData"]]:
        check_setting(name)
    assert "DATABASE_URL" in secret["stringData"] and "DATABASE_URL" not in config["data"]


def test_service_budgets_and_autoscaler_select_the_deployments() -> None:
    deployments = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in by_kind("Deployment")}

    def selects(selector: dict[str, str]) -> list[str]:
        return [name for name, labels in deployments.items() if selector.items() <= labels.items()]

    [service] = by_kind("Service")
    assert selects(service["spec"]["selector"]) == ["enforcement-api"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    budgets = sorted(selects(p["spec"]["selector"]["matchLabels"])[0] for p in by_kind("PodDisruptionBudget"))
    assert budgets == ["enforcement-api", "enforcement-worker"]
    [hpa] = by_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "enforcement-worker"
    assert hpa["spec"]["minReplicas"] >= 1
