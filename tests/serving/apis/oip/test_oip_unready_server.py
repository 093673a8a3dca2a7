"""Health, metadata, configuration, statistics and inference when a configured model failed to
load or lacks serving_default."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from tests.support import savedmodels
from tests.support.oip_harness import RPC_TIMEOUT_SECONDS, model_config, start_server
from tests.support.oip_testdata import export_without_serving_default

from serving.core import ModelManager
from serving.version_loader import VersionLoader
from serving.transports.grpc import grpc_predict_v2_pb2 as pb2
from serving.transports.grpc import grpc_predict_v2_pb2_grpc as pb2_grpc


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    base = tmp_path_factory.mktemp("oip_unready")
    savedmodels.export_broken_version(base / "broken", 1)
    export_without_serving_default(base / "nodefault", 1)
    manager = ModelManager(model_config({"broken": base / "broken", "nodefault": base / "nodefault"}),
                           load=VersionLoader().load, file_system_poll_wait_seconds=0,
                           max_num_load_retries=0)
    manager.start()
    server, target = start_server(manager)
    channel = grpc.insecure_channel(target)
    yield pb2_grpc.GRPCInferenceServiceStub(channel)
    channel.close()
    server.stop(grace=None)
    manager.stop()


def rpc_error(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=RPC_TIMEOUT_SECONDS)
    return raised.value


def double_request(**fields) -> pb2.ModelInferRequest:
    request = pb2.ModelInferRequest(**fields)
    request.inputs.add(name="x", datatype="FP32", shape=[2]).contents.fp32_contents.extend([1, 2])
    return request


def test_server_is_live_but_not_ready_while_a_configured_model_failed_to_load(stub):
    assert stub.ServerLive(pb2.ServerLiveRequest(), timeout=RPC_TIMEOUT_SECONDS).live
    assert not stub.ServerReady(pb2.ServerReadyRequest(), timeout=RPC_TIMEOUT_SECONDS).ready


@pytest.mark.parametrize("version", ["", "1"])
def test_model_whose_load_failed_is_known_but_not_ready(stub, version):
    request = pb2.ModelReadyRequest(name="broken", version=version)

    assert not stub.ModelReady(request, timeout=RPC_TIMEOUT_SECONDS).ready


def test_model_that_loaded_is_ready_next_to_one_that_failed(stub):
    request = pb2.ModelReadyRequest(name="nodefault")

    assert stub.ModelReady(request, timeout=RPC_TIMEOUT_SECONDS).ready


def test_infer_on_a_model_whose_load_failed_is_not_found(stub):
    error = rpc_error(stub.ModelInfer, double_request(model_name="broken"))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "Servable not found for request: Latest(broken)"


def test_metadata_of_a_model_without_serving_default_names_its_signatures(stub):
    error = rpc_error(stub.ModelMetadata, pb2.ModelMetadataRequest(name="nodefault"))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "['double']" in error.details() and '"signature_name" parameter' in error.details()


def test_config_of_a_model_without_serving_default_names_its_signatures(stub):
    error = rpc_error(stub.ModelConfig, pb2.ModelConfigRequest(name="nodefault"))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "ModelConfig describes serving_default" in error.details()
    assert "['double']" in error.details()


def test_statistics_skip_a_model_whose_load_failed(stub):
    response = stub.ModelStatistics(pb2.ModelStatisticsRequest(), timeout=RPC_TIMEOUT_SECONDS)

    assert [(stats.name, stats.version) for stats in response.model_stats] == [("nodefault", "1")]


def test_model_without_serving_default_answers_through_the_signature_name_parameter(stub):
    request = double_request(
        model_name="nodefault",
        parameters={"signature_name": pb2.InferParameter(string_param="double")})

    response = stub.ModelInfer(request, timeout=RPC_TIMEOUT_SECONDS)

    np.testing.assert_array_equal(response.outputs[0].contents.fp32_contents, [2.0, 4.0])


def test_empty_model_name_is_invalid_argument(stub):
    error = rpc_error(stub.ModelInfer, double_request())

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "model_name is required" in error.details()
