"""Compiles the .proto files under protos/ into the committed Python modules of serving/.

    python scripts/generate_protos.py           # regenerate serving/*/*_pb2*.py(i)
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
    return written


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
