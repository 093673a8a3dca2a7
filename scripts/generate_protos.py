"""Compiles the .proto files under protos/ into the committed Python modules of serving/ and of
the light client (client/tfzoo_client/_proto/).

    python scripts/generate_protos.py           # regenerate serving/*/*_pb2*.py(i) and the client's
    python scripts/generate_protos.py --check   # exit 1, listing the files that differ

Why stage the proto: grpc_tools names imports after the proto's path under its -I root, so a
proto compiled from protos/ would give `import grpc_predict_v2_pb2`, which only works with
serving/transports/grpc/ on sys.path. Copying it to `<tmp>/serving/transports/grpc/` and compiling with `-I <tmp>` makes
the generated code say `from serving.transports.grpc import grpc_predict_v2_pb2` with no text rewriting, and
the descriptor is named "serving/transports/grpc/grpc_predict_v2.proto".

Why a private descriptor pool: tritonclient, KServe and MLServer each register their own copy of
the `inference.*` messages in protobuf's default pool, and a second copy there fails at import
with "duplicate symbol 'inference.ServerLiveRequest'" (kserve/kserve#3099, SeldonIO/MLServer#1034).
The one generated line that adds the file to the default pool is rewritten to use a pool of its
own, so the server can share a process with any OIP client. The wire format is unaffected.

The client's protos are TF Serving's two services, everything they import (TensorFlow's tensor,
example and meta-graph protos among them: scripts/vendor_tf_protos.py writes them) and the Open
Inference Protocol's, compiled together in one protoc run under `tfzoo_client/_proto/`: each
import line is staged as `tfzoo_client/_proto/<path>`, so the modules import one another through
the client's package and never the `tensorflow` or `tensorflow_serving` modules of the same
names. They share one private pool (`tfzoo_client._proto.POOL`), because they import one another.

The output depends on the grpcio-tools version (pinned in pyproject.toml's dev extras), which is
why --check regenerates rather than comparing against a stored hash.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_DIR = os.path.join(REPO_ROOT, "protos")
# Each proto in protos/ and the package its generated modules belong to.
PACKAGES = {
    "grpc_predict_v2.proto": "serving/transports/grpc",
    "tensorflow_serving/config/ssl_config.proto": "serving/security",
    "tensorflow_serving/config/monitoring_config.proto": "serving/metrics",
    "tensorflow_serving/servables/tensorflow/batching_parameters.proto": "serving/batching",
}
# The light client's services; the files they import come along (`client_protos`).
CLIENT_ROOTS = ("tensorflow_serving/apis/prediction_service.proto", "tensorflow_serving/apis/model_service.proto",
                "grpc_predict_v2.proto")
CLIENT_OUTPUT = "client"
CLIENT_PACKAGE = "tfzoo_client/_proto"
IMPORT_LINE = re.compile(r'^import (public )?"([^"]+)";$', re.MULTILINE)
WELL_KNOWN_PREFIX = "google/protobuf/"
CLIENT_POOL_LINES = (
    "# Rewritten by scripts/generate_protos.py: the client's own pool (tfzoo_client/_proto/__init__.py),\n"
    "# so TensorFlow's and tensorflow-serving-api's copies of these messages can share the process.\n"
    "from tfzoo_client._proto import POOL as _client_pool\n"
)
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
DEFAULT_POOL_LINE = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
PRIVATE_POOL_LINES = (
    "# Rewritten by scripts/generate_protos.py: a private pool, so other packages' copies of these\n"
    "# messages (tritonclient's `inference`, TF Serving's configs) can share the process.\n"
    "DESCRIPTOR = _descriptor_pool.DescriptorPool().AddSerializedFile("
)

# A proto importing well-known types (wrappers.proto) needs their files in its private pool too:
# the generated module imports them as `google_dot_protobuf_dot_<name>__pb2`.
WELL_KNOWN_IMPORT = re.compile(r"^from google\.protobuf import \w+_pb2 as (google_dot_protobuf_dot_\w+__pb2)$",
                               re.MULTILINE)


def generated_names(proto_name: str) -> list[str]:
    """The module files grpc_tools writes for one proto, e.g. grpc_predict_v2_pb2.py."""
    stem = proto_name.removesuffix(".proto")
    return [stem + suffix for suffix in GENERATED_SUFFIXES]


def generate(output_root: str) -> list[str]:
    """Compiles every proto in PACKAGES, writing `<output_root>/<package>/<module>` files.

    protoc runs in a child process: grpc_tools' compiler links its own libprotobuf, which can
    crash a process that has also loaded TensorFlow's.

    Returns the written paths relative to `output_root`.
    Raises RuntimeError with protoc's output if compilation fails.
    """
    import grpc_tools

    well_known_protos = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    written = []
    with tempfile.TemporaryDirectory() as staging:
        for proto_name, package in PACKAGES.items():
            file_name = os.path.basename(proto_name)
            staged = os.path.join(staging, package, file_name)
            os.makedirs(os.path.dirname(staged), exist_ok=True)
            shutil.copyfile(os.path.join(PROTO_DIR, proto_name), staged)
            os.makedirs(os.path.join(output_root, package), exist_ok=True)
            relative_proto = f"{package}/{file_name}"
            result = subprocess.run([
                sys.executable, "-m", "grpc_tools.protoc",
                f"-I{staging}",
                f"-I{well_known_protos}",
                f"--python_out={output_root}",
                f"--pyi_out={output_root}",
                f"--grpc_python_out={output_root}",
                relative_proto,
            ], capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"protoc failed with status {result.returncode} on "
                                   f"{relative_proto}:\n{result.stderr}")
            names = generated_names(file_name)
            use_private_pool(os.path.join(output_root, package, names[0]))
            written.extend(f"{package}/{name}" for name in names)
    return written + generate_client(output_root)


def client_protos() -> list[str]:
    """CLIENT_ROOTS and every file of protos/ they import, directly or not."""
    found, pending = [], list(CLIENT_ROOTS)
    while pending:
        name = pending.pop(0)
        if name in found:
            continue
        found.append(name)
        with open(os.path.join(PROTO_DIR, name), encoding="utf-8") as file:
            pending += [imported for _, imported in IMPORT_LINE.findall(file.read())
                        if not imported.startswith(WELL_KNOWN_PREFIX)]
    return sorted(found)


def generate_client(output_root: str) -> list[str]:
    """Compiles `client_protos()` in one protoc run into `<output_root>/client/tfzoo_client/_proto/`.

    Returns the written paths relative to `output_root`; a proto without a service gets no
    `_pb2_grpc.py` (it would hold nothing but imports).
    """
    import grpc_tools

    well_known_protos = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    names = client_protos()
    written = []
    with tempfile.TemporaryDirectory() as staging:
        for name in names:
            with open(os.path.join(PROTO_DIR, name), encoding="utf-8") as file:
                text = file.read()
            staged = os.path.join(staging, CLIENT_PACKAGE, name)
            os.makedirs(os.path.dirname(staged), exist_ok=True)
            with open(staged, "w", encoding="utf-8") as file:
                file.write(IMPORT_LINE.sub(_client_import, text))
        output = os.path.join(output_root, CLIENT_OUTPUT)
        os.makedirs(output, exist_ok=True)
        result = subprocess.run([
            sys.executable, "-m", "grpc_tools.protoc", f"-I{staging}", f"-I{well_known_protos}",
            f"--python_out={output}", f"--pyi_out={output}", f"--grpc_python_out={output}",
            *(f"{CLIENT_PACKAGE}/{name}" for name in names),
        ], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"protoc failed with status {result.returncode} on the client's protos:\n"
                               f"{result.stderr}")
        for name in names:
            with open(os.path.join(PROTO_DIR, name), encoding="utf-8") as file:
                has_service = re.search(r"^service ", file.read(), re.MULTILINE) is not None
            stem = f"{CLIENT_OUTPUT}/{CLIENT_PACKAGE}/{name.removesuffix('.proto')}"
            use_client_pool(os.path.join(output_root, stem + "_pb2.py"))
            if not has_service:
                os.remove(os.path.join(output_root, stem + "_pb2_grpc.py"))
            written += [stem + suffix for suffix in GENERATED_SUFFIXES if has_service or suffix != "_pb2_grpc.py"]
    return written


def _client_import(match: re.Match) -> str:
    public, imported = match.groups()
    if imported.startswith(WELL_KNOWN_PREFIX):
        return match.group(0)
    return f'import {public or ""}"{CLIENT_PACKAGE}/{imported}";'


def use_client_pool(pb2_path: str) -> None:
    """Rewrites a generated _pb2.py to register its file in the client's pool, after the
    well-known files it imports (any.proto, wrappers.proto), which that pool needs too."""
    with open(pb2_path, encoding="utf-8") as file:
        code = file.read()
    if code.count(DEFAULT_POOL_LINE) != 1:
        raise RuntimeError(
            f"{pb2_path}: expected one line starting {DEFAULT_POOL_LINE!r}; "
            "the grpcio-tools output changed, update scripts/generate_protos.py")
    lines = [CLIENT_POOL_LINES.rstrip("\n")]
    lines += [f"_client_pool.AddSerializedFile({module}.DESCRIPTOR.serialized_pb)"
              for module in WELL_KNOWN_IMPORT.findall(code)]
    lines.append("DESCRIPTOR = _client_pool.AddSerializedFile(")
    with open(pb2_path, "w", encoding="utf-8") as file:
        file.write(code.replace(DEFAULT_POOL_LINE, "\n".join(lines)))


def use_private_pool(pb2_path: str) -> None:
    """Rewrites a generated _pb2.py to register its file in a pool of its own (see module doc).

    Raises RuntimeError if protoc's output no longer has exactly one line to rewrite, so a
    grpcio-tools upgrade that changes the generated code is noticed rather than half-patched.
    """
    with open(pb2_path, encoding="utf-8") as file:
        code = file.read()
    count = code.count(DEFAULT_POOL_LINE)
    if count != 1:
        raise RuntimeError(
            f"{pb2_path}: expected one line starting {DEFAULT_POOL_LINE!r}, found {count}; "
            "the grpcio-tools output changed, update scripts/generate_protos.py")
    replacement = PRIVATE_POOL_LINES
    dependencies = WELL_KNOWN_IMPORT.findall(code)
    if dependencies:
        pool_lines = ["_private_pool = _descriptor_pool.DescriptorPool()"]
        pool_lines += [f"_private_pool.AddSerializedFile({module}.DESCRIPTOR.serialized_pb)"
                       for module in dependencies]
        replacement = PRIVATE_POOL_LINES.replace(
            "DESCRIPTOR = _descriptor_pool.DescriptorPool().AddSerializedFile(",
            "\n".join(pool_lines) + "\nDESCRIPTOR = _private_pool.AddSerializedFile(")
    with open(pb2_path, "w", encoding="utf-8") as file:
        file.write(code.replace(DEFAULT_POOL_LINE, replacement))


def differing_files(committed_root: str, fresh_root: str, relative_paths: list[str]) -> list[str]:
    """The paths whose committed copy is missing or differs byte for byte from the fresh one."""
    different = []
    for relative in relative_paths:
        committed = os.path.join(committed_root, relative)
        fresh = os.path.join(fresh_root, relative)
        if not os.path.exists(committed) or not filecmp.cmp(committed, fresh, shallow=False):
            different.append(relative)
    return different


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and fail if the committed "
                             "modules differ")
    args = parser.parse_args(argv)
    if not args.check:
        for relative in generate(REPO_ROOT):
            print(f"wrote {relative}")
        return 0
    with tempfile.TemporaryDirectory() as fresh_root:
        different = differing_files(REPO_ROOT, fresh_root, generate(fresh_root))
    if different:
        print("Generated protobuf modules are out of date; run "
              "`python scripts/generate_protos.py` and commit:", file=sys.stderr)
        for relative in different:
            print(f"  {relative}", file=sys.stderr)
        return 1
    print("Generated protobuf modules are up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
