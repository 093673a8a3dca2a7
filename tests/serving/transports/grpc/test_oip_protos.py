"""The committed OIP modules: no drift from the proto, wire-compatible with tritonclient's copy
of Triton's protos (every field we declare has Triton's name, number and type)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from tritonclient.grpc import model_config_pb2 as triton_config_pb2
from tritonclient.grpc import service_pb2 as triton_pb2

from serving.transports.grpc import grpc_predict_v2_pb2 as pb2

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
PACKAGE = os.path.join("serving", "transports", "grpc")
SCRIPT = os.path.join(REPO_ROOT, "scripts", "generate_protos.py")
GENERATED = ("grpc_predict_v2_pb2.py", "grpc_predict_v2_pb2.pyi", "grpc_predict_v2_pb2_grpc.py")


def run_generate_protos(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT)


def copy_layout(root) -> str:
    """Copies protos/ and scripts/ under `root`; returns the copied script's path."""
    shutil.copytree(os.path.join(REPO_ROOT, "protos"), root / "protos")
    shutil.copytree(os.path.join(REPO_ROOT, "scripts"), root / "scripts")
    return str(root / "scripts" / "generate_protos.py")


def test_regenerating_the_protos_gives_exactly_the_committed_modules():
    result = run_generate_protos(SCRIPT, "--check")

    assert result.returncode == 0, result.stderr


def test_generate_writes_the_committed_modules_into_the_package(tmp_path):
    result = run_generate_protos(copy_layout(tmp_path))

    assert result.returncode == 0, result.stderr
    for name in GENERATED:
        with open(os.path.join(REPO_ROOT, PACKAGE, name), "rb") as committed:
            assert (tmp_path / PACKAGE / name).read_bytes() == committed.read()


def test_check_fails_listing_the_generated_files_that_differ(tmp_path):
    # The script checks the tree it sits in: spoil a copy, never the repository.
    script = copy_layout(tmp_path)
    generated = tmp_path / PACKAGE
    generated.mkdir(parents=True)
    for name in ("grpc_predict_v2_pb2.py", "grpc_predict_v2_pb2_grpc.py"):
        shutil.copy(os.path.join(REPO_ROOT, PACKAGE, name), generated / name)
    stale = generated / "grpc_predict_v2_pb2_grpc.py"
    stale.write_text(stale.read_text() + "# edited by hand\n")

    result = run_generate_protos(script, "--check")

    assert result.returncode == 1
    # Other packages' generated modules are missing from this copy too; look at the OIP ones.
    listed = [line.strip() for line in result.stderr.splitlines()[1:]
              if line.strip().startswith("serving/transports/grpc/")]
    assert listed == ["serving/transports/grpc/grpc_predict_v2_pb2.pyi",
                      "serving/transports/grpc/grpc_predict_v2_pb2_grpc.py"]


def test_generated_stub_imports_its_messages_through_the_package():
    with open(os.path.join(REPO_ROOT, PACKAGE, "grpc_predict_v2_pb2_grpc.py")) as file:
        code = file.read()

    assert "from serving.transports.grpc import grpc_predict_v2_pb2 as" in code
    assert "\nimport grpc_predict_v2_pb2" not in code


def _fields(descriptor):
    return {field.name: (field.number, field.type, field.is_repeated,
                         field.message_type.full_name if field.message_type else "",
                         field.enum_type.full_name if field.enum_type else "")
            for field in descriptor.fields}


def _messages(descriptor):
    yield descriptor
    for nested in descriptor.nested_types:
        yield from _messages(nested)


def _triton_messages() -> dict:
    """Every message of Triton's grpc_service.proto and model_config.proto, by full name."""
    return {descriptor.full_name: descriptor
            for module in (triton_pb2, triton_config_pb2)
            for top in module.DESCRIPTOR.message_types_by_name.values()
            for descriptor in _messages(top)}


# Ours alone: one request message for every shared memory RPC, all of which are refused.
SHARED_MEMORY_MESSAGES = {"SharedMemoryRequest", "SharedMemoryResponse"}
SHARED_MEMORY_METHODS = [f"{kind}SharedMemory{action}" for kind in ("System", "Cuda")
                         for action in ("Status", "Register", "Unregister")]


@pytest.mark.parametrize("message_name", sorted(set(pb2.DESCRIPTOR.message_types_by_name)
                                                - SHARED_MEMORY_MESSAGES))
def test_every_field_has_tritons_name_number_and_type(message_name):
    # A message may declare fewer fields than Triton's (only those the server fills), never
    # another number or type for one it declares.
    theirs = _triton_messages()
    for descriptor in _messages(pb2.DESCRIPTOR.message_types_by_name[message_name]):
        assert descriptor.full_name in theirs
        their_fields = _fields(theirs[descriptor.full_name])
        for name, field in _fields(descriptor).items():
            assert their_fields.get(name) == field, f"{descriptor.full_name}.{name}"


def test_the_core_protocol_messages_have_all_of_tritons_fields():
    theirs = _triton_messages()
    for name in ("ModelInferRequest", "ModelInferResponse", "ModelMetadataResponse",
                 "InferParameter", "InferTensorContents", "ServerMetadataResponse"):
        for descriptor in _messages(pb2.DESCRIPTOR.message_types_by_name[name]):
            assert _fields(descriptor) == _fields(theirs[descriptor.full_name])


def test_the_data_type_enum_has_tritons_values():
    ours = {value.name: value.number for value in pb2.DataType.DESCRIPTOR.values}
    theirs = {value.name: value.number for value in triton_config_pb2.DataType.DESCRIPTOR.values}
    assert ours == theirs


def test_the_shared_memory_request_reads_field_1_of_every_triton_shared_memory_request():
    [ours] = pb2.SharedMemoryRequest.DESCRIPTOR.fields
    service = triton_pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    for method in SHARED_MEMORY_METHODS:
        theirs = service.methods_by_name[method].input_type.fields_by_number[1]
        assert (theirs.name, theirs.type) == (ours.name, ours.type) and ours.number == 1


def test_service_methods_have_tritonclients_names_and_types():
    ours = pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    theirs = triton_pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"]

    assert ours.full_name == "inference.GRPCInferenceService"
    assert [method.name for method in ours.methods] == [
        "ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer",
        "ModelConfig", "ModelStatistics", *SHARED_MEMORY_METHODS]
    for method in ours.methods:
        if method.name in SHARED_MEMORY_METHODS:
            continue
        other = theirs.methods_by_name[method.name]
        assert (method.input_type.full_name, method.output_type.full_name) == (
            other.input_type.full_name, other.output_type.full_name)


@pytest.mark.parametrize("first,second", [("serving.transports.grpc.grpc_predict_v2_pb2", "tritonclient.grpc"),
                                          ("tritonclient.grpc", "serving.transports.grpc.grpc_predict_v2_pb2")])
def test_generated_module_imports_alongside_tritonclient_in_either_order(first, second):
    # A fresh interpreter, so the import order really is the one under test.
    result = subprocess.run([sys.executable, "-c", f"import {first}\nimport {second}\n"],
                            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)

    assert result.returncode == 0, result.stderr
