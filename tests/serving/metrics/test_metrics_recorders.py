"""serving.metrics recorders: what each call adds to the registry, and the arguments refused."""

import grpc
import pytest

from serving import metrics
from serving.metrics.recorders import LATENCY_BUCKETS_MICROS, REGISTRY


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_record_request_counts_by_model_version_api_entrypoint_and_status():
    labels = dict(model_name="recorders_m", version="3", signature_name="", API="predict",
                  entrypoint="GRPC")
    before = _value(":tensorflow:serving:request_count_total", status="OK", **labels)
    metrics.record_request("recorders_m", 3, "predict", "GRPC", grpc.StatusCode.OK, 0.002)
    metrics.record_request("recorders_m", 3, "predict", "GRPC", "OK", 0.004)
    assert _value(":tensorflow:serving:request_count_total", status="OK", **labels) == before + 2


def test_latency_is_recorded_in_microseconds_for_successful_requests_only():
    labels = dict(model_name="recorders_latency", version="", signature_name="", API="classify",
                  entrypoint="REST")
    metrics.record_request("recorders_latency", None, "classify", "REST", "OK", 0.0015)
    metrics.record_request("recorders_latency", None, "classify", "REST",
                           grpc.StatusCode.INVALID_ARGUMENT, 5.0)
    assert _value(":tensorflow:serving:request_latency_count", **labels) == 1
    assert _value(":tensorflow:serving:request_latency_sum", **labels) == pytest.approx(1500)
    assert _value(":tensorflow:serving:request_count_total", status="INVALID_ARGUMENT",
                  **labels) == 1


def test_request_count_and_latency_carry_the_signature_name():
    labels = dict(model_name="recorders_signature", version="1", API="predict", entrypoint="GRPC")
    metrics.record_request("recorders_signature", 1, "predict", "GRPC", "OK", 0.001,
                           signature_name="serving_default")
    metrics.record_request("recorders_signature", 1, "predict", "GRPC", "OK", 0.003,
                           signature_name="sum_only")
    for signature in ("serving_default", "sum_only"):
        assert _value(":tensorflow:serving:request_count_total", status="OK",
                      signature_name=signature, **labels) == 1
        assert _value(":tensorflow:serving:request_latency_count", signature_name=signature,
                      **labels) == 1


def test_request_log_count_is_by_model_and_status_code():
    before = _value(":tensorflow:serving:request_log_count_total", model_name="recorders_log",
                    status_code="RESOURCE_EXHAUSTED")
    metrics.record_request_log("recorders_log", grpc.StatusCode.RESOURCE_EXHAUSTED)
    metrics.record_request_log("recorders_log", "OK")
    assert _value(":tensorflow:serving:request_log_count_total", model_name="recorders_log",
                  status_code="RESOURCE_EXHAUSTED") == before + 1
    assert _value(":tensorflow:serving:request_log_count_total", model_name="recorders_log",
                  status_code="OK") >= 1


def test_latency_buckets_are_tf_serving_exponential_ones():
    assert LATENCY_BUCKETS_MICROS[:3] == (10, 18, pytest.approx(32.4))
    assert len(LATENCY_BUCKETS_MICROS) == 34 and LATENCY_BUCKETS_MICROS[-1] == float("inf")


def test_batch_size_queue_depth_and_queuing_latency_are_per_model_version():
    metrics.observe_batch_size("recorders_batch", 1, 8)
    metrics.observe_batch_size("recorders_batch", 1, 3)
    metrics.set_queue_depth("recorders_batch", 1, 5)
    metrics.set_queue_depth("recorders_batch", 1, 2)
    metrics.observe_queuing_latency("recorders_batch", 1, 0.01)
    labels = dict(model_name="recorders_batch", version="1")
    assert _value(":tensorflow:serving:batching_session:processed_batch_size_sum", **labels) == 11
    assert _value(":tensorflow:serving:batching_session:processed_batch_size_bucket", le="4.0",
                  **labels) == 1
    assert _value(":tfzoo:serving:batching_queue_depth", **labels) == 2
    assert _value(":tensorflow:serving:batching_session:queuing_latency_sum",
                  **labels) == pytest.approx(10_000)


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.record_request("m", 1, "predict", "HTTP", "OK", 0.1),
     "entrypoint must be one of ('GRPC', 'REST'). Received: entrypoint='HTTP'"),
    (lambda: metrics.record_request("m", 1, "", "GRPC", "OK", 0.1), "api must name the call"),
    (lambda: metrics.record_request("m", 1, "predict", "GRPC", "OK", -1),
     "latency_seconds must be >= 0. Received: latency_seconds=-1"),
    (lambda: metrics.observe_batch_size("m", 1, 0), "size must be positive. Received: size=0"),
    (lambda: metrics.set_queue_depth("m", 1, -2), "depth must be >= 0. Received: depth=-2"),
    (lambda: metrics.observe_queuing_latency("m", 1, -0.5),
     "seconds must be >= 0. Received: seconds=-0.5"),
])
def test_invalid_arguments_are_refused_with_the_value(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
