"""deploy/kubernetes/, parsed with PyYAML: the ports, probes, environment and command lines agree
with the server's flags, its health service and the image's entrypoint; the training Job's pods
build a TF_CONFIG that names every worker through the headless Service."""

from __future__ import annotations

import json

import pytest
import yaml
from tests.support.deploy_harness import ENTRYPOINT, KUBERNETES

from serving import flags
from serving.transports.grpc.health import TF_SERVING_HEALTH_NAMES
from zoo.cli.main import build_parser


def load(name: str) -> dict[str, dict]:
    """The documents of one manifest file, by kind."""
    return {document["kind"]: document for document in yaml.safe_load_all((KUBERNETES / name).read_text())}


@pytest.fixture(scope="module")
def deployment() -> dict:
    return load("serving-deployment.yaml")["Deployment"]


@pytest.fixture(scope="module")
def container(deployment) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


@pytest.fixture(scope="module")
def served_options(container, run_recorded):
    """zoo-serve's options as the image's entrypoint starts it with the Deployment's env and args."""
    env = {item["name"]: item["value"] for item in container["env"]}
    return flags.parse_flags(run_recorded([str(ENTRYPOINT)], "zoo-serve", env, *container["args"])["argv"])


def container_port(container: dict, name: str) -> int:
    return next(port["containerPort"] for port in container["ports"] if port["name"] == name)


def test_container_ports_are_the_ports_the_server_listens_on(container, served_options):
    assert container_port(container, "grpc") == served_options.port == 8500
    assert container_port(container, "http") == served_options.rest_api_port == 8501


def test_the_model_is_read_from_the_mounted_volume(container, served_options):
    mount = next(m for m in container["volumeMounts"] if m["name"] == "models")
    assert mount["readOnly"] and served_options.model_base_path.startswith(mount["mountPath"] + "/")
    assert served_options.model_name == served_options.model_base_path.rsplit("/", 1)[1]


@pytest.mark.parametrize("probe", ["startupProbe", "livenessProbe", "readinessProbe"])
def test_probes_ask_the_grpc_health_service_on_the_grpc_port(container, probe):
    grpc_probe = container[probe]["grpc"]
    assert grpc_probe["port"] == container_port(container, "grpc")
    assert grpc_probe.get("service", "") in ("", *TF_SERVING_HEALTH_NAMES), "a name the health service reports"


def test_readiness_waits_for_every_model_and_liveness_only_for_the_server(container):
    assert container["readinessProbe"]["grpc"]["service"] == "", "'' is SERVING once every model is AVAILABLE"
    assert container["livenessProbe"]["grpc"]["service"] in TF_SERVING_HEALTH_NAMES, \
        "a model that fails to load must not make Kubernetes restart the server"


def test_graceful_shutdown_fits_in_the_termination_grace_period(deployment, container, served_options):
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop + served_options.shutdown_grace_seconds < grace


def test_service_routes_both_ports_to_the_deployments_pods(deployment, container):
    service = load("serving-service.yaml")["Service"]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    routed = {port["name"]: (port["port"], port["targetPort"]) for port in service["spec"]["ports"]}
    assert routed == {"grpc": (8500, "grpc"), "http": (8501, "http")}
    assert {port["name"] for port in container["ports"]} >= {target for _, target in routed.values()}


def test_autoscaler_scales_the_deployment_on_cpu_the_pods_request(deployment, container):
    autoscaler = load("serving-hpa.yaml")["HorizontalPodAutoscaler"]
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert autoscaler["spec"]["minReplicas"] <= deployment["spec"]["replicas"] <= autoscaler["spec"]["maxReplicas"]
    (metric,) = autoscaler["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu" and "cpu" in container["resources"]["requests"]


@pytest.fixture(scope="module")
def training() -> dict[str, dict]:
    return load("training-job.yaml")


def worker_container(training: dict) -> dict:
    (worker,) = training["Job"]["spec"]["template"]["spec"]["containers"]
    return worker


def test_indexed_job_runs_every_worker_at_once(training):
    spec = training["Job"]["spec"]
    env = {item["name"]: item["value"] for item in worker_container(training)["env"]}
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == int(env["NUM_WORKERS"])


@pytest.mark.parametrize("index", [0, 1])
def test_each_pod_builds_tf_config_naming_all_workers_through_the_headless_service(training, run_recorded, index):
    job, service, worker = training["Job"], training["Service"], worker_container(training)
    env = {item["name"]: item["value"] for item in worker["env"]}
    started = run_recorded([*worker["command"], *worker["args"]], "zoo", {**env, "JOB_COMPLETION_INDEX": str(index)})
    name, subdomain = job["metadata"]["name"], job["spec"]["template"]["spec"]["subdomain"]
    port = service["spec"]["ports"][0]["port"]
    assert subdomain == service["metadata"]["name"] and service["spec"]["clusterIP"] == "None"
    assert json.loads(started["tf_config"]) == {
        "cluster": {"worker": [f"{name}-{i}.{subdomain}:{port}" for i in range(job["spec"]["completions"])]},
        "task": {"type": "worker", "index": index},
    }
    assert port == worker["ports"][0]["containerPort"]


def test_training_command_is_a_valid_multi_worker_zoo_train(training, run_recorded):
    worker = worker_container(training)
    env = {item["name"]: item["value"] for item in worker["env"]}
    started = run_recorded([*worker["command"], *worker["args"]], "zoo", {**env, "JOB_COMPLETION_INDEX": "0"})
    args = build_parser().parse_args(started["argv"])
    assert args.command == "train" and args.strategy == "multi_worker"
    assert args.workdir.startswith(worker["volumeMounts"][0]["mountPath"] + "/")


def test_headless_service_selects_the_jobs_pods(training):
    selector = training["Service"]["spec"]["selector"]
    assert selector == {"batch.kubernetes.io/job-name": training["Job"]["metadata"]["name"]}
    assert training["Service"]["spec"]["publishNotReadyAddresses"], "workers find each other before they are ready"
