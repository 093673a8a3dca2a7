"""The server's request and batching metrics, and the calls that record them.

Every front end (gRPC interceptor, REST dispatcher) and the batcher records through the functions
here; the Prometheus endpoint renders the same process-wide registry, as TF Serving's
monitoring::CollectionRegistry does. Names and units follow TF Serving where it has the metric
(`/tensorflow/serving/request_count` is exported as `:tensorflow:serving:request_count`, latencies
in microseconds with its exponential buckets); metrics it lacks are under `:tfzoo:serving:`.

TF Serving labels request_count by model_name and status only; here it also carries version,
signature_name, API and entrypoint (GRPC or REST), so `sum by (model_name, status)` gives TF
Serving's series. request_latency adds version and signature_name to TF Serving's model_name, API
and entrypoint. `signature_name` is what tensorflow/serving#1959 asks for (latencies of the
signatures of one model differ widely): the signature that ran for Predict, Classify, Regress and
OIP inference, once the version is known to have it (so a client cannot mint series with made-up
names), and "" for the other APIs and for MultiInference, which runs several.

`:tensorflow:serving:request_log_count{model_name, status_code}` counts the requests sampled for
request logging by what became of them, as TF Serving's request_logger.cc does: OK once written,
RESOURCE_EXHAUSTED when dropped because the log queue was full, the error's code when the file
could not be written.
"""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ENTRYPOINTS = ("GRPC", "REST")


def _exponential_buckets(scale: float, growth: float, count: int) -> tuple[float, ...]:
    """TF's monitoring::Buckets::Exponential: `count` limits scale * growth**i, then +Inf."""
    return tuple(scale * growth**index for index in range(count)) + (float("inf"),)


# Scale 10 us, growth 1.8, 33 buckets (~20 minutes): TF Serving's request_latency buckets.
LATENCY_BUCKETS_MICROS = _exponential_buckets(10, 1.8, 33)
# Scale 100 us, growth 1.2, 52 buckets (~1 second): TF Serving's batching queuing_latency buckets.
QUEUING_BUCKETS_MICROS = _exponential_buckets(100, 1.2, 52)
# 1, 2, 4 ... 8192: TF Serving's batch-size buckets.
BATCH_SIZE_BUCKETS = _exponential_buckets(1, 2, 14)

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_COUNT = Counter(
    ":tensorflow:serving:request_count", "The total number of requests.",
    ("model_name", "version", "signature_name", "API", "entrypoint", "status"), registry=REGISTRY)
REQUEST_LATENCY = Histogram(
    ":tensorflow:serving:request_latency",
    "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
    ("model_name", "version", "signature_name", "API", "entrypoint"),
    buckets=LATENCY_BUCKETS_MICROS, registry=REGISTRY)
REQUEST_LOG_COUNT = Counter(
    ":tensorflow:serving:request_log_count",
    "The total number of requests logged from the model server sliced down by model_name and "
    "status code.", ("model_name", "status_code"), registry=REGISTRY)
BATCH_SIZE = Histogram(
    ":tensorflow:serving:batching_session:processed_batch_size",
    "Tracks the batch size distribution on processing.",
    ("model_name", "version"), buckets=BATCH_SIZE_BUCKETS, registry=REGISTRY)
QUEUING_LATENCY = Histogram(
    ":tensorflow:serving:batching_session:queuing_latency",
    "Distribution of wall time spent (in microseconds) in queuing",
    ("model_name", "version"), buckets=QUEUING_BUCKETS_MICROS, registry=REGISTRY)
QUEUE_DEPTH = Gauge(
    ":tfzoo:serving:batching_queue_depth",
    "Requests waiting in a model version's batching queue.",
    ("model_name", "version"), registry=REGISTRY)


def record_request(model: str, version: int | str | None, api: str, entrypoint: str,
                   status: grpc.StatusCode | str, latency_seconds: float,
                   signature_name: str = "") -> None:
    """Counts one finished request; its latency too when it succeeded (as TF Serving does).

    Args:
        model: the model name the request asked for ("" when it names none, e.g. server health).
        version: the version that answered, else the one requested, else None.
        api: what was called, snake case: "predict", "classify", "regress", "multi_inference",
            "get_model_metadata", "get_model_status", "oip_infer", ...
        entrypoint: "GRPC" or "REST".
        status: the gRPC status code (or its name, "OK", "INVALID_ARGUMENT"...).
        latency_seconds: wall time from receiving the request to having the response.
        signature_name: the signature that ran ("" when the API runs none, or several).
    """
    if latency_seconds < 0:
        raise ValueError(f"latency_seconds must be >= 0. Received: latency_seconds={latency_seconds}")
    key = (model, version, signature_name, api, entrypoint, status)
    series = _request_series.get(key)
    if series is None:  # first request with these labels: check them, look the series up once
        series = _request_series.setdefault(key, _bind_request_series(*key))
    count, latency = series
    count.inc()
    if latency is not None:
        latency.observe(latency_seconds * 1e6)


# The label values of a finished request -> (its count series, its latency series or None).
# Looking a labelled series up costs a few microseconds per request (prometheus_client builds
# and checks the label tuple under a lock); a server has few distinct combinations.
_request_series: dict[tuple, tuple] = {}


def _bind_request_series(model: str, version: int | str | None, signature_name: str, api: str,
                         entrypoint: str, status: grpc.StatusCode | str) -> tuple:
    if entrypoint not in ENTRYPOINTS:
        raise ValueError(f"entrypoint must be one of {ENTRYPOINTS}. Received: entrypoint={entrypoint!r}")
    if not api:
        raise ValueError(f"api must name the call. Received: api={api!r}")
    status_name = status.name if isinstance(status, grpc.StatusCode) else str(status)
    version_text = _version_label(version)
    count = REQUEST_COUNT.labels(model, version_text, signature_name, api, entrypoint, status_name)
    latency = (REQUEST_LATENCY.labels(model, version_text, signature_name, api, entrypoint)
               if status_name == "OK" else None)
    return count, latency


def record_request_log(model: str, status: grpc.StatusCode | str) -> None:
    """Counts one request sampled for request logging, by what became of its record."""
    status_name = status.name if isinstance(status, grpc.StatusCode) else str(status)
    REQUEST_LOG_COUNT.labels(model, status_name).inc()


def observe_batch_size(model: str, version: int | None, size: int) -> None:
    """Records the size of one batch the batcher ran for a model version."""
    if size < 1:
        raise ValueError(f"size must be positive. Received: size={size}")
    BATCH_SIZE.labels(model, _version_label(version)).observe(size)


def observe_queuing_latency(model: str, version: int | None, seconds: float) -> None:
    """Records how long one request waited in a batching queue before its batch ran."""
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0. Received: seconds={seconds}")
    QUEUING_LATENCY.labels(model, _version_label(version)).observe(seconds * 1e6)


def set_queue_depth(model: str, version: int | None, depth: int) -> None:
    """Sets how many requests wait in a model version's batching queue right now."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0. Received: depth={depth}")
    QUEUE_DEPTH.labels(model, _version_label(version)).set(depth)


def _version_label(version: int | str | None) -> str:
    return "" if version is None else str(version)
