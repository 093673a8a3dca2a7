"""Writes the TensorFlow and TF Serving .proto files the light client needs into protos/.

    python scripts/vendor_tf_protos.py           # (re)write protos/tensorflow*/... and protos/xla/...
    python scripts/vendor_tf_protos.py --check   # exit 1 if a committed file differs

tfzoo-client speaks TF Serving's gRPC API without TensorFlow, so it compiles TF Serving's
`prediction_service.proto` and `model_service.proto` and every file they import (TensorFlow's
tensor, example and meta-graph protos among them) itself. Neither pip package ships those .proto
files, so they are written here from the descriptors of the installed `tensorflow-serving-api`
and `tensorflow` modules, the versions pyproject.toml pins: the files then declare exactly the
messages, fields, numbers and options those packages were built from (tests/client compiles them
and compares every descriptor), which is what makes the client's bytes on the wire theirs. The
descriptors carry no comments, so the files have none beyond the header naming their origin.

Run it with the dev environment's Python after upgrading tensorflow-serving-api, then
`python scripts/generate_protos.py`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_DIR = os.path.join(REPO_ROOT, "protos")
# The services the client calls; the files they import come along.
ROOT_MODULES = ("tensorflow_serving.apis.prediction_service_pb2", "tensorflow_serving.apis.model_service_pb2")
# Protobuf's own files come with the protobuf package (and grpcio-tools), not from here.
WELL_KNOWN_PREFIX = "google/protobuf/"

HEADER = """\
// {path}
// {project}'s interface definition, as the installed {package} {version} declares it.
// Copyright The {authors} Authors. Licensed under the Apache License, Version 2.0
// (http://www.apache.org/licenses/LICENSE-2.0), as tfzoo is.
// Written from the package's descriptor by scripts/vendor_tf_protos.py, which is why it has no
// comments; compiled into client/tfzoo_client/_proto/ by scripts/generate_protos.py.

"""

_SCALAR_TYPES = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
    8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64",
    17: "sint32", 18: "sint64",
}
_TYPE_MESSAGE, _TYPE_ENUM = 11, 14
_LABEL_REQUIRED, _LABEL_REPEATED = 2, 3
# The option fields of FieldDescriptorProto.options written in brackets after a field.
_FIELD_OPTIONS = ("packed", "deprecated", "lazy", "jstype")


def closure() -> dict:
    """Every FileDescriptor the root modules import, by file name, protobuf's own excepted."""
    files: dict = {}

    def visit(file_descriptor) -> None:
        if file_descriptor.name in files or file_descriptor.name.startswith(WELL_KNOWN_PREFIX):
            return
        files[file_descriptor.name] = file_descriptor
        for dependency in file_descriptor.dependencies:
            visit(dependency)

    for module in ROOT_MODULES:
        visit(importlib.import_module(module).DESCRIPTOR)
    return files


def proto_text(file_descriptor) -> str:
    """The .proto source of one file, from its FileDescriptorProto."""
    from google.protobuf import descriptor_pb2

    # The serialized form, not CopyToProto: only it leaves out the json_names nobody declared.
    proto = descriptor_pb2.FileDescriptorProto.FromString(file_descriptor.serialized_pb)
    syntax = proto.syntax or "proto2"
    if syntax not in ("proto2", "proto3"):
        raise ValueError(f"{proto.name}: syntax {syntax!r} is not written by this script")
    lines = [f'syntax = "{syntax}";', "", f"package {proto.package};", ""]
    public = set(proto.public_dependency)
    lines += [f'import {"public " if index in public else ""}"{name}";' for index, name in enumerate(proto.dependency)]
    if proto.dependency:
        lines.append("")
    lines += [f"option {name} = {_value(value)};" for name, value in _options(proto.options)]
    for message in proto.message_type:
        lines += ["", *_message(message, "", proto2=syntax == "proto2")]
    for enum in proto.enum_type:
        lines += ["", *_enum(enum, "")]
    for service in proto.service:
        lines += ["", f"service {service.name} {{"]
        for method in service.method:
            stream_in = "stream " if method.client_streaming else ""
            stream_out = "stream " if method.server_streaming else ""
            lines.append(f"  rpc {method.name}({stream_in}{method.input_type}) returns "
                         f"({stream_out}{method.output_type});")
        lines.append("}")
    return "\n".join(lines) + "\n"


