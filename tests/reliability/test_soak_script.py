"""benchmarks/soak.py works: a few seconds of soak against a real zoo-serve process, with its
windows, totals, RSS figures and verdict. (The 10-minute soak itself is run by hand.)"""

from __future__ import annotations

import json

import pytest
from tests.support.benchmark_scripts import imported_script


@pytest.fixture(scope="module")
def soak():
    with imported_script("soak") as module:
        yield module


@pytest.mark.slow
def test_short_soak_reports_windows_totals_and_rss_and_passes(soak, reliability_models, tmp_path, capsys):
    result_path = tmp_path / "soak.json"
    status = soak.main(["--model-base-path", str(reliability_models / "half_plus_two"),
                        "--model-name", "half_plus_two", "--duration", "2", "--window", "1",
                        "--warmup", "1", "--concurrency", "8", "--max-rss-growth", "0.5",
                        "--json", str(result_path)])
    printed = capsys.readouterr().out
    result = json.loads(result_path.read_text())
    print(printed)
    assert status == 0 and "PASSED" in printed
    assert result["requests"] > 0 and result["errors"] == {} and result["unexpected_errors"] == 0
    assert [window["window"] for window in result["windows"]] == [0, 1]
    assert all(window["requests"] > 0 and window["p99_ms"] > 0 for window in result["windows"])
    assert result["rss_start_mib"] > 0 and result["rss_end_mib"] > 0
    assert result["server_exit_code"] == 0


def test_unexpected_errors_fail_the_soak(soak):
    arguments = soak.parse_arguments(["--expected-errors", "resource_exhausted"])
    window = soak.Window(0, 1.0, requests=10, errors={"UNAVAILABLE": 1, "RESOURCE_EXHAUSTED": 2},
                         latencies=[0.001] * 7, rss_bytes=2**20)
    result = soak.report(arguments, {"windows": [window], "rss_start": 2**20, "rss_end": 2**20}, 0)
    assert result["unexpected_errors"] == 1 and not result["passed"]


def test_rss_growth_over_the_limit_fails_the_soak(soak):
    arguments = soak.parse_arguments(["--max-rss-growth", "0.05"])
    window = soak.Window(0, 1.0, requests=1, latencies=[0.001], rss_bytes=2**20)
    result = soak.report(arguments, {"windows": [window], "rss_start": 100 * 2**20,
                                     "rss_end": 106 * 2**20}, 0)
    assert result["rss_growth"] == pytest.approx(0.06) and not result["passed"]


@pytest.mark.parametrize("argument", ["--duration=0", "--concurrency=0", "--window=-1"])
def test_impossible_settings_are_command_line_errors(soak, argument):
    with pytest.raises(SystemExit) as exited:
        soak.parse_arguments([argument])
    assert exited.value.code == 2
