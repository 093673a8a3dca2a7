"""Server-side dynamic batching (--enable_batching), below every protocol front end.

The server's version loader attaches a `DynamicBatcher` to each version it loads when batching is
on (with the server-wide parameters, or the version's own batching_params.pbtxt); it is stopped
at unload, and `Servable.run` sends batchable signatures through it. TF Serving gRPC, KServe v2 and
REST requests therefore all share one queue per model version.

    from serving.batching import BatchingOptions, DynamicBatcher, read_batching_parameters_file

Importing this package does not import TensorFlow.
"""

from serving.batching.attach import attach_batcher
from serving.batching.batcher import BatchObserver, DynamicBatcher
from serving.batching.merging import is_batchable
from serving.batching.parameters import (PER_MODEL_FILE, BatchingOptions, BatchingParametersError,
                                         BatchingPolicy, parse_batching_parameters,
                                         read_batching_parameters_file, threads_to_fill_batches)

__all__ = [
    "PER_MODEL_FILE",
    "BatchObserver",
    "BatchingOptions",
    "BatchingParametersError",
    "BatchingPolicy",
    "DynamicBatcher",
    "attach_batcher",
    "is_batchable",
    "parse_batching_parameters",
    "read_batching_parameters_file",
    "threads_to_fill_batches",
]
