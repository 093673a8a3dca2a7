"""benchmarks/serving.py's report: the issue's targets judged from a run's rows, its table (which
load generator measured each row), and its choice of load generators.

The benchmark itself takes minutes and is not run here (benchmarks/README.md says how to run it).
"""

from __future__ import annotations

import sys

import pytest
from tests.support.benchmark_scripts import imported_script


@pytest.fixture(scope="module")
def bench():
    with imported_script("serving") as module:
        yield module


def row(batching: bool, concurrency: int, qps: float, p50: float, ratio: float, errors: int = 0,
        overhead: float = 150.0, rss: float = 650.0):
    return {"model": "cnn", "batching": batching, "concurrency": concurrency, "qps": qps,
            "p50_ms": p50, "p99_ms": p50 * 3, "errors": errors,
            "mean_batch": 8.0 if batching else 1.0,
            "server_cpu_us_per_request": 600.0, "overhead_us_per_request": overhead,
            "in_process_batch": 8, "in_process_examples_per_second": qps / ratio, "ratio": ratio,
            "floor_qps": 3000.0, "of_floor": qps / 3000.0, "peak_rss_mb": rss}


def test_targets_met_are_reported_as_met(bench):
    rows = [row(False, 1, 500, 1.5, 0.5), row(True, 1, 490, 1.6, 0.5),
            row(False, 32, 1000, 30, 0.5), row(True, 32, 2100, 15, 0.8)]

    lines = bench.check_targets(rows)

    assert all(line.endswith(": met") for line in lines), lines
    assert len(lines) == 6


def test_each_missed_target_says_not_met_and_by_how_much(bench):
    rows = [row(False, 1, 500, 1.5, 0.5), row(True, 1, 300, 2.8, 0.5),
            row(False, 32, 1000, 30, 0.5),
            row(True, 32, 1500, 20, 0.6, errors=3, overhead=420.0, rss=760.0)]

    lines = bench.check_targets(rows)

    assert [line.rsplit(": ", 1)[1] for line in lines] == ["NOT met"] * 6
    assert "1.50x" in lines[0] and "60%" in lines[1] and "420 us" in lines[2]
    assert "+87%" in lines[3] and "760 MB" in lines[4] and "errors in every run: 3" in lines[5]


def test_batching_gain_line_says_the_most_a_server_costing_nothing_could_gain(bench):
    off, on = row(False, 32, 1000, 30, 0.5), row(True, 32, 1400, 15, 0.8)
    for server in (off, on):
        server.update(floor_cpu_us_per_request=200.0, batch_one_model_cpu_us=300.0,
                      full_batch=32, full_batch_model_cpu_us_per_example=100.0)

    [gain_line] = [line for line in bench.check_targets([off, on]) if "batching gives" in line]

    # (200 + 300) / (200 + 100): the floor's CPU plus the model's, at batch 1 and at batch 32.
    assert ("batching gives 1.40x the QPS without batching; at this floor (200 us a request) a "
            "server costing nothing itself gains at most 1.67x with batches of 32") in gain_line
    assert gain_line.endswith(": NOT met")


@pytest.mark.parametrize("text, size", [
    ("max_batch_size { value: 32 } batch_timeout_micros { value: 0 }", 32),
    ("batch_timeout_micros { value: 0 }\nmax_batch_size {\n  value: 128\n}", 128),
    ("num_batch_threads { value: 1 }", 1000),  # TF Serving's default
])
def test_max_batch_size_is_read_from_the_batching_parameters(bench, text, size):
    assert bench.max_batch_size(text) == size


def test_a_level_is_the_median_of_its_rounds_and_keeps_a_failures_message(bench):
    runs = [{**row(True, 32, qps, 15, 0.8), "generator": "zoo-bench", "mean_batch": batch,
             "errors_by_code": {}} for qps, batch in ((2000, 6.0), (2400, 9.0), (2200, 7.0))]
    runs.append({"model": "cnn", "generator": "perf_analyzer tfserving-grpc", "batching": True,
                 "concurrency": 32, "qps": None, "p50_ms": None, "p99_ms": None, "errors": 1,
                 "error": "perf_analyzer exited with status 99", "mean_batch": 1.0,
                 "server_cpu_us_per_request": None, "peak_rss_mb": 640.0})

    measured, failed = bench.median_rows(runs)

    assert (measured["qps"], measured["mean_batch"], measured["rounds"]) == (2200, 7.0, 3)
    assert failed["qps"] is None and failed["error"] == "perf_analyzer exited with status 99"


