"""Prometheus metrics: what the server records, and the endpoint that exports it.

The guard and the batcher call `record_request`, `observe_batch_size`, `observe_queuing_latency`
and `set_queue_depth`, request logging `record_request_log`; they are cheap and thread-safe.
`--monitoring_config_file` with `prometheus_config { enable: true }` serves the metrics on the REST
port.
"""

from serving.metrics.recorders import (observe_batch_size, observe_queuing_latency, record_request,
                                       record_request_log, set_queue_depth)

__all__ = ["observe_batch_size", "observe_queuing_latency", "record_request", "record_request_log",
           "set_queue_depth"]
