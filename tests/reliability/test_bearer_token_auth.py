"""`--auth_token_file`: requests must carry `authorization: Bearer TOKEN`; health checks stay
open; the token never reaches the logs. Tested with the project's own client over TLS too."""

from __future__ import annotations

import asyncio
import logging

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from serving import errors, flags
from tfzoo_client import AsyncClient, Client, RetryPolicy, TlsConfig
from serving.transports.grpc import grpc_predict_v2_pb2 as oip_pb2
from serving.transports.grpc import grpc_predict_v2_pb2_grpc as oip_grpc
from serving.security import BearerToken
from serving.server import ModelServer

from tests.support.reliability_certs import Authority, ssl_config_text
from tests.support.http_harness import http_call
from tests.support.server_harness import free_port

TOKEN = "tfzoo-Secret-7f3a9c"
X = np.array([1.0, 2.0], np.float32)


def write_token(directory, token: str = TOKEN):
    path = directory / "token"
    path.write_text(token + "\n")
    return path


@pytest.fixture(scope="module")
def token_server(start_server, reliability_models, tmp_path_factory):
    token_file = write_token(tmp_path_factory.mktemp("token"))
    return start_server(f"--model_base_path={reliability_models / 'half_plus_two'}",
                        "--model_name=half_plus_two", "--file_system_poll_wait_seconds=0",
                        f"--auth_token_file={token_file}")


@pytest.fixture(scope="module")
def channel(token_server):
    with grpc.insecure_channel(token_server.target) as channel:
        yield channel


def status_request() -> get_model_status_pb2.GetModelStatusRequest:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "half_plus_two"
    return request


def test_request_with_the_token_is_answered(token_server):
    with Client(token_server.target, token=TOKEN) as client:
        assert client.predict("half_plus_two", X)["y"].tolist() == [3.0, 5.0]


def test_request_without_a_token_is_unauthenticated(token_server):
    with Client(token_server.target) as client:
        with pytest.raises(errors.Unauthenticated, match="Missing bearer token.*authorization: Bearer"):
            client.predict("half_plus_two", X)


def test_request_with_a_wrong_token_is_unauthenticated(token_server):
    with Client(token_server.target, token=TOKEN + "x") as client:
        with pytest.raises(errors.Unauthenticated, match="Invalid bearer token"):
            client.status("half_plus_two")


