"""Gives a loaded model version its DynamicBatcher: the loader's one call into batching.

The loader asks `version_batching_options` before it loads (so an unusable per-model
batching_params.pbtxt fails the load at once), then `attach_batcher` once the version is loaded
and warmed up. The batcher runs `Servable.call_signature`, reports to the Prometheus metrics, and
is stopped by `Servable.unload`.
"""

from __future__ import annotations

import logging

import grpc

from serving.batching.batcher import DynamicBatcher
from serving.batching.merging import is_batchable
from serving.batching.parameters import BatchingOptions, BatchingParametersError, BatchingPolicy

logger = logging.getLogger("serving.batching")


def version_batching_options(version_path: str, policy: BatchingPolicy) -> BatchingOptions | None:
    """The parameters the version at `version_path` is batched with; None: not batched.

    Raises:
        ServableLoadError: INVALID_ARGUMENT, the version's batching_params.pbtxt is unusable.
    """
    from serving.core.servable import ServableLoadError

    try:
        return policy.options_for_version(version_path)
    except BatchingParametersError as error:
        raise ServableLoadError(str(error), grpc.StatusCode.INVALID_ARGUMENT) from None


def attach_batcher(servable, options: BatchingOptions) -> DynamicBatcher | None:
    """Routes the servable's batchable signatures through a new DynamicBatcher.

    Returns the batcher, or None when no signature has a batch dimension to merge along.
    """
    from serving.batching.observers import MetricsObserver

    signatures = sorted(name for name, signature_def in servable.signature_defs.items()
                        if is_batchable(signature_def))
    if not signatures:
        logger.info("event=batching_skipped model=%s version=%d reason=no_batch_dimension",
                    servable.name, servable.version)
        return None
    batcher = DynamicBatcher(servable.call_signature, options,
                             name=f"{servable.name}:{servable.version}",
                             observer=MetricsObserver(servable.name, servable.version))
    servable.set_batcher(batcher, signatures)
    logger.info("event=batching_enabled model=%s version=%d signatures=%s max_batch_size=%d "
                "batch_timeout_micros=%d num_batch_threads=%d max_enqueued_batches=%d "
                "allowed_batch_sizes=%s", servable.name, servable.version, ",".join(signatures),
                options.max_batch_size, options.batch_timeout_micros, options.num_batch_threads,
                options.max_enqueued_batches,
                ",".join(map(str, options.allowed_batch_sizes)) or "any")
    return batcher