def test_table_has_one_line_per_row_under_its_header(bench):
    table = bench.format_table([row(False, 1, 500, 1.5, 0.5), row(True, 32, 2100, 15, 0.8)])

    header, rule, *lines = table.splitlines()
    assert header.split() == ["model", "generator", "batching", "c", "QPS", "p50", "ms", "p99",
                              "ms", "errors", "CPU", "us/req", "overhead", "us", "batch",
                              "in-proc", "ex/s", "ratio", "floor", "QPS", "of", "floor", "RSS",
                              "MB"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert lines[1].split() == ["cnn", "zoo-bench", "on", "32", "2100", "15.00", "45.00", "0",
                                "600", "150", "8.0", "2625", "0.80", "3000", "0.70", "650"]


def test_image_inputs_table_gives_the_decode_and_resize_cost_per_image_over_pixels(bench):
    rows = [{"batch": 1, "signature": "pixels", "payload_bytes": 602112, "in_process_ms": 20.0, "served_ms": 30.0},
            {"batch": 1, "signature": "image_bytes", "payload_bytes": 143360, "in_process_ms": 26.0,
             "served_ms": 33.0},
            {"batch": 32, "signature": "pixels", "payload_bytes": 32 * 602112, "in_process_ms": 640.0,
             "served_ms": 960.0},
            {"batch": 32, "signature": "image_bytes", "payload_bytes": 32 * 143360, "in_process_ms": 800.0,
             "served_ms": 896.0}]

    header, rule, *lines = bench.format_image_table(rows).splitlines()

    assert header.split()[:4] == ["batch", "input", "request", "KB"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert lines[0].split() == ["1", "pixels", "588", "20.0", "20.00", "30.0", "30.00", "-"]
    assert lines[1].split() == ["1", "image_bytes", "140", "26.0", "26.00", "33.0", "33.00", "+6.00,", "+3.00"]
    assert lines[3].split()[-2:] == ["+5.00,", "-2.00"]


def perf_analyzer_row(batching: bool, concurrency: int, qps: float | None, **fields) -> dict:
    """A row measured by perf_analyzer in the Triton service kind: no floor to compare with."""
    return {**row(batching, concurrency, qps or 0.0, 1.0, 0.5), "qps": qps,
            "generator": "perf_analyzer triton-grpc", "floor_qps": None, "of_floor": None,
            "overhead_us_per_request": None, **fields}


def test_table_says_which_generator_measured_each_row_and_dashes_what_it_lacks(bench):
    failed = perf_analyzer_row(False, 8, None, p50_ms=None, p99_ms=None, errors=1, ratio=None,
                               server_cpu_us_per_request=None)
    table = bench.format_table([row(False, 8, 500, 1.5, 0.5),
                                perf_analyzer_row(False, 8, 520.0), failed])

    _, _, zoo_bench, measured, failure = table.splitlines()
    assert zoo_bench.split()[1] == "zoo-bench"
    assert measured.split()[:5] == ["cnn", "perf_analyzer", "triton-grpc", "off", "8"]
    assert measured.split()[5] == "520" and measured.split()[-3:-1] == ["-", "-"]
    assert failure.split()[5:8] == ["-", "-", "-"] and failure.split()[8] == "1"


def test_targets_are_judged_on_the_first_generators_rows_and_count_every_error(bench):
    rows = [row(False, 1, 500, 1.5, 0.5), row(True, 1, 490, 1.6, 0.5),
            row(False, 32, 1000, 30, 0.5), row(True, 32, 2100, 15, 0.8),
            perf_analyzer_row(True, 32, 100.0), perf_analyzer_row(False, 32, None, errors=1)]

    lines = bench.check_targets(rows)

    assert lines[0].startswith("cnn c=32: batching gives 2.10x") and lines[0].endswith(": met")
    assert lines[-1] == "errors in every run: 1 (target 0): NOT met"


def test_an_unknown_load_generator_is_refused_in_one_line(bench, capsys):
    with pytest.raises(SystemExit) as raised:
        bench.parse_arguments(["--load-generator", "locust"])

    assert raised.value.code == 2
    assert "--load-generator: unknown or missing name(s) locust; choose from zoo-bench, " \
        "perf_analyzer" in capsys.readouterr().err


def test_without_a_working_perf_analyzer_the_benchmark_says_why_and_uses_zoo_bench(
        bench, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no perf_analyzer anywhere
    options = bench.parse_arguments(["--load-generator", "perf_analyzer"])

    assert bench.perf_analyzer_if_asked(options) is None

    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("perf_analyzer cannot be used: no perf_analyzer binary next to")
    assert line.endswith("; measuring with zoo bench instead")
    assert options.load_generator == ["perf_analyzer", "zoo-bench"]


def test_request_logging_table_gives_each_rate_against_the_unlogged_server(bench):
    rows = [{"model": "cnn", "sampling_rate": rate, "concurrency": 8, "qps": qps, "p50_ms": 2.0,
             "p99_ms": 6.0, "server_cpu_us_per_request": cpu, "errors": 0, "qps_vs_off": qps / 1000,
             "cpu_vs_off": cpu / 500, "logging_request_thread_us": log and log / 4,
             "logging_total_us": log, "logging_share_of_server_cpu": log and log / 500}
            for rate, qps, cpu, log in ((None, 1000, 500, None), (0.0, 990, 505, 0.5),
                                        (1.0, 800, 650, 60.0))]

    header, rule, *lines = bench.format_logging_table(rows).splitlines()

    assert header.split() == ["model", "sampling", "c", "QPS", "QPS", "vs", "off", "p50", "ms",
                              "p99", "ms", "CPU", "us/req", "CPU", "vs", "off", "log", "us", "on",
                              "req", "log", "us", "all", "log/CPU", "off", "errors"]
    assert [line.split()[1] for line in lines] == ["off", "0", "1"]
    assert lines[0].split()[-4:] == ["-", "-", "-", "0"]
    assert lines[2].split() == ["cnn", "1", "8", "800", "0.80", "2.00", "6.00", "650", "1.30",
                                "15.0", "60.0", "0.12", "0"]


def test_request_logging_rates_are_parsed_and_checked(bench):
    assert bench.parse_arguments(["--request-logging", "0,0.01,1"]).request_logging == [0, 0.01, 1]
    with pytest.raises(SystemExit):
        bench.parse_arguments(["--request-logging", "2"])
