"""What the server measures: Prometheus metrics, the per-version statistics Triton's tools read,
and the endpoint that exports the metrics.

The guard calls `record_request` for every request, request logging `record_request_log`; each
loaded model version reports to its own `VersionRecorder` (its executions, batches and queue),
which feeds the Prometheus series and the version's statistics at once. `observe_batch_size`,
`observe_queuing_latency` and `set_queue_depth` write the same series one call at a time. All are
cheap and thread-safe. `--monitoring_config_file` with `prometheus_config { enable: true }` serves
the metrics on the REST port; `statistics_snapshot` reads a version's statistics.
"""

from serving.metrics.recorders import (observe_batch_size, observe_queuing_latency, record_request,
                                       record_request_log, set_queue_depth)
from serving.metrics.statistics import StatisticsSnapshot, statistics_snapshot
from serving.metrics.version_recorder import VersionRecorder

__all__ = ["StatisticsSnapshot", "VersionRecorder", "observe_batch_size",
           "observe_queuing_latency", "record_request", "record_request_log", "set_queue_depth",
           "statistics_snapshot"]
