"""Triton's perf_analyzer (C++, from the tritonclient wheel) against a real zoo-serve serving the
zoo's CNN: the Triton service kind over gRPC and HTTP and the TF Serving kind, batch sizes up to
32, concurrency up to 128, with and without server-side batching; --shared-memory refused at
once with our message.

Short and bounded: each run is three count windows of `requests_per_window` (a second each unless
the server is slow), and perf_analyzer is killed if it overruns. Count windows, not time windows:
a server in the test's own process can stop answering for longer than a short time window (a
garbage collection of the whole test session's heap, the other test worker's training), and a time
window with no request both sent and answered in it fails the run. The tests skip, saying why,
where the binary cannot start (it needs Debian's libb64-0d and PyPI's nvidia-cuda-runtime-cu12;
no GPU).
"""

from __future__ import annotations

import gc
import time

import pytest
from tests.support import tflite_models
from tests.support.http_harness import http_call
from tests.support.server_harness import free_port
from tests.support.server_process import Stall, serving_process

from zoo.bench.perf_analyzer import (PerfAnalyzerFailed, PerfAnalyzerUnavailable,
                                     find_perf_analyzer)

pytestmark = pytest.mark.slow
WINDOW_SECONDS = 0.3  # the time windows of the runs that are refused before any request
# A refused run must end this fast: perf_analyzer asks before its first request.
REFUSAL_SECONDS = 30.0
BATCHING = ("max_batch_size { value: 32 } batch_timeout_micros { value: 1000 } "
            "num_batch_threads { value: 1 } max_enqueued_batches { value: 1000 }")


def requests_per_window(concurrency: int) -> int:
    """Enough for a count window to hold requests sent inside it, not only those in flight."""
    return 2 * concurrency + 1


@pytest.fixture(scope="module")
def analyzer():
    try:
        return find_perf_analyzer()
    except PerfAnalyzerUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def cnn_base(tmp_path_factory):
    """The zoo's CNN (8x8x1 images, 3 classes; untrained), version 1."""
    base = tmp_path_factory.mktemp("perf_analyzer_models")
    tflite_models.export_zoo_cnn(base, tflite=False)
    return base / tflite_models.MODEL_NAME


def _serve(start_model_server, cnn_base, *flags):
    return start_model_server(f"--model_base_path={cnn_base}", "--model_name=cnn",
                              "--file_system_poll_wait_seconds=0",
                              f"--rest_api_port={free_port()}", *flags)


@pytest.fixture(scope="module")
def server(start_model_server, cnn_base):
    """The CNN as `cnn`, gRPC and REST, without batching."""
    return _serve(start_model_server, cnn_base)


@pytest.fixture(scope="module")
def batching_server(start_model_server, cnn_base, tmp_path_factory):
    """The same model batched: up to 32 rows, 1 ms timeout, one batch thread."""
    parameters = tmp_path_factory.mktemp("perf_analyzer") / "batching.config"
    parameters.write_text(BATCHING + "\n")
    return _serve(start_model_server, cnn_base, "--enable_batching",
                  f"--batching_parameters_file={parameters}")


def address(server, service: str) -> str:
    return (f"127.0.0.1:{server.server.rest.port}" if service.endswith("http")
            else server.target)


def successes(rest_port: int) -> int:
    reply = http_call(rest_port, "GET", "/v2/models/cnn/versions/1/stats")
    return reply.json()["model_stats"][0]["inference_stats"]["success"]["count"]


@pytest.mark.parametrize("service,concurrency,batch_size", [
    ("triton-grpc", 1, 1),
    ("triton-http", 8, 32),
    ("triton-grpc", 128, 4),
    ("tfserving-grpc", 32, 32),
])
def test_perf_analyzer_loads_the_server_and_every_request_succeeds(analyzer, server, service,
                                                                    concurrency, batch_size):
    before = successes(server.server.rest.port)
    result = analyzer.measure(address(server, service), "cnn", service, concurrency,
                              batch_size=batch_size,
                              requests_per_window=requests_per_window(concurrency))

    assert result.requests > 0 and result.infer_per_second > 0
    assert 0 < result.p50_ms <= result.p99_ms
    # The server counted at least what perf_analyzer measured (it also ran between windows).
    assert successes(server.server.rest.port) - before >= result.requests
    if service.startswith("triton"):
        # perf_analyzer read the statistics extension: the server's own compute time.
        assert result.server_compute_ms > 0


def test_perf_analyzer_sees_the_batching_servers_queue(analyzer, batching_server):
    result = analyzer.measure(batching_server.target, "cnn", "triton-grpc", 32,
                              requests_per_window=requests_per_window(32))

    assert result.requests > 0 and result.server_compute_ms > 0
    assert result.server_queue_ms is not None


@pytest.mark.parametrize("service,message", [
    ("triton-grpc", "system shared memory is not supported by this server"),
    ("triton-http", "system shared memory is not supported by this server"),
    # perf_analyzer refuses this one itself: TF Serving has no shared memory.
    ("tfserving-grpc", "does not support CreateSharedMemoryRegion"),
])
def test_shared_memory_is_refused_at_once_with_a_clear_error(analyzer, server, service, message):
    began = time.monotonic()
    with pytest.raises(PerfAnalyzerFailed) as raised:
        analyzer.measure(address(server, service), "cnn", service, 1,
                         window_seconds=WINDOW_SECONDS, extra_arguments=["--shared-memory=system"])

    assert message in str(raised.value)
    assert time.monotonic() - began < REFUSAL_SECONDS  # not perf_analyzer's own timeout


def test_count_windows_outlast_a_server_that_stalls_for_longer_than_a_time_window(analyzer,
                                                                                  cnn_base):
    stall_seconds = 2.0  # more than two time windows of WINDOW_SECONDS: one holds no request
    with serving_process(f"--model_base_path={cnn_base}", "--model_name=cnn") as server:
        def measure_through_a_stall(**windows):
            before = successes(server.rest_port)
            stall = Stall(server, stall_seconds, ready=lambda: successes(server.rest_port) > before)
            stall.start()
            try:
                result = analyzer.measure(server.target, "cnn", "tfserving-grpc", 8, **windows)
                ended = time.monotonic()
            finally:
                stall.abandon()
                stall.join()
            assert stall.stalled_at is not None and stall.stalled_at + stall_seconds < ended, \
                "the stall did not fall inside the measured run"
            return result

        # The time windows last 0.9 s in all: a collection of this test process's heap (up to
        # 1.8 s late in the suite) must not hold the stall back until they are over.
        gc.disable()
        try:
            with pytest.raises(PerfAnalyzerFailed, match="No valid requests"):
                measure_through_a_stall(window_seconds=WINDOW_SECONDS)
            # The same run but for count windows (which ignore the time windows' length).
            result = measure_through_a_stall(window_seconds=WINDOW_SECONDS,
                                             requests_per_window=requests_per_window(8))
        finally:
            gc.enable()

    assert result.requests > 0 and result.p99_ms > 0
