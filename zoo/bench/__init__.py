"""`zoo bench`: a load generator for inference servers, in the spirit of Triton's perf_analyzer.

    from zoo.bench import BenchOptions, run_benchmark

    result = run_benchmark(BenchOptions(server="localhost:8500", model="mnist", concurrency=(1, 8)))

Wire protocols are plugins (zoo/bench/protocols.py): `tfs-grpc` (TF Serving's Predict) and
`oip-grpc` (the Open Inference Protocol's ModelInfer) are built in; a new one subclasses
LoadProtocol and registers with `register_protocol`. Importing this package is cheap (no
TensorFlow): worker processes import it.
"""

from zoo.bench import oip_grpc, tfs_grpc  # noqa: F401 - registers the built-in protocols
from zoo.bench.options import BenchOptions
from zoo.bench.protocols import PROTOCOLS, LoadProtocol, RequestFailed, Sender, register_protocol
from zoo.bench.results import BenchResult, LevelResult
from zoo.bench.runner import run_benchmark

__all__ = [
    "PROTOCOLS",
    "BenchOptions",
    "BenchResult",
    "LevelResult",
    "LoadProtocol",
    "RequestFailed",
    "Sender",
    "register_protocol",
    "run_benchmark",
]
