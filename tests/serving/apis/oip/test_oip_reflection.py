"""Server reflection describes the OIP service next to services from protobuf's default pool."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from tensorflow_serving.apis import prediction_service_pb2

from serving.transports.grpc import grpc_predict_v2_pb2 as pb2
from serving.transports.grpc.reflection import reflection_pool
from serving.transports.grpc.oip_service import SERVICE_NAME

PREDICTION_SERVICE = prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name
SERVICES = (SERVICE_NAME, PREDICTION_SERVICE, reflection.SERVICE_NAME)


@pytest.fixture(scope="module")
def reflected_pool():
    """A pool filled by a reflection client from a real server on loopback."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    reflection.enable_server_reflection(SERVICES, server, pool=reflection_pool(SERVICES))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    database = ProtoReflectionDescriptorDatabase(channel)
    yield database, descriptor_pool.DescriptorPool(database)
    channel.close()
    server.stop(grace=None)


def test_reflection_lists_the_oip_service_with_the_others(reflected_pool):
    database, _ = reflected_pool

    assert set(database.get_services()) == set(SERVICES)


def test_reflection_describes_the_oip_service_and_its_messages(reflected_pool):
    _, pool = reflected_pool

    service = pool.FindServiceByName(SERVICE_NAME)
    request = pool.FindMessageTypeByName("inference.ModelInferRequest")

    assert [method.name for method in service.methods] == [
        method.name for method in pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"].methods]
    assert {field.name: field.number for field in request.fields} == {
        field.name: field.number for field in pb2.ModelInferRequest.DESCRIPTOR.fields}


def test_reflection_still_describes_services_from_the_default_pool(reflected_pool):
    _, pool = reflected_pool

    assert pool.FindServiceByName(PREDICTION_SERVICE).methods_by_name["Predict"]


def test_unregistered_service_name_is_a_value_error():
    with pytest.raises(ValueError, match=r"No descriptor for service 'no.such.Service'"):
        reflection_pool(["no.such.Service"])
