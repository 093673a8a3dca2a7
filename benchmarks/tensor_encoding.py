"""Predict output encoding: TF Serving's typed fields against tensor_content, side by side.

    python benchmarks/tensor_encoding.py            # float32 outputs of 10 to 1,000,000 values
    python benchmarks/tensor_encoding.py --quick    # fewer repeats

TF Serving answers Predict in the typed fields (`float_val`...) unless
--enable_serialization_as_tensor_content=true. For each output size this times, in one process
and on the same array:

- `tensor_content`: the raw bytes (one copy) — the cheapest possible encoding;
- `typed, packed`: the server's typed-field encoding (serving/apis/tfs/packed_fields.py: the
  packed wire form built with numpy, parsed by protobuf's C code in one call);
- `typed, protobuf API`: the same field filled with `float_val.extend(array.tolist())`, what a
  straightforward implementation does;
- `tf.make_tensor_proto`: TensorFlow's own converter, for reference;

and the serialization of the resulting message, since gRPC pays for that too. Ratios are against
tensor_content. One table is printed; the results go to runs/benchmarks/tensor_encoding-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SIZES = (10, 1_000, 150_528, 1_000_000)  # 150,528 = one 224x224x3 image


def _best_seconds(function, repeats: int) -> float:
    """The fastest of `repeats` runs: the least disturbed by whatever else the machine does."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def measure(size: int, repeats: int) -> dict:
    import numpy as np
    import tensorflow as tf
    from tensorflow.core.framework import tensor_pb2

    from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

    array = np.random.default_rng(0).standard_normal(size).astype(np.float32)

    def protobuf_api():
        proto = tensor_pb2.TensorProto(dtype=tf.float32.as_datatype_enum)
        proto.tensor_shape.dim.add(size=size)
        proto.float_val.extend(array.tolist())
        return proto

    encoders = {
        "tensor_content": lambda: ndarray_to_tensor_proto(array, use_tensor_content=True),
        "typed, packed": lambda: ndarray_to_tensor_proto(array, use_tensor_content=False),
        "typed, protobuf API": protobuf_api,
        "tf.make_tensor_proto": lambda: tf.make_tensor_proto(array),
    }
    typed = encoders["typed, packed"]()
    assert typed.SerializeToString() == protobuf_api().SerializeToString()
    row = {"size": size}
    for name, encode in encoders.items():
        proto = encode()
        row[name] = _best_seconds(encode, repeats)
        row[f"{name} + serialize"] = _best_seconds(lambda: encode().SerializeToString(), repeats)
        row[f"{name} bytes"] = proto.ByteSize()
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 20")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    repeats = 3 if args.quick else 20
    rows = [measure(size, repeats) for size in SIZES]
    names = ("tensor_content", "typed, packed", "typed, protobuf API", "tf.make_tensor_proto")
    print(f"{'values':>9} | " + " | ".join(f"{name + ' + serialize':>36}" for name in names))
    for row in rows:
        base = row["tensor_content + serialize"]
        cells = [f"{row[f'{name} + serialize'] * 1e6:10.1f} us ({row[f'{name} + serialize'] / base:6.1f}x)"
                 for name in names]
        print(f"{row['size']:>9} | " + " | ".join(f"{cell:>36}" for cell in cells))
    print("\ntimes are the best of", repeats, "runs; ratios against tensor_content")
    out = REPO_ROOT / "runs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"tensor_encoding-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"repeats": repeats, "rows": rows}, indent=2))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
