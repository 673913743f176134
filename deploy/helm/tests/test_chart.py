"""The Helm chart, linted and rendered offline, and checked for what a production install needs.

Every rendered object is validated against the Kubernetes OpenAPI schemas (kubernetes-validate,
strict: unknown fields fail); CRD objects (KEDA, Prometheus Operator, Strimzi, Gateway API) are
not in those schemas and are validated against the structural schemas in crd-schemas.json
(apiVersion, kind, required fields and types; unknown spec fields fail).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate
import pytest
import yaml  # type: ignore[import-untyped]

pytestmark = pytest.mark.timeout(1500)  # the first test may build helm (about 1.5 min cold)

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "tangible"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
CRD_SCHEMAS: dict[str, Any] = json.loads((Path(__file__).parent / "crd-schemas.json").read_text())
RELEASE = "tangible"
NAMESPACE = "tangible"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas known.
KUBERNETES_VERSIONS = ("1.27.0", kubernetes_validate.utils.latest_version())

Manifest = dict[str, Any]

PACKAGES = {
    "usage-ingest": "tangible_ingest",
    "entitlements": "tangible_entitlements",
    "rewards": "tangible_rewards",
    "notifications": "tangible_notifications",
}
SECRET_ENV = {"KAFKA_SASL_PASSWORD", "NOTIFICATIONS_SECRETS_KEY", "NOTIFICATIONS_SMTP_PASSWORD"}


@dataclass(frozen=True)
class Render:
    """One way of installing the chart: values files and --set overrides."""

    values_files: tuple[Path, ...] = ()
    sets: tuple[str, ...] = ()

    def args(self) -> list[str]:
        args: list[str] = []
        for path in self.values_files:
            args += ["--values", str(path)]
        for item in self.sets:
            args += ["--set", item]
        return args

    def values(self) -> dict[str, Any]:
        """Default values merged with the values files (what the templates see, bar --set)."""
        merged: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
        for path in self.values_files:
            merged = deep_merge(merged, yaml.safe_load(path.read_text()) or {})
        return merged


RENDERS = {
    "default": Render(),
    "production": Render((PRODUCTION_VALUES,)),
    # production plus every optional template that production-values leaves off
    "everything": Render(
        (PRODUCTION_VALUES,),
        (
            "kafka.provisioning.strimzi.enabled=true",
            "httpRoute.enabled=true",
            "httpRoute.parentRefs[0].name=public",
            "httpRoute.parentRefs[0].namespace=gateway-system",
            "networkPolicy.extraEgress[0].to[0].ipBlock.cidr=10.40.0.0/16",
            "networkPolicy.extraEgress[0].ports[0].port=8443",
            "metrics.prometheusRule.enabled=true",
        ),
    ),
}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Helm:
    binary: Path
    home: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )

    def lint(self, render: Render, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("lint", "--strict", str(CHART), *render.args(), *extra)

    def template(self, render: Render, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *render.args(), *extra)

    def manifests(self, render: Render, *extra: str) -> list[Manifest]:
        result = self.template(render, *extra)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def helm(helm_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(helm_binary, tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def rendered(helm: Helm) -> dict[str, list[Manifest]]:
    return {name: helm.manifests(render) for name, render in RENDERS.items()}


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def by_name(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in of_kind(manifests, kind)}


def walk(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every mapping inside a manifest, depth first."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


RENDER_NAMES = list(RENDERS)


# --- lint and schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "production"])
def test_lint_strict_passes(helm: Helm, name: str) -> None:
    result = helm.lint(RENDERS[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def assert_valid_kubernetes(manifests: list[Manifest]) -> None:
    assert manifests
    for manifest in manifests:
        key = f"{manifest['apiVersion']}/{manifest['kind']}"
        if key in CRD_SCHEMAS:
            jsonschema.validate(manifest, CRD_SCHEMAS[key])
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(
                    f"{key} {manifest['metadata']['name']} on {version}: {error.message} at {error.path}"
                )


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_every_manifest_is_valid_kubernetes(rendered: dict[str, list[Manifest]], name: str) -> None:
    assert_valid_kubernetes(rendered[name])


@pytest.mark.parametrize(
    "sets",
    [
        ("services.usageIngest.enabled=false",),
        (
            "services.notifications.roles.delivery.enabled=false",
            "services.rewards.roles.api.autoscaling.enabled=false",
        ),
        ("networkPolicy.enabled=false", "migrations.enabled=false", "serviceAccount.create=false"),
        (
            "kafka.securityProtocol=SSL",
            "kafka.tls.caConfigMap=kafka-ca",
            "services.rewards.roles.consumer.keda.enabled=true",
        ),
        (
            "kafka.securityProtocol=SASL_PLAINTEXT",
            "kafka.sasl.mechanism=PLAIN",
            "kafka.sasl.username=tangible",
            "kafka.sasl.existingSecret=kafka-credentials",
            "services.rewards.roles.consumer.keda.enabled=true",
        ),
        ("pod.runAsUser=null", "pod.runAsGroup=null", "pod.fsGroup=null", "pod.topologySpread.enabled=false"),
    ],
)
def test_variants_render_valid_kubernetes(helm: Helm, sets: tuple[str, ...]) -> None:
    manifests = helm.manifests(Render(sets=sets), "--kube-version", "1.27.0")
    assert_valid_kubernetes(manifests)
    for deployment in of_kind(manifests, "Deployment"):
        assert pod_spec(deployment)["securityContext"]["runAsNonRoot"] is True


def test_everything_render_covers_every_template_kind(rendered: dict[str, list[Manifest]]) -> None:
    kinds = {m["kind"] for m in rendered["everything"]}
    assert kinds == {
        "ServiceAccount",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
        "Ingress",
        "HTTPRoute",
        "ServiceMonitor",
        "ScaledObject",
        "TriggerAuthentication",
        "KafkaTopic",
        "PrometheusRule",
    }


# --- workloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_every_deployment_is_probed_sized_and_hardened(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    deployments = of_kind(rendered[name], "Deployment")
    assert len(deployments) == 15  # 2 + 4 + 4 + 5 roles
    for deployment in deployments:
        spec = pod_spec(deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        (container,) = spec["containers"]
        service = deployment["metadata"]["labels"]["tangible/service"]
        role = deployment["metadata"]["labels"]["tangible/role"]
        assert container["command"] == ["python", "-m", PACKAGES[service], role]
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "memory" in container["resources"]["limits"]
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        prefix = service.upper().replace("-", "_")
        assert env[f"{prefix}_HOST"] == "0.0.0.0"
        assert env[f"{prefix}_PORT"] == str(container["ports"][0]["containerPort"])


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_every_deployment_has_a_service_and_a_pdb(rendered: dict[str, list[Manifest]], name: str) -> None:
    manifests = rendered[name]
    services = by_name(manifests, "Service")
    pdbs = by_name(manifests, "PodDisruptionBudget")
    for deployment in of_kind(manifests, "Deployment"):
        deployment_name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for selected in (
            services[deployment_name]["spec"]["selector"],
            pdbs[deployment_name]["spec"]["selector"],
        ):
            selector = selected.get("matchLabels", selected)
            assert selector.items() <= labels.items(), deployment_name
        port = pod_spec(deployment)["containers"][0]["ports"][0]["containerPort"]
        assert services[deployment_name]["spec"]["ports"][0]["port"] == port


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_apis_autoscale_on_cpu_and_consumers_on_lag(rendered: dict[str, list[Manifest]], name: str) -> None:
    manifests = rendered[name]
    deployments = by_name(manifests, "Deployment")
    hpa_targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(manifests, "HorizontalPodAutoscaler")}
    keda_targets = {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(manifests, "ScaledObject")}
    assert hpa_targets, "the API roles autoscale on CPU by default"
    for target in hpa_targets:
        assert deployments[target]["metadata"]["labels"]["tangible/role"] == "api"
    for target in keda_targets:
        assert deployments[target]["metadata"]["labels"]["tangible/role"] == "consumer"
    for deployment_name in hpa_targets | keda_targets:
        assert "replicas" not in deployments[deployment_name]["spec"], "the autoscaler owns replicas"
    for hpa in of_kind(manifests, "HorizontalPodAutoscaler"):
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"


def test_production_runs_several_replicas(rendered: dict[str, list[Manifest]]) -> None:
    manifests = rendered["production"]
    hpas = of_kind(manifests, "HorizontalPodAutoscaler")
    assert all(h["spec"]["minReplicas"] >= 2 for h in hpas)
    fixed = [d for d in of_kind(manifests, "Deployment") if "replicas" in d["spec"]]
    assert all(d["spec"]["replicas"] >= 2 for d in fixed), [d["metadata"]["name"] for d in fixed]
    assert of_kind(manifests, "ScaledObject") and of_kind(manifests, "Ingress")
    assert of_kind(manifests, "ServiceMonitor")


# --- secrets ------------------------------------------------------------------------------------


def secret_names_in_values(values: Mapping[str, Any]) -> set[str]:
    names = {str(n) for n in values.get("imagePullSecrets", [])}
    for node in walk(values):
        for key in ("existingSecret", "caSecret", "secretName"):
            if node.get(key):
                names.add(str(node[key]))
    return names


def secret_references(manifest: Manifest) -> set[str]:
    refs: set[str] = set()
    for node in walk(manifest):
        if "secretKeyRef" in node:
            refs.add(node["secretKeyRef"]["name"])
        if isinstance(node.get("secret"), Mapping) and "secretName" in node["secret"]:
            refs.add(node["secret"]["secretName"])
    spec = manifest.get("spec", {})
    if manifest["kind"] == "TriggerAuthentication":
        refs |= {ref["name"] for ref in spec.get("secretTargetRef", [])}
    if manifest["kind"] == "Ingress":
        refs |= {tls["secretName"] for tls in spec.get("tls", [])}
    if "template" in spec:
        refs |= {s["name"] for s in pod_spec(manifest).get("imagePullSecrets", [])}
    return refs


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_every_secret_reference_is_named_in_values(rendered: dict[str, list[Manifest]], name: str) -> None:
    manifests = rendered[name]
    assert not of_kind(manifests, "Secret"), "the chart never creates Secrets (existingSecret pattern)"
    allowed = secret_names_in_values(RENDERS[name].values())
    referenced: set[str] = set()
    for manifest in manifests:
        referenced |= secret_references(manifest)
    assert referenced, "the pods read their credentials from Secrets"
    assert referenced <= allowed, referenced - allowed


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_credentials_only_come_from_secrets(rendered: dict[str, list[Manifest]], name: str) -> None:
    for manifest in rendered[name]:
        for node in walk(manifest):
            env_name = node.get("name")
            if "value" in node or "valueFrom" in node:
                if env_name in SECRET_ENV or str(env_name).endswith("_DATABASE_URL"):
                    assert "value" not in node, f"{manifest['metadata']['name']}: {env_name} in plain text"
                    assert "secretKeyRef" in node["valueFrom"], env_name


def test_production_reads_kafka_credentials_and_ca_from_secrets(rendered: dict[str, list[Manifest]]) -> None:
    deployment = by_name(rendered["production"], "Deployment")["tangible-rewards-consumer"]
    (container,) = pod_spec(deployment)["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"] == {
        "name": "tangible-kafka",
        "key": "username",
    }
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "tangible-kafka",
        "key": "password",
    }
    assert env["KAFKA_SSL_CAFILE"]["value"] == "/etc/tangible/kafka/ca.crt"
    assert env["KAFKA_TOPIC_PREFIX"]["value"] == "prod."
    assert env["TANGIBLE_AUTH_PUBLIC_KEY"]["value"] == "/etc/tangible/auth/public.pem"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/etc/tangible/kafka", "/etc/tangible/auth", "/tmp"} <= mounts


# --- hooks: migrations and topics ---------------------------------------------------------------


@pytest.mark.parametrize("name", RENDER_NAMES)
def test_migrations_run_as_pre_install_and_pre_upgrade_hooks(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    manifests = rendered[name]
    jobs = [j for j in of_kind(manifests, "Job") if j["metadata"]["labels"]["tangible/role"] == "migrate"]
    commands = sorted(tuple(pod_spec(j)["containers"][0]["command"]) for j in jobs)
    assert commands == sorted(("python", "-m", package, "migrate") for package in PACKAGES.values())
    hook_accounts = {
        sa["metadata"]["name"]
        for sa in of_kind(manifests, "ServiceAccount")
        if sa["metadata"].get("annotations", {}).get("helm.sh/hook") == "pre-install,pre-upgrade"
    }
    for job in jobs:
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
        spec = pod_spec(job)
        assert spec["restartPolicy"] == "Never"
        assert spec["serviceAccountName"] in hook_accounts, (
            "hooks run before the release's own account exists"
        )
        assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    for deployment in of_kind(manifests, "Deployment"):
        assert "migrate" not in pod_spec(deployment)["containers"][0]["command"]


def test_production_migrates_as_the_owner_and_serves_as_the_application_role(
    rendered: dict[str, list[Manifest]],
) -> None:
    """Only the migration Jobs get the owner's URL: a service pod must not be able to switch
    row-level security off (the owner of a table can; `tangible_app`-like roles cannot)."""

    def env(manifest: Manifest) -> dict[str, Any]:
        return {e["name"]: e.get("valueFrom", {}) for e in pod_spec(manifest)["containers"][0].get("env", [])}

    manifests = rendered["production"]
    jobs = [j for j in of_kind(manifests, "Job") if j["metadata"]["labels"]["tangible/role"] == "migrate"]
    assert len(jobs) == len(PACKAGES)
    for job in jobs:
        owner = [ref for name, ref in env(job).items() if name.endswith("_MIGRATION_DATABASE_URL")]
        assert [ref["secretKeyRef"]["key"] for ref in owner] == ["owner-url"]
    for deployment in of_kind(manifests, "Deployment"):
        assert not [name for name in env(deployment) if name.endswith("_MIGRATION_DATABASE_URL")]
    default_jobs = [
        j
        for j in of_kind(rendered["default"], "Job")
        if j["metadata"]["labels"]["tangible/role"] == "migrate"
    ]
    assert all(not [n for n in env(j) if n.endswith("_MIGRATION_DATABASE_URL")] for j in default_jobs)


def hook_weight(manifest: Manifest) -> int:
    return int(manifest["metadata"]["annotations"]["helm.sh/hook-weight"])


def test_topics_job_creates_every_topic_before_the_migrations(rendered: dict[str, list[Manifest]]) -> None:
    manifests = rendered["production"]
    jobs = of_kind(manifests, "Job")
    (topics_job,) = [j for j in jobs if j["metadata"]["labels"]["tangible/role"] == "topics"]
    migrations = [j for j in jobs if j is not topics_job]
    assert all(hook_weight(topics_job) < hook_weight(j) for j in migrations)
    (account,) = [
        sa
        for sa in of_kind(manifests, "ServiceAccount")
        if "annotations" in sa["metadata"] and "helm.sh/hook" in sa["metadata"]["annotations"]
    ]
    assert hook_weight(account) < hook_weight(topics_job)
    container = pod_spec(topics_job)["containers"][0]
    assert container["command"][:2] == ["python", "-c"]
    assert container["command"][2] == (CHART / "files" / "create_topics.py").read_text()
    env = {e["name"]: e.get("value") for e in container["env"]}
    topics = {t["name"]: t for t in json.loads(env["TANGIBLE_TOPICS"])}
    assert topics["prod.tangible.usage.v1"]["partitions"] == 12
    assert topics["prod.tangible.credentials.v1"]["config"] == {"cleanup.policy": "compact"}
    groups = [
        "entitlements-usage",
        "entitlements-rewards",
        "rewards-usage",
        "rewards-entitlements",
        "notifications-events",
    ]
    for group in groups:
        assert topics[f"prod.tangible.dlq.{group}"]["partitions"] == 1
    assert len(topics) == 5 + len(groups)
    assert env["TANGIBLE_REPLICATION_FACTOR"] == "3"


def test_strimzi_topics_match_the_topic_list_and_survive_uninstall(
    rendered: dict[str, list[Manifest]],
) -> None:
    kafka_topics = of_kind(rendered["everything"], "KafkaTopic")
    by_topic = {t["spec"]["topicName"]: t for t in kafka_topics}
    assert by_topic["prod.tangible.usage.v1"]["spec"]["partitions"] == 12
    assert by_topic["prod.tangible.credentials.v1"]["spec"]["config"] == {"cleanup.policy": "compact"}
    assert len(by_topic) == 10
    for topic in kafka_topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "kafka"
        assert topic["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


# --- KEDA ---------------------------------------------------------------------------------------


def partitions_by_topic(values: Mapping[str, Any]) -> dict[str, int]:
    prefix = values["kafka"]["topicPrefix"]
    return {prefix + t["name"]: int(t["partitions"]) for t in values["kafka"]["topics"]}


@pytest.mark.parametrize("name", ["production", "everything"])
def test_keda_max_replicas_never_exceed_partitions(rendered: dict[str, list[Manifest]], name: str) -> None:
    partitions = partitions_by_topic(RENDERS[name].values())
    scaled_objects = of_kind(rendered[name], "ScaledObject")
    assert len(scaled_objects) == 3
    for scaled in scaled_objects:
        spec = scaled["spec"]
        topics = {t["metadata"]["topic"] for t in spec["triggers"]}
        assert all(t["type"] == "kafka" for t in spec["triggers"])
        assert spec["maxReplicaCount"] <= max(partitions[t] for t in topics)
        assert spec["minReplicaCount"] <= spec["maxReplicaCount"]
    capped = by_name(rendered["production"], "ScaledObject")["tangible-entitlements-consumer"]
    assert capped["spec"]["maxReplicaCount"] == 12, "values ask for 24; tangible.usage.v1 has 12 partitions"


FEWER_USAGE_PARTITIONS = {
    "kafka": {
        "topics": [
            {"name": "tangible.usage.v1", "partitions": 4, "config": {"retention.ms": "604800000"}},
            {"name": "tangible.entitlements.v1", "partitions": 6, "config": {"retention.ms": "604800000"}},
            {"name": "tangible.rewards.v1", "partitions": 3, "config": {"retention.ms": "604800000"}},
        ]
    }
}


@pytest.mark.parametrize(
    ("sets", "overrides", "deployment", "expected"),
    [
        (
            ("services.notifications.roles.consumer.keda.maxReplicas=50",),
            {},
            "tangible-notifications-consumer",
            6,
        ),
        (("services.rewards.roles.consumer.keda.maxReplicas=3",), {}, "tangible-rewards-consumer", 3),
        ((), FEWER_USAGE_PARTITIONS, "tangible-rewards-consumer", 6),
        ((), FEWER_USAGE_PARTITIONS, "tangible-entitlements-consumer", 4),
    ],
)
def test_keda_cap_is_enforced_by_the_template(
    helm: Helm,
    tmp_path: Path,
    sets: tuple[str, ...],
    overrides: dict[str, Any],
    deployment: str,
    expected: int,
) -> None:
    extra = tmp_path / "overrides.yaml"
    extra.write_text(yaml.safe_dump(overrides))
    render = Render((PRODUCTION_VALUES, extra), sets)
    scaled = by_name(helm.manifests(render), "ScaledObject")[deployment]
    assert scaled["spec"]["maxReplicaCount"] == expected
    assert scaled["spec"]["minReplicaCount"] <= expected


def test_keda_scaler_authenticates_like_the_pods(rendered: dict[str, list[Manifest]]) -> None:
    manifests = rendered["production"]
    (auth,) = of_kind(manifests, "TriggerAuthentication")
    parameters = {ref["parameter"]: ref for ref in auth["spec"]["secretTargetRef"]}
    assert parameters.keys() == {"username", "password", "ca"}
    for scaled in of_kind(manifests, "ScaledObject"):
        for trigger in scaled["spec"]["triggers"]:
            assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
            assert trigger["metadata"]["sasl"] == "scram_sha512"
            assert trigger["metadata"]["tls"] == "enable"
            assert trigger["metadata"]["consumerGroup"].startswith("prod.")


# --- exposure and network -----------------------------------------------------------------------


def test_ingress_and_routes_expose_only_the_apis(rendered: dict[str, list[Manifest]]) -> None:
    manifests = rendered["everything"]
    services = by_name(manifests, "Service")
    ingresses = of_kind(manifests, "Ingress")
    routes = of_kind(manifests, "HTTPRoute")
    assert len(ingresses) == len(routes) == 4
    for ingress in ingresses:
        (rule,) = ingress["spec"]["rules"]
        backend = rule["http"]["paths"][0]["backend"]["service"]["name"]
        assert services[backend]["metadata"]["labels"]["tangible/role"] == "api"
        assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    for route in routes:
        backend = route["spec"]["rules"][0]["backendRefs"][0]["name"]
        assert services[backend]["metadata"]["labels"]["tangible/role"] == "api"


def test_network_policies_cover_every_pod(rendered: dict[str, list[Manifest]]) -> None:
    manifests = rendered["production"]
    policies = of_kind(manifests, "NetworkPolicy")
    pods = [
        (m["kind"], m["metadata"]["name"], m["spec"]["template"]["metadata"]["labels"])
        for m in manifests
        if m["kind"] in ("Deployment", "Job")
    ]

    def selecting(labels: Mapping[str, str], policy_type: str) -> list[Manifest]:
        return [
            p
            for p in policies
            if policy_type in p["spec"]["policyTypes"]
            and p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
            and all(
                labels.get(e["key"]) in e["values"]
                for e in p["spec"]["podSelector"].get("matchExpressions", [])
            )
        ]

    for kind, name, labels in pods:
        assert selecting(labels, "Ingress"), f"{kind} {name} accepts any connection"
        assert selecting(labels, "Egress"), f"{kind} {name} may connect anywhere"
        internet = [
            rule
            for p in selecting(labels, "Egress")
            for rule in p["spec"]["egress"]
            for peer in rule.get("to", [])
            if peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0"
        ]
        assert bool(internet) == (labels["tangible/role"] == "delivery"), name


def test_network_policy_egress_targets_follow_values(rendered: dict[str, list[Manifest]]) -> None:
    egress = by_name(rendered["production"], "NetworkPolicy")["tangible-egress"]["spec"]["egress"]
    cidrs = {peer["ipBlock"]["cidr"] for rule in egress for peer in rule.get("to", []) if "ipBlock" in peer}
    assert {"10.20.0.0/16", "10.30.0.0/16"} <= cidrs
    ports = {p["port"] for rule in egress for p in rule["ports"]}
    assert {53, 9096, 5432, 4318} <= ports


def test_prometheus_discovery(rendered: dict[str, list[Manifest]]) -> None:
    for deployment in of_kind(rendered["default"], "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
    (monitor,) = of_kind(rendered["production"], "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = of_kind(rendered["production"], "Service")
    assert all(selector.items() <= s["metadata"]["labels"].items() for s in services)


# --- values that must be rejected ---------------------------------------------------------------

SCHEMA_ERROR = "values don't meet the specifications of the schema"


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("services.rewards.roles.api.replicas=two",), "got string, want integer"),
        (("ingress.enabled=yes",), "got string, want boolean"),
        (("replicaCount=3",), "additional properties 'replicaCount' not allowed"),
        (("services.entitlements.roles.consumer.keda.maxReplica=3",), "additional properties 'maxReplica'"),
        (
            ("services.usageIngest.roles.consumer.enabled=true",),
            "additional properties 'consumer' not allowed",
        ),
        (("kafka.securityProtocol=SASL",), "value must be one of"),
        (("services.rewards.port=70000",), "maximum"),
        (("services.rewards.database.existingSecret=Not_A_Name",), "does not match pattern"),
        (("pod.probes.liveness.periodSecond=5",), "additional properties 'periodSecond'"),
    ],
)
def test_schema_rejects_invalid_values(helm: Helm, sets: tuple[str, ...], message: str) -> None:
    render = Render(sets=sets)
    for result in (helm.template(render), helm.lint(render)):
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert SCHEMA_ERROR in output, output
        assert message in output, output


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("kafka.securityProtocol=SASL_SSL",), "kafka.sasl.mechanism is required"),
        (("kafka.sasl.mechanism=PLAIN", "kafka.sasl.username=u"), "kafka.sasl.existingSecret"),
        (
            (
                "services.rewards.consumerGroups[0].name=g",
                "services.rewards.consumerGroups[0].topics[0]=nope",
                "services.rewards.roles.consumer.keda.enabled=true",
            ),
            'topic "nope" is consumed by a consumer group but missing from kafka.topics',
        ),
        (("ingress.enabled=true", "ingress.tls.enabled=true"), "ingress.tls.secretName is required"),
    ],
)
def test_template_rejects_settings_that_cannot_work(helm: Helm, sets: tuple[str, ...], message: str) -> None:
    result = helm.template(Render(sets=sets))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_image_runs_as_the_user_the_chart_expects() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    values = RENDERS["default"].values()
    user = f"USER {values['pod']['runAsUser']}:{values['pod']['runAsGroup']}"
    assert user in dockerfile.splitlines()


def documented_paths(values: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[str]:
    """Dotted paths of values.yaml, services and roles written `*` as in the README table."""
    for key, value in values.items():
        here = (*path, key)
        if isinstance(value, Mapping) and value and key not in ("resources", "deadLetterConfig"):
            yield from documented_paths(value, here)
            continue
        parts = list(here)
        if parts[0] == "services" and not (
            parts[1] == "notifications" and parts[2] in ("secretsKey", "smtp")
        ):
            parts[1] = "*"
            if len(parts) > 3 and parts[2] == "roles":
                parts[3] = "*"
        yield ".".join(parts)


def test_readme_documents_every_value() -> None:
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    missing = sorted({p for p in documented_paths(values) if f"| `{p}` |" not in readme})
    assert not missing, missing


# --- operators' escape hatches, startup budget, refusals -----------------------------------------


def test_escape_hatches_reach_every_service_pod(helm: Helm) -> None:
    sets = (
        "pod.extraEnv[0].name=OTEL_RESOURCE_ATTRIBUTES",
        "pod.extraEnv[0].value=deployment.environment=prod",
        "pod.extraEnvFrom[0].configMapRef.name=extra",
        "pod.extraVolumes[0].name=certs",
        "pod.extraVolumes[0].emptyDir.medium=Memory",
        "pod.extraVolumeMounts[0].name=certs",
        "pod.extraVolumeMounts[0].mountPath=/etc/certs",
        "pod.sidecars[0].name=proxy",
        "pod.sidecars[0].image=envoyproxy/envoy:v1.31.0",
        "pod.initContainers[0].name=wait",
        "pod.initContainers[0].image=busybox:1.36",
    )
    manifests = helm.manifests(Render(sets=sets), "--kube-version", "1.27.0")
    assert_valid_kubernetes(manifests)
    for deployment in of_kind(manifests, "Deployment"):
        spec = pod_spec(deployment)
        service, proxy = spec["containers"]
        assert proxy["name"] == "proxy"
        assert [c["name"] for c in spec["initContainers"]] == ["wait"]
        assert {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": "deployment.environment=prod"} in service["env"]
        assert service["envFrom"] == [{"configMapRef": {"name": "extra"}}]
        assert {"name": "certs", "mountPath": "/etc/certs"} in service["volumeMounts"]
        assert any(v["name"] == "certs" for v in spec["volumes"])
        assert service["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]


def test_cors_allowed_origins_reach_every_service_pod(
    helm: Helm, rendered: dict[str, list[Manifest]]
) -> None:
    def cors(manifests: list[Manifest]) -> set[str | None]:
        found = set()
        for deployment in of_kind(manifests, "Deployment"):
            (container, *_) = pod_spec(deployment)["containers"]
            env = {e["name"]: e.get("value") for e in container["env"]}
            found.add(env.get("TANGIBLE_CORS_ALLOWED_ORIGINS"))
        return found

    assert cors(rendered["default"]) == {None}  # none by default: no cross-origin calls
    sets = ("cors.allowedOrigins[0]=https://app.example.com", "cors.allowedOrigins[1]=http://localhost:3000")
    assert cors(helm.manifests(Render(sets=sets))) == {"https://app.example.com,http://localhost:3000"}
    for origin in (
        "*",
        "https://app.example.com/portal",
        "app.example.com",
        "https://a.example,https://b.example",
    ):
        escaped = origin.replace(",", "\\,")  # a comma in --set separates values
        result = helm.template(Render(sets=(f"cors.allowedOrigins[0]={escaped}",)))
        assert result.returncode != 0, origin
        assert "/cors/allowedOrigins/0" in result.stderr and "does not match pattern" in result.stderr, (
            result.stderr
        )


@pytest.mark.parametrize("wait", [300, 30])
def test_the_startup_probe_budget_follows_the_kafka_startup_wait(helm: Helm, wait: int) -> None:
    manifests = helm.manifests(Render(sets=(f"kafka.startupWaitSeconds={wait}",)))
    for deployment in of_kind(manifests, "Deployment"):
        (container, *_) = pod_spec(deployment)["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["KAFKA_STARTUP_WAIT_SECONDS"] == str(wait)
        probe = container["startupProbe"]
        assert probe["failureThreshold"] * probe["periodSeconds"] > wait  # never before the process gives up


@pytest.mark.parametrize(
    ("sets", "complaint"),
    [
        (("image.tag=latest",), "/image/tag"),
        (("telemetry.traces.exporter=otlp",), "/telemetry/traces"),
    ],
)
def test_the_schema_refuses_values_that_render_silently_wrong(
    helm: Helm, sets: tuple[str, ...], complaint: str
) -> None:
    result = helm.template(Render(sets=sets))
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


def test_otlp_with_an_endpoint_renders(helm: Helm) -> None:
    sets = ("telemetry.traces.exporter=otlp", "telemetry.traces.otlpEndpoint=http://collector:4318")
    assert helm.template(Render(sets=sets)).returncode == 0


def test_the_alerts_are_the_runbooks(rendered: dict[str, list[Manifest]]) -> None:
    """Every alert names its runbook section, and docs/runbook.md has that section."""
    (rule,) = of_kind(rendered["everything"], "PrometheusRule")
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    names = {a["alert"] for a in alerts}
    assert {"TangibleConsumerLagHigh", "TangibleDeadLettersGrowing", "TangibleOutboxBacklog"} <= names
    assert {"TangibleHttpErrorRate", "TangibleHttpLatencyP99", "TangibleWebhookEndpointDisabled"} <= names
    runbook = (REPO / "docs" / "runbook.md").read_text()
    for alert in alerts:
        assert alert["annotations"]["runbook"] == f"docs/runbook.md#{alert['alert'].lower()}"
        assert f"## {alert['alert']}" in runbook
