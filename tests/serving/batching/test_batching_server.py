"""Batching in a real server: every protocol through one queue, per-model parameters, deadlines,
and --grpc_max_threads refusing calls beyond its limit."""

from __future__ import annotations

import concurrent.futures
import os
import time

import grpc
import numpy as np
import pytest
from tests.support import savedmodels
from tests.support.batching_helpers import WAIT_SECONDS, export_sleeper
from tests.support.http_harness import http_call
from tests.support.server_harness import free_port
from tensorflow_serving.apis import prediction_service_pb2_grpc, regression_pb2

from serving.batching import PER_MODEL_FILE
from serving.metrics.recorders import REGISTRY
from serving.transports.grpc import grpc_predict_v2_pb2 as oip_pb2
from serving.transports.grpc import grpc_predict_v2_pb2_grpc as oip_grpc
from serving.apis.tfs.tensor_codec import tensor_proto_to_ndarray

pytestmark = pytest.mark.slow

SLEEP_SECONDS = 0.3


def model_config_file(path, models: dict) -> str:
    entries = "".join(
        f'config {{ name: "{name}" base_path: "{base}" model_platform: "tensorflow" }}\n'
        for name, base in models.items())
    path.write_text("model_config_list {\n" + entries + "}\n")
    return str(path)


def batches_recorded(model: str) -> tuple[float, float]:
    """(batches run, rows run) for a model, from the Prometheus batch-size histogram."""
    labels = {"model_name": model, "version": "1"}
    name = ":tensorflow:serving:batching_session:processed_batch_size"
    return (REGISTRY.get_sample_value(name + "_count", labels) or 0.0,
            REGISTRY.get_sample_value(name + "_sum", labels) or 0.0)


def predict(channel, model: str, value: float, timeout: float = WAIT_SECONDS) -> float:
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = savedmodels.predict_request(model, {"x": np.array([value], np.float32)})
    response = stub.Predict(request, timeout=timeout)
    return float(tensor_proto_to_ndarray(response.outputs["y"])[0])


def model_infer(channel, model: str, value: float) -> float:
    stub = oip_grpc.GRPCInferenceServiceStub(channel)
    request = oip_pb2.ModelInferRequest(model_name=model, inputs=[
        oip_pb2.ModelInferRequest.InferInputTensor(
            name="x", datatype="FP32", shape=[1],
            contents=oip_pb2.InferTensorContents(fp32_contents=[value]))])
    response = stub.ModelInfer(request, timeout=WAIT_SECONDS)
    return response.outputs[0].contents.fp32_contents[0]


@pytest.fixture(scope="module")
def batching_server(start_model_server, tmp_path_factory):
    """--enable_batching (at most 8 per batch, 1 ms timeout, one batch thread) serving
    `half_batched` (y = 0.5x + 2) and `sleeper` (y = 2x after sleeping SLEEP_SECONDS)."""
    root = tmp_path_factory.mktemp("batching_server")
    savedmodels.export_half_plus_two(root / "half_batched", 1)
    export_sleeper(root / "sleeper", 1, sleep_seconds=SLEEP_SECONDS)
    params = root / "batching.txt"
    params.write_text("max_batch_size { value: 8 } batch_timeout_micros { value: 1000 } "
                      "num_batch_threads { value: 1 } max_enqueued_batches { value: 64 }")
    config = model_config_file(root / "models.config", {"half_batched": root / "half_batched",
                                                        "sleeper": root / "sleeper"})
    return start_model_server(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0",
                              "--enable_batching", f"--batching_parameters_file={params}")


@pytest.fixture(scope="module")
def batching_channel(batching_server):
    with grpc.insecure_channel(batching_server.target) as channel:
        yield channel


def test_concurrent_predict_and_kserve_requests_share_batches_and_get_their_own_answers(
        batching_channel):
    values = [float(index) for index in range(96)]
    before = batches_recorded("half_batched")

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(
            lambda value: (predict if value % 2 else model_infer)(batching_channel, "half_batched",
                                                                 value), values))

    assert answers == [0.5 * value + 2.0 for value in values]
    batches, rows = (after - earlier for after, earlier in zip(batches_recorded("half_batched"),
                                                               before))
    assert rows == len(values)  # every request went through the batcher, none twice
    assert batches <= rows


def regress(channel, model: str, value: float, timeout: float = WAIT_SECONDS) -> float:
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = "regress"
    request.input.example_list.examples.add().ParseFromString(savedmodels.tf_example(value))
    response = stub.Regress(request, timeout=timeout)
    return response.result.regressions[0].value


