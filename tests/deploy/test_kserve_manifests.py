"""deploy/kserve/, parsed with PyYAML and checked against the server: the runtime's arguments,
rendered as KServe renders them, are flags zoo-serve takes with KServe's ports and /mnt/models;
the InferenceServices ask for what the runtime offers; and zoo-serve started with exactly those
arguments, on a model laid out as KServe lays it out (a folder of versions, or a single SavedModel
when storageUri names a version folder), answers over REST and gRPC, on its probes and metrics.

The manifests are not validated against KServe's CRD schemas: no package from the registries
ships them (the `kserve` wheel has the SDK's model classes, no CRDs).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import numpy as np
import pytest
import yaml
from tests.support.deploy_harness import DOCKERFILE, KSERVE, VENV_BIN, entrypoint_env, free_port
from tests.support.http_harness import http_call

from serving import flags
from serving.metrics.monitoring_config import load_monitoring_config

# KServe's own TF Serving runtime (config/runtimes/kserve-tensorflow-serving.yaml): its priority
# for tensorflow, and the ports and model path KServe expects a predictor to use.
KSERVE_TF_SERVING_PRIORITY = 2
KSERVE_GRPC_PORT, KSERVE_HTTP_PORT, KSERVE_MODEL_DIR = 9000, 8080, "/mnt/models"
# Files the runtime's arguments name inside the image, and where each is in this repository.
IMAGE_FILES = {"/etc/tfzoo/monitoring.config": DOCKERFILE.parent / "deploy" / "docker" / "monitoring.config"}
READY_SECONDS = 90


def documents(name: str) -> list[dict]:
    return list(yaml.safe_load_all((KSERVE / name).read_text()))


RUNTIME = documents("serving-runtime.yaml")[0]
INFERENCE_SERVICES = {path.name: documents(path.name)[0] for path in sorted(KSERVE.glob("inferenceservice-*.yaml"))}


def render(container: dict, metadata: dict) -> dict:
    """The container as KServe's controller runs it: its JSON executed as a Go template over the
    InferenceService's ObjectMeta (ReplacePlaceholders). Only `{{.Field}}` is rendered; any other
    template action fails the test instead of being passed on unrendered."""
    def field(match: re.Match) -> str:
        name = match.group(1)
        return str(metadata[name[0].lower() + name[1:]])

    rendered = yaml.safe_load(re.sub(r"\{\{\s*\.(\w+)\s*\}\}", field, yaml.safe_dump(container)))
    assert "{{" not in yaml.safe_dump(rendered), "a template action this test cannot render"
    return rendered


def served_container(isvc: dict) -> dict:
    (container,) = RUNTIME["spec"]["containers"]
    return render(container, isvc["metadata"])


def options_of(container: dict) -> flags.ServerOptions:
    assert container["command"] == ["zoo-serve"]
    return flags.parse_flags(container["args"])


def test_cluster_runtime_is_the_same_runtime_for_the_whole_cluster():
    (cluster,) = documents("cluster-serving-runtime.yaml")
    assert (RUNTIME["kind"], cluster["kind"]) == ("ServingRuntime", "ClusterServingRuntime")
    assert cluster["metadata"] == RUNTIME["metadata"] and cluster["spec"] == RUNTIME["spec"]


def test_runtime_serves_tensorflow_2_above_kserves_tf_serving_runtime():
    (model_format,) = RUNTIME["spec"]["supportedModelFormats"]
    assert model_format["name"] == "tensorflow" and model_format["version"] == "2"
    assert model_format["autoSelect"] is True and model_format["priority"] > KSERVE_TF_SERVING_PRIORITY
    assert set(RUNTIME["spec"]["protocolVersions"]) == {"v1", "v2", "grpc-v1", "grpc-v2"}


@pytest.mark.parametrize("name", INFERENCE_SERVICES)
def test_rendered_arguments_are_kserves_ports_and_model_directory(name):
    isvc = INFERENCE_SERVICES[name]
    options = options_of(served_container(isvc))
    assert options.model_name == isvc["metadata"]["name"], "requests name the InferenceService"
    assert (options.port, options.rest_api_port) == (KSERVE_GRPC_PORT, KSERVE_HTTP_PORT)
    assert options.model_base_path == KSERVE_MODEL_DIR
    assert options.rest_api_timeout_in_ms == 60000


def test_probes_and_metrics_are_on_the_rest_port():
    container = RUNTIME["spec"]["containers"][0]
    options = options_of(served_container(INFERENCE_SERVICES["inferenceservice-rest.yaml"]))
    assert {container[probe]["httpGet"]["port"] for probe in ("livenessProbe", "readinessProbe")} \
        == {options.rest_api_port}
    annotations = RUNTIME["spec"]["annotations"]
    assert int(annotations["prometheus.kserve.io/port"]) == options.rest_api_port
    monitoring = load_monitoring_config(str(IMAGE_FILES[options.monitoring_config_file]))
    assert monitoring.prometheus_config.enable
    assert annotations["prometheus.kserve.io/path"] == monitoring.prometheus_config.path


def test_the_image_has_the_files_the_arguments_name():
    dockerfile = DOCKERFILE.read_text()
    for image_path, source in IMAGE_FILES.items():
        assert re.search(rf"^COPY .*{re.escape(str(source.relative_to(DOCKERFILE.parent)))} {image_path}$",
                         dockerfile, re.M), f"the Dockerfile copies {source.name} to {image_path}"


@pytest.mark.parametrize("name", INFERENCE_SERVICES)
def test_inference_services_ask_for_what_the_runtime_offers(name):
    isvc = INFERENCE_SERVICES[name]
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1" and isvc["kind"] == "InferenceService"
    model = isvc["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "tensorflow"
    assert model["modelFormat"].get("version", "2") == RUNTIME["spec"]["supportedModelFormats"][0]["version"]
    assert model.get("runtime", RUNTIME["metadata"]["name"]) == RUNTIME["metadata"]["name"]
    assert model["protocolVersion"] in RUNTIME["spec"]["protocolVersions"]
    assert re.fullmatch(r"pvc://tfzoo-models/models/mnist(/\d+)?", model["storageUri"]), "a versioned export"


def test_grpc_service_exposes_the_grpc_port_as_h2c():
    isvc = INFERENCE_SERVICES["inferenceservice-grpc.yaml"]
    (port,) = isvc["spec"]["predictor"]["model"]["ports"]
    assert port == {"name": "h2c", "containerPort": options_of(served_container(isvc)).port, "protocol": "TCP"}


def test_canary_splits_traffic_and_serves_a_single_version_folder():
    predictor = INFERENCE_SERVICES["inferenceservice-canary.yaml"]["spec"]["predictor"]
    assert 0 < predictor["canaryTrafficPercent"] < 100
    assert predictor["model"]["storageUri"].rsplit("/", 1)[1].isdigit()
    assert INFERENCE_SERVICES["inferenceservice-canary.yaml"]["metadata"]["name"] == \
        INFERENCE_SERVICES["inferenceservice-rest.yaml"]["metadata"]["name"], "a new revision of the same service"


def kserve_model_dir(models_root, tmp_path, layout: str):
    """/mnt/models as KServe's storage initializer leaves it: the storageUri's content copied in.
    "versions": storageUri names the export folder (1/ inside); "bare": it names version 1's folder."""
    source = models_root / "half_plus_two"
    mnt_models = tmp_path / "mnt-models"
    shutil.copytree(source if layout == "versions" else source / "1", mnt_models)
    return mnt_models


