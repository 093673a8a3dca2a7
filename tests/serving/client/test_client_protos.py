"""The client's compiled TF Serving and TensorFlow messages are the installed packages' own, and
live beside them (and tritonclient's) in one process: same files, messages, fields and numbers as
tensorflow-serving-api 2.21 and tensorflow 2.21 declare, but in the client's own package and
descriptor pool."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from tensorflow_serving.apis import model_service_pb2, prediction_service_pb2  # noqa: F401 - the official files

import tfzoo_client._proto as client_protos

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "tfzoo_client/_proto/"


def client_modules() -> list[str]:
    package = Path(client_protos.__file__).parent
    return sorted(f"{client_protos.__name__}.{'.'.join(path.relative_to(package).with_suffix('').parts)}"
                  for path in package.rglob("*_pb2.py"))


def as_proto(file_descriptor) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto.FromString(file_descriptor.serialized_pb)
    proto.name = proto.name.removeprefix(PREFIX)
    dependencies = [name.removeprefix(PREFIX) for name in proto.dependency]
    del proto.dependency[:]
    proto.dependency.extend(dependencies)
    return proto


def test_the_vendored_protos_are_what_the_installed_packages_declare():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor_tf_protos.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("module", [name for name in client_modules() if not name.endswith("grpc_predict_v2_pb2")])
def test_each_compiled_file_equals_the_official_one_but_for_its_path(module):
    ours = importlib.import_module(module).DESCRIPTOR
    assert ours.pool is client_protos.POOL, "registered in the client's own pool"
    official = descriptor_pool.Default().FindFileByName(ours.name.removeprefix(PREFIX))
    assert as_proto(ours) == as_proto(official)


@pytest.mark.parametrize("first, second", [
    ("tfzoo_client", "tensorflow_serving.apis.prediction_service_pb2"),
    ("tensorflow_serving.apis.prediction_service_pb2", "tfzoo_client"),
    ("tfzoo_client", "tritonclient.grpc"),
    ("tritonclient.grpc", "tfzoo_client"),
])
def test_the_client_imports_beside_tensorflow_serving_api_and_tritonclient_in_either_order(first, second):
    result = subprocess.run([sys.executable, "-c", f"import {first}\nimport {second}\n"],
                            capture_output=True, text=True, timeout=120, env={"TF_CPP_MIN_LOG_LEVEL": "3",
                                                                              "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
