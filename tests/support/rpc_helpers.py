"""Small client-side helpers for the TF Serving API tests."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import predict_pb2

from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

# Every call carries a deadline, so a hung server fails one test instead of the whole run.
RPC_TIMEOUT_SECONDS = 30


def call_error(rpc, request) -> grpc.RpcError:
    """Makes a call that must fail and returns its error (code() and details())."""
    with pytest.raises(grpc.RpcError) as caught:
        rpc(request, timeout=RPC_TIMEOUT_SECONDS)
    return caught.value


def predict_request(model: str, inputs: dict, *, signature: str = "", version: int | None = None,
                    label: str | None = None, output_filter=()) -> predict_pb2.PredictRequest:
    """A PredictRequest with numpy inputs encoded in tensor_content."""
    request = predict_pb2.PredictRequest(output_filter=list(output_filter))
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if label is not None:
        request.model_spec.version_label = label
    for alias, value in inputs.items():
        request.inputs[alias].CopyFrom(ndarray_to_tensor_proto(np.asarray(value)))
    return request


def outputs_of(response) -> dict[str, np.ndarray]:
    return {alias: tensor_proto_to_ndarray(tensor) for alias, tensor in response.outputs.items()}
