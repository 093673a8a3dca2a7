"""One model, four protocols: TF Serving gRPC and REST, Open Inference Protocol gRPC and REST
answer exactly what the model computes in-process, through each protocol's usual client."""

import numpy as np
import pytest

FEATURES = np.array([[1.0, 2.0, 3.0], [0.1, 0.25, -7.5]], np.float32)
IDS = np.array([7, -3], np.int64)
NAMES = np.array([b"ann", "zoë".encode()], dtype=object)
OUTPUTS = ("doubled_ids", "greeting", "total")
# Each protocol's call takes the running server and the session's tritonclient.http client (only
# the OIP REST call uses it) and returns the outputs as numpy arrays.


def _tfs_grpc(server, triton_http) -> dict:
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "multi_io"
    for name, array in (("features", FEATURES), ("ids", IDS), ("names", NAMES)):
        request.inputs[name].CopyFrom(ndarray_to_tensor_proto(array))
    with grpc.insecure_channel(server.target) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)
    return {name: tensor_proto_to_ndarray(tensor) for name, tensor in response.outputs.items()}


def _tfs_rest(server, triton_http) -> dict:
    from tests.support.rest_harness import RestClient

    reply = RestClient(server.server.rest.port).post("/v1/models/multi_io:predict", {"inputs": {
        "features": FEATURES.tolist(), "ids": IDS.tolist(),
        "names": [name.decode() for name in NAMES]}})
    outputs = reply.json()["outputs"]
    return {"doubled_ids": np.array(outputs["doubled_ids"], np.int64),
            "greeting": np.array([text.encode() for text in outputs["greeting"]], dtype=object),
            "total": np.array(outputs["total"], np.float32)}


def _oip_inputs(module):
    inputs = []
    for name, array, datatype in (("features", FEATURES, "FP32"), ("ids", IDS, "INT64"),
                                  ("names", NAMES, "BYTES")):
        tensor = module.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    return inputs


def _oip_grpc(server, triton_http) -> dict:
    import tritonclient.grpc

    with tritonclient.grpc.InferenceServerClient(url=server.target) as client:
        result = client.infer("multi_io", _oip_inputs(tritonclient.grpc), client_timeout=30)
    return {name: result.as_numpy(name) for name in OUTPUTS}


def _oip_rest(server, triton_http) -> dict:
    import tritonclient.http

    result = triton_http.infer("multi_io", _oip_inputs(tritonclient.http))
    return {name: result.as_numpy(name) for name in OUTPUTS}


@pytest.mark.parametrize("call", [_tfs_grpc, _tfs_rest, _oip_grpc, _oip_rest],
                         ids=["tfs-grpc", "tfs-rest", "oip-grpc", "oip-rest"])
def test_every_protocol_answers_exactly_what_the_model_computes(rest_server, triton_http, call):
    with rest_server.manager.servable("multi_io") as servable:
        expected = servable.run("serving_default", {"features": FEATURES, "ids": IDS, "names": NAMES})
    answered = call(rest_server, triton_http)
    assert sorted(answered) == sorted(expected)
    for name in OUTPUTS:
        assert answered[name].shape == expected[name].shape, name
        if expected[name].dtype == object:
            assert [bytes(value) for value in answered[name]] == list(expected[name]), name
        else:
            assert answered[name].dtype == expected[name].dtype, name
            np.testing.assert_array_equal(answered[name], expected[name], err_msg=name)
