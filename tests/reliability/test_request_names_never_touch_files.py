"""A model name, version or label in a request can never reach the file system.

Next to the served model's base path sits a real SavedModel that is not in the config
(`secret/`). Requests name it every way a path can be spelled (relative, absolute, with NUL bytes,
through the served model's directory) on every gRPC and REST API that takes a model name,
version or label. Each must be
refused as an unknown model, version or label, and Python's audit hooks must show that nothing
under `secret/` was listed or opened while the server, polling its base path all along, read
only the configured root.

Audit hooks see the Python side (directory listings, `open`); TensorFlow's own file reads happen
only inside loads, which the poller starts from listings of the configured base paths alone.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.parse

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.transports.grpc import grpc_predict_v2_pb2 as oip_pb2
from serving.transports.grpc import grpc_predict_v2_pb2_grpc as oip_grpc
from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

from tests.support.http_harness import http_call
from tests.support.server_harness import free_port


class FileAccessLog:
    """Paths the process lists or opens while `recording`; an audit hook cannot be removed, so
    it stays installed and idle outside this module's tests."""

    EVENTS = frozenset({"open", "os.listdir", "os.scandir", "os.chdir", "shutil.copyfile"})

    def __init__(self):
        self.recording = False
        self.paths: list[str] = []
        self._lock = threading.Lock()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args) -> None:
        if not self.recording or event not in self.EVENTS or not args:
            return
        path = args[0]
        if isinstance(path, (str, bytes, os.PathLike)):
            with self._lock:
                self.paths.append(os.fsdecode(path))

    def under(self, root) -> list[str]:
        root = os.path.realpath(root)
        with self._lock:
            return [path for path in self.paths
                    if os.path.realpath(path) == root or os.path.realpath(path).startswith(root + os.sep)]


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    from tests.support import savedmodels

    root = tmp_path_factory.mktemp("paths")
    savedmodels.export_half_plus_two(root / "served" / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "secret", 1, slope=7.0)  # a model base path
    savedmodels.export_half_plus_two(root / "served" / "secret" / "1", 1)  # and a version-like dir
    return root


@pytest.fixture(scope="module")
def file_access():
    return FileAccessLog()


@pytest.fixture(scope="module")
def server(start_server, layout):
    # Fast polling: the base path is listed many times while hostile requests come in.
    return start_server(f"--model_base_path={layout / 'served' / 'half_plus_two'}",
                        "--model_name=half_plus_two", "--file_system_poll_wait_seconds=0.05",
                        f"--rest_api_port={free_port()}")


def hostile_names(layout) -> list[str]:
    secret = str(layout / "secret")
    return ["../secret", "../../secret", secret, secret + "/1", "half_plus_two/../../secret",
            "half_plus_two/../secret", "half_plus_two\x00", "half_plus_two\x00/../../secret",
            "..", ".", "/", "half_plus_two/1", "secret", "~/secret", "file://" + secret]


def tfs_calls(channel, name: str, label: str = ""):
    prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    predict = predict_pb2.PredictRequest()
    predict.model_spec.name = name
    if label:
        predict.model_spec.version_label = label
    predict.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([1.0], np.float32)))
    metadata = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def", "labels"])
    metadata.model_spec.CopyFrom(predict.model_spec)
    status = get_model_status_pb2.GetModelStatusRequest()
    status.model_spec.name = name
    return [lambda: prediction.Predict(predict, timeout=10),
            lambda: prediction.GetModelMetadata(metadata, timeout=10),
            lambda: models.GetModelStatus(status, timeout=10)]


def oip_calls(channel, name: str, version: str = ""):
    stub = oip_grpc.GRPCInferenceServiceStub(channel)
    infer = oip_pb2.ModelInferRequest(model_name=name, model_version=version)
    infer.inputs.add(name="x", datatype="FP32", shape=[1]).contents.fp32_contents.append(1.0)
    return [lambda: stub.ModelInfer(infer, timeout=10),
            lambda: stub.ModelMetadata(oip_pb2.ModelMetadataRequest(name=name, version=version), timeout=10),
            lambda: stub.ModelReady(oip_pb2.ModelReadyRequest(name=name, version=version), timeout=10)]


def rest_calls(port: int, name: str, label: str = "", version: str = ""):
    """Every REST endpoint that takes a model name, version or label, with the hostile one."""
    quoted = urllib.parse.quote(name, safe="")
    if label or version:
        label_path = f"/v1/models/half_plus_two/labels/{urllib.parse.quote(label or version, safe='')}"
        version_path = f"/v2/models/half_plus_two/versions/{urllib.parse.quote(label or version, safe='')}"
        return [lambda: http_call(port, "POST", label_path + ":predict", {"instances": [1.0]}),
                lambda: http_call(port, "GET", label_path + "/metadata"),
                lambda: http_call(port, "GET", version_path + "/ready"),
                lambda: http_call(port, "POST", version_path + "/infer", REST_INFER)]
    return [lambda: http_call(port, "GET", f"/v1/models/{quoted}"),
            lambda: http_call(port, "GET", f"/v1/models/{quoted}/metadata"),
            lambda: http_call(port, "POST", f"/v1/models/{quoted}:predict", {"instances": [1.0]}),
            lambda: http_call(port, "GET", f"/v2/models/{quoted}"),
            lambda: http_call(port, "GET", f"/v2/models/{quoted}/ready"),
            lambda: http_call(port, "POST", f"/v2/models/{quoted}/infer", REST_INFER)]


REST_INFER = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1.0]}]}
REFUSED = {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT}


def assert_refused(call) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    assert refused.value.code() in REFUSED, refused.value.details()


def assert_rest_refused(call) -> None:
    reply = call()
    assert reply.status in (400, 404), reply.body[:200]


def test_hostile_model_names_labels_and_versions_are_refused_without_touching_files(
        server, layout, file_access):
    with grpc.insecure_channel(server.target) as channel:
        file_access.recording = True
        try:
            for name in hostile_names(layout):
                for call in tfs_calls(channel, name) + oip_calls(channel, name):
                    assert_refused(call)
            for hostile in hostile_names(layout):
                for call in tfs_calls(channel, "half_plus_two", label=hostile)[:2]:
                    assert_refused(call)
                for call in oip_calls(channel, "half_plus_two", version=hostile):
                    assert_refused(call)
            rest_port = server.server.rest.port
            for hostile in hostile_names(layout):
                for call in rest_calls(rest_port, hostile) + rest_calls(rest_port, "", label=hostile):
                    assert_rest_refused(call)
            # The poller lists its root every 0.05 s: see it do so at least once meanwhile.
            deadline = time.monotonic() + 10
            while not file_access.under(layout / "served" / "half_plus_two") and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            file_access.recording = False
    assert file_access.under(layout / "secret") == []
    assert file_access.under(layout / "served" / "secret") == []
    served = file_access.under(layout / "served" / "half_plus_two")
    assert served, "the poller should have listed the configured base path meanwhile"
    assert sorted(set(file_access.under(layout)) - set(served)) == []


def test_the_served_model_still_answers_after_the_hostile_requests(server):
    with grpc.insecure_channel(server.target) as channel:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "half_plus_two"
        request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([2.0], np.float32)))
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    assert response.model_spec.version.value == 1
