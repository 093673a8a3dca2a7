"""Request logging on a real server: what TF Serving's logging_config makes it write, over gRPC and
REST, for TF Serving's APIs and the Open Inference Protocol; sampling; what is never logged; the
files as warmup data; an unwritable directory at start-up."""

import glob
import logging
import os
import shutil
import subprocess
import sys

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, inference_pb2, model_management_pb2,
                                     model_service_pb2_grpc, prediction_log_pb2,
                                     prediction_service_pb2_grpc, regression_pb2)
from tests.support import savedmodels
from tests.support.http_harness import http_call
from tests.support.server_harness import free_port, model_config_text

from serving import errors
from serving.apis.tfs import warmup
from serving.version_loader import VersionLoader

pytestmark = pytest.mark.slow

SAMPLING_RATE = 0.2
SAMPLED_REQUESTS = 500


def _logging(prefix, rate: float) -> str:
    return (f'logging_config {{ log_collector_config {{ type: "tfrecord" filename_prefix: "{prefix}" }} '
            f"sampling_config {{ sampling_rate: {rate} }} }}")


@pytest.fixture(scope="module")
def log_root(tmp_path_factory):
    return tmp_path_factory.mktemp("request-logs")


@pytest.fixture(scope="module")
def logging_server(model_root, start_model_server, log_root, tmp_path_factory):
    """Models under several names, each logging to log_root/NAME/requests (quiet: not at all)."""
    half, tf1, multi = (str(model_root / name) for name in ("half_plus_two", "tf1", "multi_io"))
    models = {"logged": half, "logged_tf1": tf1, "logged_multi": multi, "sampled": half,
              "quiet": half}
    rates = {"logged": 1.0, "logged_tf1": 1.0, "logged_multi": 1.0, "sampled": SAMPLING_RATE}
    extra = {name: "model_version_policy { specific { versions: 1 } } "
             + _logging(log_root / name / "requests", rate) for name, rate in rates.items()}
    extra["quiet"] = "model_version_policy { specific { versions: 1 } }"
    config = tmp_path_factory.mktemp("logging-config") / "models.config"
    config.write_text(model_config_text(models, extra=extra))
    return start_model_server(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0",
                              f"--rest_api_port={free_port()}")


@pytest.fixture(scope="module")
def stub(logging_server):
    with grpc.insecure_channel(logging_server.target) as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


def _logs(server, log_root, model: str) -> list[prediction_log_pb2.PredictionLog]:
    assert server.server.request_logger.flush()
    logs = []
    for path in sorted(glob.glob(str(log_root / model / "requests-*.tfrecord"))):
        for record in tf.data.TFRecordDataset(path):
            logs.append(prediction_log_pb2.PredictionLog.FromString(record.numpy()))
    return logs


def _rest(server, path: str, document):
    return http_call(server.server.rest.port, "POST", path, document)


def _examples(request, *values):
    for value in values:
        example = request.input.example_list.examples.add()
        example.features.feature["x"].float_list.value.append(value)
    return request


def test_grpc_and_rest_predicts_are_logged_with_their_responses(logging_server, stub, log_root):
    before = len(_logs(logging_server, log_root, "logged"))
    request = savedmodels.predict_request("logged", {"x": np.array([1.0, 2.0], np.float32)})
    stub.Predict(request, timeout=30)
    assert _rest(logging_server, "/v1/models/logged:predict", {"instances": [4.0]}).status == 200
    grpc_log, rest_log = [log.predict_log for log in _logs(logging_server, log_root, "logged")[before:]]
    assert tf.make_ndarray(grpc_log.request.inputs["x"]).tolist() == [1.0, 2.0]
    assert tf.make_ndarray(grpc_log.response.outputs["y"]).tolist() == [2.5, 3.0]
    assert tf.make_ndarray(rest_log.request.inputs["x"]).tolist() == [4.0]
    assert tf.make_ndarray(rest_log.response.outputs["y"]).tolist() == [4.0]


def test_log_metadata_says_which_version_and_signature_answered_and_how_it_was_sampled(
        logging_server, stub, log_root):
    stub.Predict(savedmodels.predict_request("logged", {"x": np.array([0.0], np.float32)}),
                 timeout=30)
    metadata = _logs(logging_server, log_root, "logged")[-1].log_metadata
    assert (metadata.model_spec.name, metadata.model_spec.version.value,
            metadata.model_spec.signature_name) == ("logged", 1, "serving_default")
    assert metadata.sampling_config.sampling_rate == 1.0
    assert list(metadata.saved_model_tags) == ["serve"]
    assert metadata.timestamp_secs > 1_700_000_000