def test_token_is_checked_on_every_call_not_once_per_method(channel):
    # Interceptors in front of the token check cache their handler per method; a call with the
    # token must not open the method for the calls without it that follow.
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    for metadata, allowed in [([("authorization", f"Bearer {TOKEN}")], True), ([], False)] * 2:
        if allowed:
            assert stub.GetModelStatus(status_request(), timeout=10, metadata=metadata).model_version_status
            continue
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetModelStatus(status_request(), timeout=10, metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_reflection_checks_the_token_on_every_call_not_once_per_method(channel):
    """Reflection is grpc's own servicer, checked by the interceptor rather than the guard."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    def list_services(metadata):
        return list(stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10,
            metadata=metadata))

    for metadata, allowed in [([("authorization", f"Bearer {TOKEN}")], True), ([], False)] * 2:
        if allowed:
            assert list_services(metadata)[0].list_services_response.service
            continue
        with pytest.raises(grpc.RpcError) as refused:
            list_services(metadata)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("authorization", [TOKEN, f"Basic {TOKEN}", f"bearer{TOKEN}", ""])
def test_token_in_another_form_than_bearer_is_refused(channel, authorization):
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetModelStatus(status_request(), timeout=10, metadata=[("authorization", authorization)])
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_every_service_checks_the_token_including_kserve_v2_and_reflection(channel):
    calls = {
        "ModelInfer": lambda: oip_grpc.GRPCInferenceServiceStub(channel).ModelInfer(
            oip_pb2.ModelInferRequest(model_name="half_plus_two"), timeout=10),
        "ModelMetadata": lambda: oip_grpc.GRPCInferenceServiceStub(channel).ModelMetadata(
            oip_pb2.ModelMetadataRequest(name="half_plus_two"), timeout=10),
        "ServerReflectionInfo": lambda: list(
            reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)),
        "unknown method": lambda: channel.unary_unary(
            "/tensorflow.serving.PredictionService/Nope")(b"", timeout=10),
    }
    for name, call in calls.items():
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, name


def test_health_checks_answer_without_a_token(channel):
    health = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    assert health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status == serving
    watched = next(health.Watch(health_pb2.HealthCheckRequest(service="half_plus_two"), timeout=10))
    assert watched.status == serving
    oip = oip_grpc.GRPCInferenceServiceStub(channel)
    assert oip.ServerLive(oip_pb2.ServerLiveRequest(), timeout=10).live
    assert oip.ServerReady(oip_pb2.ServerReadyRequest(), timeout=10).ready


def test_token_never_appears_in_the_logs(start_server, reliability_models, tmp_path, caplog):
    token_file = write_token(tmp_path)
    with caplog.at_level(logging.DEBUG):
        server = start_server(f"--model_base_path={reliability_models / 'half_plus_two'}",
                              "--model_name=half_plus_two", "--file_system_poll_wait_seconds=0",
                              f"--auth_token_file={token_file}", f"--rest_api_port={free_port()}")
        with Client(server.target, token=TOKEN) as client:
            client.predict("half_plus_two", X)
        for near_miss in (TOKEN[:-1], TOKEN + "0"):
            with Client(server.target, token=near_miss) as client:
                with pytest.raises(errors.Unauthenticated):
                    client.predict("half_plus_two", X)
        for token in (TOKEN, TOKEN[:-1]):
            http_call(server.server.rest.port, "POST", "/v1/models/half_plus_two:predict",
                      {"instances": [1.0]}, headers={"Authorization": f"Bearer {token}"})
        server.server.stop(grace=0)
    assert "event=request_unauthenticated" in caplog.text and "token=wrong" in caplog.text
    assert "Invalid bearer token" in caplog.text  # the REST refusal was logged too
    assert TOKEN[:-1] not in caplog.text
    assert TOKEN[:-1] not in repr(BearerToken(TOKEN))


@pytest.mark.parametrize("content, problem", [("", "the file is empty"),
                                              ("two words", "one word of printable characters")])
def test_unusable_token_file_stops_the_server(tmp_path, reliability_models, content, problem):
    path = write_token(tmp_path, content)
    server = ModelServer(flags.parse_flags([
        f"--model_base_path={reliability_models / 'half_plus_two'}", "--port=0",
        f"--grpc_socket_path={tmp_path / 'unused.sock'}", f"--auth_token_file={path}"]))
    with pytest.raises(errors.InvalidArgument) as refused:
        server.start()
    assert problem in refused.value.message and str(path) in refused.value.message
    assert "two" not in refused.value.message.replace(str(path), "")


def test_missing_token_file_stops_the_server(tmp_path, reliability_models):
    server = ModelServer(flags.parse_flags([
        f"--model_base_path={reliability_models / 'half_plus_two'}", "--port=0",
        f"--grpc_socket_path={tmp_path / 'unused.sock'}", f"--auth_token_file={tmp_path / 'nope'}"]))
    with pytest.raises(errors.InvalidArgument, match="--auth_token_file .*nope: cannot read"):
        server.start()


def test_client_with_tls_and_token_against_a_server_with_both(start_server, reliability_models, tmp_path):
    authority = Authority.create("tfzoo CA")
    (tmp_path / "ssl.config").write_text(ssl_config_text(authority.issue("server", server=True)))
    server = start_server(f"--model_base_path={reliability_models / 'half_plus_two'}",
                          "--model_name=half_plus_two", "--file_system_poll_wait_seconds=0",
                          f"--ssl_config_file={tmp_path / 'ssl.config'}",
                          f"--auth_token_file={write_token(tmp_path)}")
    tls = TlsConfig(root_certificates=authority.pair.cert)
    with Client(server.target, tls=tls, token=TOKEN) as client:
        assert client.predict("half_plus_two", X)["y"].tolist() == [3.0, 5.0]
    with Client(server.target, tls=tls, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(errors.Unauthenticated):
            client.status("half_plus_two")

    async def predict():
        async with AsyncClient(server.target, tls=tls, token=TOKEN) as client:
            return await client.predict("half_plus_two", X)

    assert asyncio.run(predict())["y"].tolist() == [3.0, 5.0]