def local_argv(container: dict, mnt_models, grpc_port: int, http_port: int) -> list[str]:
    """The rendered arguments with what only a pod has replaced by this machine's: /mnt/models and
    the image's files by local paths, KServe's ports by free ones, bound to loopback."""
    replaced = {f"--port={KSERVE_GRPC_PORT}": f"--port={grpc_port}",
                f"--rest_api_port={KSERVE_HTTP_PORT}": f"--rest_api_port={http_port}",
                f"--model_base_path={KSERVE_MODEL_DIR}": f"--model_base_path={mnt_models}",
                **{f"--monitoring_config_file={image}": f"--monitoring_config_file={local}"
                   for image, local in IMAGE_FILES.items()}}
    argv = [replaced.get(argument, argument) for argument in container["args"]]
    assert len(set(argv) - set(container["args"])) == len(replaced), "every replaced argument was there"
    return [*argv, "--grpc_bind_address=127.0.0.1"]


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["versions", "bare"])
def test_zoo_serve_with_the_runtimes_arguments_serves_kserves_layout(models_root, tmp_path, layout):
    from tfzoo_client import Client

    isvc = INFERENCE_SERVICES["inferenceservice-rest.yaml"]
    name = isvc["metadata"]["name"]
    container = served_container(isvc)
    grpc_port, http_port = free_port(), free_port()
    argv = local_argv(container, kserve_model_dir(models_root, tmp_path, layout), grpc_port, http_port)
    server = subprocess.Popen([str(VENV_BIN / "zoo-serve"), *argv], env=entrypoint_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready_path = container["readinessProbe"]["httpGet"]["path"]
        deadline = time.monotonic() + READY_SECONDS
        while server.poll() is None and time.monotonic() < deadline:
            try:
                if http_call(http_port, "GET", ready_path, timeout=2).status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert http_call(http_port, "GET", ready_path).status == 200, "ready once the model is loaded"
        assert http_call(http_port, "GET", container["livenessProbe"]["httpGet"]["path"]).status == 200

        v1 = http_call(http_port, "POST", f"/v1/models/{name}:predict", {"instances": [1.0, 2.0]})
        assert v1.status == 200 and v1.json() == {"predictions": [2.5, 3.0]}
        v2 = http_call(http_port, "POST", f"/v2/models/{name}/infer",
                       {"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1.0, 2.0]}]})
        assert v2.status == 200 and v2.json()["outputs"][0]["data"] == [2.5, 3.0]
        with Client(f"127.0.0.1:{grpc_port}", timeout=10) as client:
            np.testing.assert_allclose(client.predict(name, np.array([1.0, 2.0], np.float32))["y"], [2.5, 3.0])
            assert client.status(name)[0].version == 1
        metrics = http_call(http_port, "GET", RUNTIME["spec"]["annotations"]["prometheus.kserve.io/path"])
        assert metrics.status == 200 and b":tensorflow:serving:request_count" in metrics.body
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert ("event=bare_saved_model" in output) == (layout == "bare"), output[-2000:]