def test_classify_regress_and_multi_inference_are_logged(logging_server, stub, log_root):
    classify = _examples(classification_pb2.ClassificationRequest(), 1.0, -1.0)
    classify.model_spec.name, classify.model_spec.signature_name = "logged_tf1", "classify"
    regress = _examples(regression_pb2.RegressionRequest(), 3.0)
    regress.model_spec.name, regress.model_spec.signature_name = "logged_tf1", "regress"
    multi = _examples(inference_pb2.MultiInferenceRequest(), 0.5)
    for signature in ("classify", "regress"):
        task = multi.tasks.add(method_name=f"tensorflow/serving/{signature}")
        task.model_spec.name, task.model_spec.signature_name = "logged_tf1", signature
    stub.Classify(classify, timeout=30)
    stub.Regress(regress, timeout=30)
    stub.MultiInference(multi, timeout=30)
    assert _rest(logging_server, "/v1/models/logged_tf1:regress",
                 {"signature_name": "regress", "examples": [{"x": 8.0}]}).status == 200
    logs = _logs(logging_server, log_root, "logged_tf1")[-4:]
    assert [log.WhichOneof("log_type") for log in logs] == [
        "classify_log", "regress_log", "multi_inference_log", "regress_log"]
    assert logs[0].classify_log.request == classify
    assert len(logs[0].classify_log.response.result.classifications) == 2
    assert logs[1].regress_log.response.result.regressions[0].value == pytest.approx(3.5)
    assert len(logs[2].multi_inference_log.response.results) == 2
    assert logs[2].log_metadata.model_spec.signature_name == "classify"
    assert logs[3].regress_log.response.result.regressions[0].value == pytest.approx(6.0)


