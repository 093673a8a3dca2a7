"""benchmarks/grpc_floor_server.py, the model-less server benchmarks/serving.py measures its floor
with: it must answer what `zoo bench` sends (metadata, then batch-1 Predict) with the official
stubs, and stop cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys

import grpc
import numpy as np
import pytest
from tests.support import savedmodels
from tests.support.benchmark_scripts import script_path
from tests.support.server_harness import free_port
from tensorflow_serving.apis import get_model_metadata_pb2, prediction_service_pb2_grpc

from serving.apis.tfs.tensor_codec import tensor_proto_to_ndarray

SCRIPT = script_path("grpc_floor_server")
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def half_plus_two(tmp_path_factory) -> str:
    return savedmodels.export_half_plus_two(tmp_path_factory.mktemp("floor") / "hp2", 1)


@pytest.fixture
def floor_server(half_plus_two):
    version_dir = half_plus_two
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SCRIPT), f"--port={port}", f"--saved-model={version_dir}",
                                "--model-name=hp2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout.readline().startswith("serving on"), "the floor server did not start"
        yield process, f"127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_floor_server_answers_metadata_and_a_batch_one_predict(floor_server):
    _, target = floor_server
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        metadata = stub.GetModelMetadata(get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec={"name": "hp2"}, metadata_field=["signature_def"]), timeout=WAIT_SECONDS)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        metadata.metadata["signature_def"].Unpack(signatures)
        answer = stub.Predict(savedmodels.predict_request("hp2", {"x": np.array([3.0], np.float32)}),
                              timeout=WAIT_SECONDS)

    assert list(signatures.signature_def["serving_default"].inputs) == ["x"]
    assert answer.model_spec.name == "hp2"
    np.testing.assert_array_equal(tensor_proto_to_ndarray(answer.outputs["y"]), np.zeros(1, np.float32))


def test_floor_server_stops_on_sigterm_with_exit_code_0(floor_server):
    process, _ = floor_server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=WAIT_SECONDS) == 0
