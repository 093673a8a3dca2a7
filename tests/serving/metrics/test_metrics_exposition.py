"""The Prometheus page's text: TF Serving's names (counters without _total, no _created series),
parseable by prometheus_client's own parser."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

from serving.metrics.exposition import render


def _registry():
    registry = CollectorRegistry()
    counter = Counter(":tensorflow:serving:request_count", "The total number of requests.",
                      ("model_name", "status"), registry=registry)
    counter.labels('odd "name"\\x', "OK").inc(3)
    histogram = Histogram(":tensorflow:serving:request_latency", "Latency\nin us.", ("model_name",),
                          buckets=(10, 100), registry=registry)
    histogram.labels("m").observe(50)
    Gauge(":tfzoo:serving:batching_queue_depth", "Depth.", registry=registry).set(4)
    return registry


def test_counters_keep_their_tf_serving_name_and_have_no_created_series():
    text = render([_registry()]).decode()
    assert "# TYPE :tensorflow:serving:request_count counter" in text
    assert '\n:tensorflow:serving:request_count{model_name="odd \\"name\\"\\\\x",status="OK"} 3.0' in text
    assert "_total" not in text and "_created" not in text


def test_histograms_have_cumulative_buckets_sum_and_count():
    text = render([_registry()]).decode()
    assert ':tensorflow:serving:request_latency_bucket{model_name="m",le="10.0"} 0.0' in text
    assert ':tensorflow:serving:request_latency_bucket{model_name="m",le="100.0"} 1.0' in text
    assert ':tensorflow:serving:request_latency_bucket{model_name="m",le="+Inf"} 1.0' in text
    assert ':tensorflow:serving:request_latency_count{model_name="m"} 1.0' in text
    assert "# HELP :tensorflow:serving:request_latency Latency\\nin us." in text


def test_page_parses_with_prometheus_client():
    families = {family.name: family for family in
                text_string_to_metric_families(render([_registry()]).decode())}
    assert families[":tensorflow:serving:request_count"].type == "counter"
    assert families[":tensorflow:serving:request_count"].samples[0].labels == {
        "model_name": 'odd "name"\\x', "status": "OK"}
    assert families[":tfzoo:serving:batching_queue_depth"].samples[0].value == 4
    assert families[":tensorflow:serving:request_latency"].type == "histogram"
