"""Gives a loaded model version its DynamicBatcher, once it is loaded and warmed up.

The batcher runs the version's backend directly (the Servable has already checked every
request), reports to the version's observer (the server's feeds the Prometheus metrics and the
statistics), and is stopped when the version unloads.
"""

from __future__ import annotations

import logging

from serving.batching.batcher import DynamicBatcher
from serving.batching.merging import is_batchable
from serving.batching.parameters import BatchingOptions

logger = logging.getLogger("serving.batching")


def attach_batcher(servable, options: BatchingOptions):
    """`servable` (a serving.core Servable) with its batchable signatures sent through a new
    DynamicBatcher reporting to `servable.observer`; `servable` itself when no signature has a
    batch dimension to merge along.
    """
    signatures = sorted(name for name, signature_def in servable.signature_defs.items()
                        if is_batchable(signature_def))
    if not signatures:
        logger.info("event=batching_skipped model=%s version=%d reason=no_batch_dimension",
                    servable.name, servable.version)
        return servable
    batcher = DynamicBatcher(servable.backend.run, options,
                             name=f"{servable.name}:{servable.version}",
                             observer=servable.observer)
    logger.info("event=batching_enabled model=%s version=%d signatures=%s max_batch_size=%d "
                "batch_timeout_micros=%d num_batch_threads=%d max_enqueued_batches=%d "
                "allowed_batch_sizes=%s", servable.name, servable.version, ",".join(signatures),
                options.max_batch_size, options.batch_timeout_micros, options.num_batch_threads,
                options.max_enqueued_batches,
                ",".join(map(str, options.allowed_batch_sizes)) or "any")
    return servable.with_batcher(batcher, signatures)