def _message(message, indent: str, *, proto2: bool) -> list[str]:
    inner = indent + "  "
    lines = [f"{indent}message {message.name} {{"]
    lines += [f"{inner}option {name} = {_value(value)};" for name, value in _options(message.options)]
    map_entries = {nested.name: nested for nested in message.nested_type if nested.options.map_entry}
    # A map field's entry type takes its place among the nested messages where the field is
    # declared, so each nested message is written before the first map field that follows it.
    pending = [(index, nested) for index, nested in enumerate(message.nested_type) if not nested.options.map_entry]

    def nested_before(position: int) -> list[str]:
        written = []
        while pending and pending[0][0] < position:
            written += _message(pending.pop(0)[1], inner, proto2=proto2)
        return written

    for enum in message.enum_type:
        lines += _enum(enum, inner)
    written_oneofs = set()
    for field in message.field:
        entry = map_entries.get(field.type_name.rsplit(".", 1)[-1]) if field.type == _TYPE_MESSAGE else None
        if entry is not None:
            lines += nested_before(list(message.nested_type).index(entry))
        real_oneof = field.HasField("oneof_index") and not field.proto3_optional
        if not real_oneof:
            lines.append(inner + _field(field, map_entries, proto2=proto2))
            continue
        if field.oneof_index in written_oneofs:
            continue
        written_oneofs.add(field.oneof_index)
        lines.append(f"{inner}oneof {message.oneof_decl[field.oneof_index].name} {{")
        members = [f for f in message.field if f.HasField("oneof_index") and f.oneof_index == field.oneof_index]
        lines += [inner + "  " + _field(member, map_entries, proto2=False) for member in members]
        lines.append(f"{inner}}}")
    lines += nested_before(len(message.nested_type))
    lines += _reserved(message.reserved_range, message.reserved_name, inner, end_inclusive=False)
    lines.append(f"{indent}}}")
    return lines


def _field(field, map_entries: dict, *, proto2: bool) -> str:
    """One field's declaration; in proto2 every field outside a oneof states its label."""
    type_name = _type(field)
    entry = map_entries.get(field.type_name.rsplit(".", 1)[-1]) if field.type == _TYPE_MESSAGE else None
    if entry is not None and field.label == _LABEL_REPEATED:
        key, value = entry.field
        declaration = f"map<{_type(key)}, {_type(value)}> {field.name} = {field.number}"
    else:
        if field.label == _LABEL_REPEATED:
            label = "repeated "
        elif proto2:
            label = "required " if field.label == _LABEL_REQUIRED else "optional "
        else:
            label = "optional " if field.proto3_optional else ""
        declaration = f"{label}{type_name} {field.name} = {field.number}"
    options = [(name, value) for name, value in _options(field.options)]
    if field.HasField("default_value"):
        default = field.default_value
        options.insert(0, ("default", default if field.type == 9 else _EnumName(default)))
    if field.HasField("json_name"):
        options.append(("json_name", field.json_name))
    unknown = [name for name, _ in options if name not in (*_FIELD_OPTIONS, "json_name", "default")]
    if unknown:
        raise ValueError(f"field {field.name}: options this script does not write: {unknown}")
    if options:
        declaration += " [" + ", ".join(f"{name} = {_value(value)}" for name, value in options) + "]"
    return declaration + ";"


def _type(field) -> str:
    if field.type in (_TYPE_MESSAGE, _TYPE_ENUM):
        return field.type_name  # fully qualified (".tensorflow.TensorProto"), valid .proto syntax
    return _SCALAR_TYPES[field.type]


def _enum(enum, indent: str) -> list[str]:
    inner = indent + "  "
    lines = [f"{indent}enum {enum.name} {{"]
    lines += [f"{inner}option {name} = {_value(value)};" for name, value in _options(enum.options)]
    for value in enum.value:
        options = _options(value.options)
        suffix = " [" + ", ".join(f"{name} = {_value(v)}" for name, v in options) + "]" if options else ""
        lines.append(f"{inner}{value.name} = {value.number}{suffix};")
    lines += _reserved(enum.reserved_range, enum.reserved_name, inner, end_inclusive=True)
    lines.append(f"{indent}}}")
    return lines


def _reserved(ranges, names, indent: str, *, end_inclusive: bool) -> list[str]:
    """`reserved` lines; a message's range end is exclusive in the descriptor, an enum's inclusive."""
    lines = []
    for reserved in ranges:
        end = reserved.end if end_inclusive else reserved.end - 1
        lines.append(f"{indent}reserved {reserved.start}{'' if end == reserved.start else f' to {end}'};")
    if names:
        lines.append(f"{indent}reserved {', '.join(repr(name).replace(chr(39), chr(34)) for name in names)};")
    return lines


def _options(options) -> list[tuple[str, object]]:
    """The options set, enum values by name (jstype = JS_STRING)."""
    return [(field.name, _EnumName(field.enum_type.values_by_number[value].name) if field.enum_type else value)
            for field, value in options.ListFields()]


class _EnumName(str):
    """An enum value's name: written bare, not quoted."""


def _value(value) -> str:
    if isinstance(value, _EnumName):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def header(name: str) -> str:
    if name.startswith("tensorflow_serving/"):
        project, package, authors = "TensorFlow Serving", "tensorflow-serving-api", "TensorFlow Serving"
    else:
        project, package, authors = "TensorFlow", "tensorflow", "TensorFlow"
    from importlib.metadata import version

    return HEADER.format(path=name, project=project, package=package, version=version(package), authors=authors)


def written_files() -> dict[str, str]:
    """protos/-relative path -> file text, for every file of the closure."""
    return {name: header(name) + proto_text(descriptor) for name, descriptor in sorted(closure().items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs")
    args = parser.parse_args(argv)
    different = []
    for name, text in written_files().items():
        path = os.path.join(PROTO_DIR, name)
        if args.check:
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                different.append(name)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        print(f"wrote protos/{name}")
    if different:
        print("Vendored .proto files differ from the installed packages; run "
              "`python scripts/vendor_tf_protos.py` and commit:", *different, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
