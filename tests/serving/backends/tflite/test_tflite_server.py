"""A zoo export served from model.tflite by a real server (--prefer_tflite_model, 2 pools of 2
interpreters) against the same export served from its SavedModel: TF Serving gRPC, KServe v2
gRPC and REST answers, metadata and Triton's model configuration, concurrency, errors, and a
corrupt model.tflite."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import shutil
import time

import grpc
import numpy as np
import pytest
from tests.support import tflite_models
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

MODEL = tflite_models.MODEL_NAME
RPC_TIMEOUT_SECONDS = 30
ATOL = 1e-5


def predict(channel, inputs: dict, *, signature: str = "", output_filter=()):
    request = predict_pb2.PredictRequest(output_filter=list(output_filter))
    request.model_spec.name = MODEL
    request.model_spec.signature_name = signature
    for alias, value in inputs.items():
        request.inputs[alias].CopyFrom(ndarray_to_tensor_proto(np.asarray(value)))
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    return stub.Predict(request, timeout=RPC_TIMEOUT_SECONDS)


def outputs_of(response) -> dict[str, np.ndarray]:
    return {alias: tensor_proto_to_ndarray(tensor) for alias, tensor in response.outputs.items()}


def assert_same_predictions(received: dict, expected: dict) -> None:
    np.testing.assert_allclose(received["probabilities"], expected["probabilities"], atol=ATOL)
    np.testing.assert_array_equal(received["classes"], expected["classes"])


def test_tf_serving_predict_matches_the_saved_model_server(tflite_channel, saved_model_channel):
    images = tflite_models.sample_images(5, seed=10)
    from_lite = predict(tflite_channel, {"image": images})
    from_saved = predict(saved_model_channel, {"image": images})
    assert (from_lite.model_spec.name, from_lite.model_spec.version.value) == (MODEL, 1)
    assert_same_predictions(outputs_of(from_lite), outputs_of(from_saved))


def test_kserve_v2_model_infer_matches_the_saved_model_server(tflite_server, saved_model_server):
    import tritonclient.grpc as triton

    images = tflite_models.sample_images(3, seed=11)
    results = []
    for server in (tflite_server, saved_model_server):
        client = triton.InferenceServerClient(url=server.target)
        image = triton.InferInput("image", list(images.shape), "FP32")
        image.set_data_from_numpy(images)
        result = client.infer(MODEL, [image], client_timeout=RPC_TIMEOUT_SECONDS)
        results.append({name: result.as_numpy(name) for name in ("probabilities", "classes")})
        client.close()
    assert_same_predictions(*results)


def test_rest_predict_matches_the_saved_model_server_over_grpc(tflite_server, saved_model_channel):
    images = tflite_models.sample_images(2, seed=12)
    connection = http.client.HTTPConnection("127.0.0.1", tflite_server.server.rest.port,
                                            timeout=RPC_TIMEOUT_SECONDS)
    try:
        connection.request("POST", f"/v1/models/{MODEL}:predict",
                           body=json.dumps({"instances": images.tolist()}))
        reply = connection.getresponse()
        status, document = reply.status, json.loads(reply.read())
    finally:
        connection.close()
    assert status == 200
    received = {alias: np.array([row[alias] for row in document["predictions"]])
                for alias in ("probabilities", "classes")}
    assert_same_predictions(received, outputs_of(predict(saved_model_channel, {"image": images})))


def test_get_model_metadata_describes_the_tflite_signature(tflite_channel):
    from tensorflow.core.framework import types_pb2

    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL
    stub = prediction_service_pb2_grpc.PredictionServiceStub(tflite_channel)
    response = stub.GetModelMetadata(request, timeout=RPC_TIMEOUT_SECONDS)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    assert sorted(signature_map.signature_def) == ["pixels", "serving_default"]
    signature = signature_map.signature_def["serving_default"]
    assert signature.method_name == "tensorflow/serving/predict"
    image = signature.inputs["image"]
    assert (image.dtype, [dim.size for dim in image.tensor_shape.dim]) == (types_pb2.DT_FLOAT,
                                                                         [-1, 8, 8, 1])
    assert set(signature.outputs) == {"probabilities", "classes"}


def test_oip_metadata_and_triton_config_name_the_tensorflow_lite_platform(tflite_server,
                                                                         saved_model_server):
    import tritonclient.grpc as triton

    platforms = {}
    for server in (tflite_server, saved_model_server):
        client = triton.InferenceServerClient(url=server.target)
        metadata = client.get_model_metadata(MODEL, client_timeout=RPC_TIMEOUT_SECONDS)
        config = client.get_model_config(MODEL, client_timeout=RPC_TIMEOUT_SECONDS).config
        client.close()
        assert metadata.platform == config.platform
        platforms[server is tflite_server] = config.platform
        assert [(tensor.name, list(tensor.dims)) for tensor in config.input] == [("image", [8, 8, 1])]
    assert platforms == {True: "tensorflow_lite", False: "tensorflow_savedmodel"}


def test_predicts_beyond_the_pools_run_concurrently_and_all_answer_correctly(
        tflite_channel, saved_model_channel):
    requests = [tflite_models.sample_images(1 + index % 4, seed=100 + index) for index in range(24)]
    expected = [outputs_of(predict(saved_model_channel, {"image": images})) for images in requests]
    with concurrent.futures.ThreadPoolExecutor(8) as clients:  # 8 callers, 2 pools
        answers = list(clients.map(lambda images: outputs_of(predict(tflite_channel, {"image": images})),
                                   requests))
    for received, wanted in zip(answers, expected):
        assert_same_predictions(received, wanted)


BAD_REQUESTS = {
    "wrong_dtype": ({"image": np.zeros((1, 8, 8, 1), np.float64)}, "", ()),
    "unknown_alias": ({"pixels": np.zeros((1, 8, 8, 1), np.float32)}, "", ()),
    "unknown_output": ({"image": np.zeros((1, 8, 8, 1), np.float32)}, "", ("logits",)),
    "unknown_signature": ({"image": np.zeros((1, 8, 8, 1), np.float32)}, "serving_other", ()),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_predicts_get_the_saved_model_servers_status_and_message(tflite_channel,
                                                                     saved_model_channel, case):
    inputs, signature, output_filter = BAD_REQUESTS[case]
    failures = []
    for channel in (tflite_channel, saved_model_channel):
        with pytest.raises(grpc.RpcError) as caught:
            predict(channel, inputs, signature=signature, output_filter=output_filter)
        # A shape the models fail on names the signature's shape; each runtime adds its reason.
        failures.append((caught.value.code(),
                         caught.value.details().split("; the model failed on it: ")[0]))
    assert failures[0] == failures[1]
    assert failures[0][0] in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)


def test_classify_on_a_tflite_version_reports_the_signature_missing(tflite_channel):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = "classify"
    request.input.example_list.examples.add()
    stub = prediction_service_pb2_grpc.PredictionServiceStub(tflite_channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Classify(request, timeout=RPC_TIMEOUT_SECONDS)
    # TF Serving's answer for a Classify signature the model lacks (classifier.cc).
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "No signature was found with the name: classify"


def test_batching_merges_concurrent_requests_onto_the_tflite_pools(start_model_server, zoo_cnn_base,
                                                                   saved_model_channel, tmp_path):
    parameters = tmp_path / "batching.config"
    parameters.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 20000 } "
                          "num_batch_threads { value: 2 }")
    running = start_model_server(f"--model_base_path={zoo_cnn_base}", f"--model_name={MODEL}",
                                 "--file_system_poll_wait_seconds=0", *tflite_models.TFLITE_FLAGS,
                                 "--enable_batching", f"--batching_parameters_file={parameters}")
    requests = [tflite_models.sample_images(1 + index % 3, seed=200 + index) for index in range(12)]
    expected = [outputs_of(predict(saved_model_channel, {"image": images})) for images in requests]
    with grpc.insecure_channel(running.target) as channel:
        with concurrent.futures.ThreadPoolExecutor(6) as clients:
            answers = list(clients.map(lambda images: outputs_of(predict(channel, {"image": images})),
                                       requests))
    for received, wanted in zip(answers, expected):
        assert_same_predictions(received, wanted)


def _version_statuses(channel) -> dict[int, tuple[int, int, str]]:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL
    response = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
        request, timeout=RPC_TIMEOUT_SECONDS)
    return {status.version: (status.state, status.status.error_code, status.status.error_message)
            for status in response.model_version_status}


def test_corrupt_tflite_version_fails_to_load_and_the_working_version_keeps_serving(
        start_model_server, zoo_cnn_version_dir, tmp_path):
    base = tmp_path / MODEL
    shutil.copytree(zoo_cnn_version_dir, base / "1")
    running = start_model_server(f"--model_base_path={base}", f"--model_name={MODEL}",
                                 "--prefer_tflite_model", "--num_tflite_pools=1",
                                 "--file_system_poll_wait_seconds=0.2", "--max_num_load_retries=0")
    staging = shutil.copytree(zoo_cnn_version_dir, tmp_path / "staging")
    (staging / "model.tflite").write_bytes(b"\x00not a flatbuffer\x00" * 64)
    staging.rename(base / "2")  # appears whole, as an export would
    images = tflite_models.sample_images(2, seed=20)
    with grpc.insecure_channel(running.target) as channel:
        deadline = time.monotonic() + 30
        ended = get_model_status_pb2.ModelVersionStatus.END
        while _version_statuses(channel).get(2, (None,))[0] != ended:
            assert time.monotonic() < deadline, f"version 2 never settled: {_version_statuses(channel)}"
            time.sleep(0.1)
        statuses = _version_statuses(channel)
        answer = predict(channel, {"image": images})
    assert statuses[1][:2] == (get_model_status_pb2.ModelVersionStatus.AVAILABLE, 0)
    state, code, message = statuses[2]
    assert (state, code) == (get_model_status_pb2.ModelVersionStatus.END,
                             grpc.StatusCode.DATA_LOSS.value[0])
    assert "model.tflite" in message and "not a TF Lite model" in message
    assert answer.model_spec.version.value == 1
