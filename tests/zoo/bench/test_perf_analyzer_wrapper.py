"""zoo.bench.perf_analyzer without a server: finding the binary (and saying in one line why it
cannot start), and reading perf_analyzer's reports in both service kinds' layouts."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from zoo.bench import perf_analyzer
from zoo.bench.perf_analyzer import (PerfAnalyzerFailed, PerfAnalyzerUnavailable, error_line,
                                     find_perf_analyzer, parse_report)

# The -f report of each service kind, as perf_analyzer 2.41 writes it (latencies in us).
TRITON_REPORT = (
    "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,"
    "Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,"
    "p90 latency,p95 latency,p99 latency\n"
    "2,618.201,3,843,120,10,2377,30,1,1677,2833,3022,3523\n")
TFSERVING_REPORT = ("Concurrency,Inferences/Second,Client Send,Client Recv,p50 latency,"
                    "p90 latency,p95 latency,p99 latency\n"
                    "2,925.053,5,0,2973,8514,11787,16520\n")
PRINTED = "Request concurrency: 2\n  Client: \n    Request count: 502\n    Throughput: 925 infer/sec\n"


def test_a_triton_report_gives_client_latencies_and_the_servers_own_times():
    result = parse_report(TRITON_REPORT, PRINTED, "triton-grpc", 2, 1)

    assert (result.infer_per_second, result.requests_per_second, result.requests) == (
        618.201, 618.201, 502)
    assert (result.p50_ms, result.p99_ms) == (1.677, 3.523)
    assert result.server_queue_ms == 0.12 and result.server_compute_ms == pytest.approx(2.417)


def test_a_tfserving_report_has_no_server_times_and_counts_requests_per_batch():
    result = parse_report(TFSERVING_REPORT, PRINTED, "tfserving-grpc", 2, 4)

    assert result.requests_per_second == pytest.approx(925.053 / 4)
    assert result.server_queue_ms is None and result.server_compute_ms is None


def test_a_report_without_a_request_count_is_a_failure():
    with pytest.raises(PerfAnalyzerFailed, match="Request count"):
        parse_report(TFSERVING_REPORT, "", "tfserving-grpc", 2, 1)


def test_the_error_line_is_perf_analyzers_first_complaint_else_its_last_line():
    output = ("*** Measurement Settings ***\n  Batch size: 1\n\n"
              "error: failed to get model config: Method not found!\nUnable to unregister\n")
    assert error_line(output) == "error: failed to get model config: Method not found!"
    assert error_line("*** Measurement Settings ***\nRequest concurrency: 128\n") == \
        "Request concurrency: 128"  # no complaint: where it stopped


def _only_in(folder, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(folder / "python"))
    monkeypatch.setenv("PATH", str(folder))


def test_a_missing_binary_is_unavailable_saying_where_it_was_looked_for(tmp_path, monkeypatch):
    _only_in(tmp_path, monkeypatch)

    with pytest.raises(PerfAnalyzerUnavailable) as raised:
        find_perf_analyzer()

    assert "no perf_analyzer binary next to" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_binary_that_cannot_start_is_unavailable_with_its_loaders_reason(tmp_path,
                                                                           monkeypatch):
    # What the dynamic loader prints when a library is missing, from a real executable.
    script = tmp_path / "perf_analyzer"
    script.write_text("#!/bin/sh\necho 'perf_analyzer: error while loading shared libraries: "
                      "libb64.so.0d: cannot open shared object file' >&2\nexit 127\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    _only_in(tmp_path, monkeypatch)

    with pytest.raises(PerfAnalyzerUnavailable) as raised:
        find_perf_analyzer()

    message = str(raised.value)
    assert "libb64.so.0d: cannot open shared object file" in message
    assert "apt-get install libb64-0d" in message and "\n" not in message


def test_the_cuda_runtime_folder_goes_first_on_the_library_path(tmp_path, monkeypatch):
    script = tmp_path / "perf_analyzer"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    _only_in(tmp_path, monkeypatch)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/usr/local/lib")
    cuda_runtime = perf_analyzer.cuda_runtime_library_folder()  # None without the package

    analyzer = find_perf_analyzer()

    expected = [folder for folder in (cuda_runtime, "/usr/local/lib") if folder]
    assert analyzer.environment["LD_LIBRARY_PATH"] == os.pathsep.join(expected)


def test_a_count_window_no_larger_than_the_concurrency_is_refused_before_running():
    analyzer = perf_analyzer.PerfAnalyzer("/nonexistent/perf_analyzer", {})

    with pytest.raises(ValueError, match="requests_per_window must exceed concurrency.*"
                                         "requests_per_window=8, concurrency=8"):
        analyzer.measure("127.0.0.1:1", "cnn", "tfserving-grpc", 8, requests_per_window=8)
