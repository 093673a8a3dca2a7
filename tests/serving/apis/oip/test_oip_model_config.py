"""Triton's model configuration extension over gRPC, read with tritonclient as Triton's tools
read it: platform, batch dimension, data types and dims, and the batching settings."""

from __future__ import annotations

import grpc
import pytest
from tests.support.oip_harness import RPC_TIMEOUT_SECONDS
from tritonclient.grpc import model_config_pb2 as triton_config_pb2
from tritonclient.utils import InferenceServerException

from serving.apis.oip import datatypes
from serving.apis.oip.model_config import NO_BATCH_LIMIT, config_data_type
from serving.transports.grpc import grpc_predict_v2_pb2 as pb2


def config_of(client, name: str, version: str = ""):
    return client.get_model_config(name, version, client_timeout=RPC_TIMEOUT_SECONDS).config


def tensors(entries) -> dict[str, tuple[str, list[int]]]:
    return {tensor.name: (triton_config_pb2.DataType.Name(tensor.data_type), list(tensor.dims))
            for tensor in entries}


def test_a_batchable_model_served_without_batching_takes_any_batch(triton):
    config = config_of(triton, "multi")

    assert (config.name, config.platform) == ("multi", "tensorflow_savedmodel")
    assert config.max_batch_size == NO_BATCH_LIMIT == 2**31 - 1
    # Dims leave the batch dimension out.
    assert tensors(config.input) == {"features": ("TYPE_FP32", [3]), "ids": ("TYPE_INT64", []),
                                     "names": ("TYPE_STRING", [])}
    assert tensors(config.output) == {"total": ("TYPE_FP32", []), "doubled_ids": ("TYPE_INT64", []),
                                      "greeting": ("TYPE_STRING", [])}
    assert not config.HasField("dynamic_batching")


def test_a_model_without_a_batch_dimension_has_max_batch_size_0_and_whole_shapes(triton):
    config = config_of(triton, "fixed")

    assert config.max_batch_size == 0
    assert tensors(config.input) == {"x": ("TYPE_FP32", [2, 3])}
    assert tensors(config.output) == {"y": ("TYPE_FP32", [2, 3])}


def test_a_batched_model_reports_its_batching_parameters(batching_triton):
    config = config_of(batching_triton, "batched")

    assert config.max_batch_size == 16
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 16]
    assert config.dynamic_batching.max_queue_delay_microseconds == 300
    assert tensors(config.input) == {"x": ("TYPE_FP32", [])}


@pytest.mark.parametrize("version", ["1", "2", "stable"])
def test_config_describes_the_version_or_label_asked_for(triton, version):
    assert config_of(triton, "half", version).name == "half"


@pytest.mark.parametrize("name,version,status,named", [
    ("nosuch", "", "NOT_FOUND", "nosuch"),
    ("half", "9", "NOT_FOUND", "9"),
    ("half", "nolabel", "INVALID_ARGUMENT", "nolabel"),
])
def test_config_of_an_unknown_model_version_or_label_is_an_error_naming_it(triton, name, version,
                                                                            status, named):
    with pytest.raises(InferenceServerException) as raised:
        config_of(triton, name, version)

    assert raised.value.status() == f"StatusCode.{status}"
    assert named in raised.value.message()


def test_every_datatype_has_a_triton_config_data_type():
    names = {name: config_data_type(datatype) for name, datatype in datatypes.DATATYPES.items()}

    assert names["BYTES"] == "TYPE_STRING" and names["FP32"] == "TYPE_FP32"
    for name in names.values():
        assert triton_config_pb2.DataType.Value(name) == pb2.DataType.Value(name)


def test_config_request_that_does_not_decode_is_invalid_argument(server_target):
    channel = grpc.insecure_channel(server_target)
    method = channel.unary_unary("/inference.GRPCInferenceService/ModelConfig")
    with pytest.raises(grpc.RpcError) as raised:
        method(b"\xff\xff", timeout=RPC_TIMEOUT_SECONDS)
    channel.close()

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "inference.ModelConfigRequest" in raised.value.details()
