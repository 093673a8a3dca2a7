"""gRPC server reflection over every service the server exposes, the OIP service included.

The OIP messages are registered in a private descriptor pool (see scripts/generate_protos.py: a
copy in protobuf's default pool would clash with tritonclient's or KServe's). Reflection reads one
pool, protobuf's default unless told otherwise, so without help `grpcurl describe
inference.GRPCInferenceService` would fail. `reflection_pool` builds a pool holding the files of
every service the server exposes, wherever each was registered.

Clients ask for the file that defines a symbol (`file_containing_symbol`), and any symbol of a
file may be asked for: `grpcurl describe tensorflow.serving.PredictionService.Predict` asks for a
method. A C++ server answers from its pool's table of every symbol; protobuf's Python (upb) pool
finds messages, fields, enums and services but not methods or packages, so `reflection_pool`
indexes every symbol of its files the way C++ names them and answers from that index.

    enable_reflection(server, service_names)
"""

from __future__ import annotations

from typing import Iterable, Iterator

from google.protobuf import descriptor, descriptor_pool
from grpc_reflection.v1alpha import reflection

from serving.transports.grpc import grpc_predict_v2_pb2 as pb2


def enable_reflection(server, service_names: Iterable[str]) -> None:
    """Serves grpc.reflection so tools like grpcurl can list and describe the services."""
    names = (*service_names, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server, pool=reflection_pool(names))


class ReflectionPool:
    """The descriptor pool reflection reads, finding the file of every symbol its files define.

    grpc_reflection's servicer calls these five lookups; all but `FindFileContainingSymbol` are
    the pool's own.
    """

    def __init__(self, pool: descriptor_pool.DescriptorPool, file_names: Iterable[str]):
        self._pool = pool
        self._files_by_symbol: dict[str, descriptor.FileDescriptor] = {}
        for name in file_names:
            file_descriptor = pool.FindFileByName(name)
            for symbol in file_symbols(file_descriptor):
                self._files_by_symbol.setdefault(symbol, file_descriptor)  # a package: its first file

    def FindFileContainingSymbol(self, symbol: str) -> descriptor.FileDescriptor:  # noqa: N802 - pool API
        """The file defining `symbol`; KeyError, as from the pool, for a symbol of none of them."""
        try:
            return self._files_by_symbol[symbol]
        except KeyError:
            raise KeyError(f"Couldn't find symbol {symbol}") from None

    def FindFileByName(self, name: str) -> descriptor.FileDescriptor:  # noqa: N802 - pool API
        return self._pool.FindFileByName(name)

    def FindMessageTypeByName(self, name: str) -> descriptor.Descriptor:  # noqa: N802 - pool API
        return self._pool.FindMessageTypeByName(name)

    def FindExtensionByNumber(self, message, number: int) -> descriptor.FieldDescriptor:  # noqa: N802
        return self._pool.FindExtensionByNumber(message, number)

    def FindAllExtensions(self, message) -> list[descriptor.FieldDescriptor]:  # noqa: N802 - pool API
        return self._pool.FindAllExtensions(message)


def file_symbols(file_descriptor: descriptor.FileDescriptor) -> Iterator[str]:
    """Every fully qualified symbol a .proto file defines, named as C++'s DescriptorPool names them.

    The package and each of its prefixes; messages (nested ones too), their fields, oneofs and
    extensions; enums and their values (a value's scope is its enum's parent: `tensorflow.DT_FLOAT`,
    not `tensorflow.DataType.DT_FLOAT`); services and their methods; top-level extensions.
    """
    package = file_descriptor.package
    if package:
        parts = package.split(".")
        yield from (".".join(parts[: index + 1]) for index in range(len(parts)))
    for message in file_descriptor.message_types_by_name.values():
        yield from _message_symbols(message)
    for enum in file_descriptor.enum_types_by_name.values():
        yield from _enum_symbols(enum, package)
    for extension in file_descriptor.extensions_by_name.values():
        yield extension.full_name
    for service in file_descriptor.services_by_name.values():
        yield service.full_name
        yield from (method.full_name for method in service.methods)


def _message_symbols(message: descriptor.Descriptor) -> Iterator[str]:
    yield message.full_name
    for member in (*message.fields, *message.oneofs, *message.extensions):
        yield member.full_name
    for nested in message.nested_types:
        yield from _message_symbols(nested)
    for enum in message.enum_types:
        yield from _enum_symbols(enum, message.full_name)


def _enum_symbols(enum: descriptor.EnumDescriptor, scope: str) -> Iterator[str]:
    yield enum.full_name
    yield from (f"{scope}.{value.name}" if scope else value.name for value in enum.values)


def reflection_pool(service_names: Iterable[str]) -> ReflectionPool:
    """A new pool with the proto files (and their imports) that define `service_names`.

    Each service is looked up in the OIP pool first, then in protobuf's default pool.

    Raises:
        ValueError: a service is registered in neither pool (its _pb2 module was not imported).
    """
    pool = descriptor_pool.DescriptorPool()
    added: dict[str, None] = {}  # file names, in the order they were added
    for name in service_names:
        _add_with_imports(pool, _service_file(name), added)
    return ReflectionPool(pool, added)


def _service_file(service_name: str):
    for source in (pb2.DESCRIPTOR.pool, descriptor_pool.Default()):
        try:
            return source.FindServiceByName(service_name).file
        except KeyError:
            continue
    raise ValueError(f"No descriptor for service {service_name!r}: import its _pb2 module first. "
                     f"Received: service_name={service_name!r}")


def _add_with_imports(pool: descriptor_pool.DescriptorPool, file_descriptor, added: dict[str, None]) -> None:
    if file_descriptor.name in added:
        return
    for dependency in file_descriptor.dependencies:
        _add_with_imports(pool, dependency, added)
    pool.AddSerializedFile(file_descriptor.serialized_pb)
    added[file_descriptor.name] = None