@pytest.mark.parametrize("call", [predict, regress], ids=["predict", "regress"])
def test_request_whose_deadline_passes_in_the_queue_is_not_run(batching_channel, call):
    rows_signature = savedmodels.predict_request("sleeper", {}, signature_name="rows")
    stub = prediction_service_pb2_grpc.PredictionServiceStub(batching_channel)
    rows_before = tensor_proto_to_ndarray(stub.Predict(rows_signature, timeout=WAIT_SECONDS)
                                          .outputs["rows"])

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        running = pool.submit(predict, batching_channel, "sleeper", 1.0)
        time.sleep(0.1)  # the first request is in the model now, holding the one batch slot
        with pytest.raises(grpc.RpcError) as expired:
            call(batching_channel, "sleeper", 2.0, timeout=0.1)
        assert running.result(WAIT_SECONDS) == 2.0
    time.sleep(SLEEP_SECONDS)  # time for the expired request to have run, had it been run

    assert expired.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    rows_after = tensor_proto_to_ndarray(stub.Predict(rows_signature, timeout=WAIT_SECONDS)
                                         .outputs["rows"])
    assert rows_after - rows_before == 1


@pytest.fixture(scope="module")
def per_model_server(start_model_server, tmp_path_factory):
    """--enable_per_model_batching_parameters: `own_file` has batching_params.pbtxt, `no_file`
    has none, `bad_file` has one that does not parse."""
    root = tmp_path_factory.mktemp("per_model")
    models = {}
    for name, text in (("own_file", "max_batch_size { value: 4 }"), ("no_file", None),
                       ("bad_file", "max_batch_size: 4")):
        savedmodels.export_half_plus_two(root / name, 1)
        if text is not None:
            (root / name / "1" / PER_MODEL_FILE).write_text(text)
        models[name] = root / name
    config = model_config_file(root / "models.config", models)
    return start_model_server(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0",
                              "--max_num_load_retries=0", "--enable_batching",
                              "--enable_per_model_batching_parameters")


def test_per_model_parameters_batch_only_the_versions_that_have_their_file(per_model_server):
    with grpc.insecure_channel(per_model_server.target) as channel:
        assert predict(channel, "own_file", 4.0) == 4.0
        assert predict(channel, "no_file", 4.0) == 4.0

    assert batches_recorded("own_file") == (1.0, 1.0)
    assert batches_recorded("no_file") == (0.0, 0.0)


def test_unusable_per_model_file_fails_that_versions_load_with_the_reason(per_model_server):
    [status] = per_model_server.manager.status("bad_file")

    assert status.state == "END"
    assert status.error_code == grpc.StatusCode.INVALID_ARGUMENT
    assert PER_MODEL_FILE in status.error_message and "max_batch_size: 4" in status.error_message


def test_rest_calls_fill_batches_beyond_the_default_four_threads_per_cpu(
        start_model_server, tmp_path):
    """Each REST call waiting on the batcher holds a pool thread: with batching on, the default
    pool grows by what filling the batches takes, so more concurrent calls than 4 per CPU (TF
    Serving's default pool) share one batch instead of waiting for a second and third."""
    calls = 4 * (os.cpu_count() or 1) + 8
    export_sleeper(tmp_path / "sleeper", 1, sleep_seconds=SLEEP_SECONDS)
    params = tmp_path / "batching.txt"
    params.write_text(f"max_batch_size {{ value: {2 * calls} }} batch_timeout_micros "
                      "{ value: 100000 } num_batch_threads { value: 1 } ")
    server = start_model_server(f"--model_base_path={tmp_path / 'sleeper'}", "--model_name=sleeper",
                                "--file_system_poll_wait_seconds=0", "--enable_batching",
                                f"--batching_parameters_file={params}",
                                f"--rest_api_port={free_port()}")
    batches_before, rows_before = batches_recorded("sleeper")

    with concurrent.futures.ThreadPoolExecutor(calls) as pool:
        answers = list(pool.map(lambda value: http_call(
            server.server.rest.port, "POST", "/v1/models/sleeper:predict",
            {"instances": [float(value)]}), range(calls)))

    assert [answer.status for answer in answers] == [200] * calls
    assert [answer.json()["predictions"] for answer in answers] == [[2.0 * value]
                                                                   for value in range(calls)]
    batches_after, rows_after = batches_recorded("sleeper")
    # The first call runs at once on the idle batcher; every other one joins the next batch.
    assert rows_after - rows_before == calls and batches_after - batches_before <= 2


def test_grpc_max_threads_refuses_calls_beyond_the_limit_with_resource_exhausted(
        start_model_server, tmp_path):
    export_sleeper(tmp_path / "sleeper", 1, sleep_seconds=SLEEP_SECONDS)
    server = start_model_server(f"--model_base_path={tmp_path / 'sleeper'}", "--model_name=sleeper",
                                "--file_system_poll_wait_seconds=0", "--grpc_max_threads=2")

    with grpc.insecure_channel(server.target) as channel:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(lambda value: _outcome(channel, value), range(6)))

    assert outcomes.count("RESOURCE_EXHAUSTED") >= 1
    assert 1 <= outcomes.count("OK") <= 4
    assert set(outcomes) <= {"OK", "RESOURCE_EXHAUSTED"}


def _outcome(channel, value: float) -> str:
    try:
        predict(channel, "sleeper", value)
    except grpc.RpcError as error:
        return error.code().name
    return "OK"