def test_oip_inference_is_logged_as_the_predict_it_amounts_to(logging_server, log_root):
    import tritonclient.grpc

    before = len(_logs(logging_server, log_root, "logged"))
    body = {"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [2.0, 6.0]}]}
    assert _rest(logging_server, "/v2/models/logged/infer", body).status == 200
    with tritonclient.grpc.InferenceServerClient(url=logging_server.target) as client:
        tensor = tritonclient.grpc.InferInput("x", [1], "FP32")
        tensor.set_data_from_numpy(np.array([10.0], np.float32))
        client.infer("logged", [tensor], client_timeout=30)
    rest_log, grpc_log = _logs(logging_server, log_root, "logged")[before:]
    for log, inputs, outputs in ((rest_log, [2.0, 6.0], [3.0, 5.0]), (grpc_log, [10.0], [7.0])):
        assert log.log_metadata.model_spec.name == "logged"
        assert log.log_metadata.model_spec.version.value == 1
        assert tf.make_ndarray(log.predict_log.request.inputs["x"]).tolist() == inputs
        assert tf.make_ndarray(log.predict_log.response.outputs["y"]).tolist() == outputs


def test_failed_requests_and_models_without_logging_config_are_not_logged(
        logging_server, stub, log_root):
    before = len(_logs(logging_server, log_root, "logged"))
    with pytest.raises(grpc.RpcError):
        stub.Predict(savedmodels.predict_request("logged", {"wrong": np.array([1.0], np.float32)}),
                     timeout=30)
    stub.Predict(savedmodels.predict_request("quiet", {"x": np.array([1.0], np.float32)}),
                 timeout=30)
    assert len(_logs(logging_server, log_root, "logged")) == before
    assert not os.path.exists(log_root / "quiet")


def test_sampling_rate_is_honoured_within_statistical_tolerance(logging_server, stub, log_root):
    request = savedmodels.predict_request("sampled", {"x": np.array([1.0], np.float32)})
    for _ in range(SAMPLED_REQUESTS):
        stub.Predict(request, timeout=30)
    logged = len(_logs(logging_server, log_root, "sampled"))
    expected = SAMPLED_REQUESTS * SAMPLING_RATE
    deviation = (SAMPLED_REQUESTS * SAMPLING_RATE * (1 - SAMPLING_RATE)) ** 0.5
    # Five standard deviations: a correct sampler fails this about once in two million runs.
    assert abs(logged - expected) <= 5 * deviation, (logged, expected)


def test_payloads_never_reach_the_server_log(logging_server, log_root, caplog):
    secret = "payload-7f3a9c-never-in-logs"
    body = {"instances": [{"features": [1.0, 2.0, 3.0], "ids": 7, "names": secret}]}
    with caplog.at_level(logging.DEBUG):
        assert _rest(logging_server, "/v1/models/logged_multi:predict", body).status == 200
        logs = _logs(logging_server, log_root, "logged_multi")
    assert tf.make_ndarray(logs[-1].predict_log.request.inputs["names"]).tolist() == [secret.encode()]
    # The server logs nothing of a successful request (the REST port keeps no access log), so
    # whatever was logged at any level while it ran must not hold the payload.
    assert all(secret not in record.getMessage() for record in caplog.records)


def test_a_logged_file_works_as_a_version_warmup_file(logging_server, stub, log_root, tmp_path):
    stub.Predict(savedmodels.predict_request("logged", {"x": np.array([5.0], np.float32)}),
                 timeout=30)
    logs = _logs(logging_server, log_root, "logged")
    [path] = glob.glob(str(log_root / "logged" / "requests-*.tfrecord"))
    version = savedmodels.export_half_plus_two(tmp_path / "fresh", 1)
    warmup_file = os.path.join(version, *warmup.WARMUP_FILE.split(os.sep))
    os.makedirs(os.path.dirname(warmup_file))
    shutil.copy(path, warmup_file)
    servable = VersionLoader(warmup_iterations=None).load("fresh", 1, version)
    try:
        assert warmup.warm_up(servable) == len(logs)
    finally:
        servable.unload()


def test_reloaded_config_starts_and_stops_logging(model_root, start_model_server, tmp_path):
    server = start_model_server("--model_name=reloaded",
                                f"--model_base_path={model_root / 'half_plus_two'}",
                                "--file_system_poll_wait_seconds=0")
    request = savedmodels.predict_request("reloaded", {"x": np.array([1.0], np.float32)})

    def reload(extra: str):
        reload_request = model_management_pb2.ReloadConfigRequest()
        model = reload_request.config.model_config_list.config.add(
            name="reloaded", base_path=str(model_root / "half_plus_two"),
            model_platform="tensorflow")
        if extra:
            model.logging_config.log_collector_config.filename_prefix = extra
            model.logging_config.sampling_config.sampling_rate = 1.0
        with grpc.insecure_channel(server.target) as channel:
            model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
                reload_request, timeout=60)

    with grpc.insecure_channel(server.target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        stub.Predict(request, timeout=30)
        reload(str(tmp_path / "requests"))
        stub.Predict(request, timeout=30)
        reload("")
        stub.Predict(request, timeout=30)
    written = glob.glob(str(tmp_path / "requests-*.tfrecord"))
    assert sum(1 for path in written for _ in tf.data.TFRecordDataset(path)) == 1


def test_an_unwritable_log_directory_stops_the_start(model_root, start_model_server, tmp_path):
    (tmp_path / "a_file").write_text("not a directory")
    config = tmp_path / "models.config"
    config.write_text(model_config_text(
        {"m": str(model_root / "half_plus_two")},
        extra={"m": _logging(tmp_path / "a_file" / "logs" / "m", 1.0)}))
    with pytest.raises(errors.InvalidArgument) as caught:
        start_model_server(f"--model_config_file={config}")
    assert caught.value.message.startswith(
        f"model 'm': logging_config.log_collector_config.filename_prefix="
        f"{tmp_path}/a_file/logs/m: cannot write request logs there (")
    assert caught.value.message.endswith("make its directory writable or change the prefix")


def test_zoo_serve_reports_an_unwritable_log_directory_in_one_line(model_root, tmp_path):
    (tmp_path / "a_file").write_text("not a directory")
    config = tmp_path / "models.config"
    config.write_text(model_config_text(
        {"m": str(model_root / "half_plus_two")},
        extra={"m": _logging(tmp_path / "a_file" / "m", 1.0)}))
    result = subprocess.run(
        [sys.executable, "-m", "serving", f"--model_config_file={config}", "--port=0",
         f"--grpc_socket_path={tmp_path / 'grpc.sock'}"],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("zoo-serve:")]
    assert line.startswith("zoo-serve: failed to start: model 'm': logging_config.")
    assert "cannot write request logs there" in line
