"""gRPC server reflection over every service the server exposes, the OIP service included.

The OIP messages are registered in a private descriptor pool (see scripts/generate_protos.py: a
copy in protobuf's default pool would clash with tritonclient's or KServe's). Reflection reads one
pool, protobuf's default unless told otherwise, so without help `grpcurl describe
inference.GRPCInferenceService` would fail. `reflection_pool` builds a pool holding the files of
every service the server exposes, wherever each was registered.

    enable_reflection(server, service_names)
"""

from __future__ import annotations

from typing import Iterable

from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection

from serving.transports.grpc import grpc_predict_v2_pb2 as pb2


def enable_reflection(server, service_names: Iterable[str]) -> None:
    """Serves grpc.reflection so tools like grpcurl can list and describe the services."""
    names = (*service_names, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server, pool=reflection_pool(names))


def reflection_pool(service_names: Iterable[str]) -> descriptor_pool.DescriptorPool:
    """A new pool with the proto files (and their imports) that define `service_names`.

    Each service is looked up in the OIP pool first, then in protobuf's default pool.

    Raises:
        ValueError: a service is registered in neither pool (its _pb2 module was not imported).
    """
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    for name in service_names:
        _add_with_imports(pool, _service_file(name), added)
    return pool


def _service_file(service_name: str):
    for source in (pb2.DESCRIPTOR.pool, descriptor_pool.Default()):
        try:
            return source.FindServiceByName(service_name).file
        except KeyError:
            continue
    raise ValueError(f"No descriptor for service {service_name!r}: import its _pb2 module first. "
                     f"Received: service_name={service_name!r}")


def _add_with_imports(pool: descriptor_pool.DescriptorPool, file_descriptor, added: set[str]) -> None:
    if file_descriptor.name in added:
        return
    for dependency in file_descriptor.dependencies:
        _add_with_imports(pool, dependency, added)
    pool.AddSerializedFile(file_descriptor.serialized_pb)
    added.add(file_descriptor.name)
