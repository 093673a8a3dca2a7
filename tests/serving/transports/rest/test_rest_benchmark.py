"""benchmarks/rest.py: wrk against a real REST port, and the report judged from a run's rows.

The benchmark itself takes minutes and is not run here (benchmarks/README.md says how to run it).
"""

from __future__ import annotations

import json
import shutil

import pytest
from tests.support.benchmark_scripts import imported_script

PREDICT = "/v1/models/half_plus_two/versions/1:predict"


@pytest.fixture(scope="module")
def bench():
    with imported_script("rest") as module:
        yield module


@pytest.mark.skipif(shutil.which("wrk") is None,
                    reason="wrk is not installed (Debian's package: apt-get install wrk)")
def test_wrk_level_drives_the_rest_port_and_reads_wrk_figures(bench, rest, tmp_path):
    (tmp_path / "body.json").write_text(json.dumps({"instances": [1.0, 2.0]}))
    script = tmp_path / "predict.lua"
    script.write_text(bench.WRK_SCRIPT.format(body_path=tmp_path / "body.json"))

    level = bench.wrk_level(f"http://127.0.0.1:{rest.port}{PREDICT}", script, concurrency=4,
                            duration=1.0, warmup=0.0)

    assert level["requests"] > 0 and level["rps"] > 0
    assert (level["non_2xx"], level["socket_errors"]) == (0, 0)
    assert 0 < level["p50_ms"] <= level["p99_ms"]


def test_the_request_body_is_a_7_kb_image_in_row_format(bench):
    body = json.loads(bench.request_body())
    assert len(bench.request_body()) in range(6000, 9000)
    assert len(body["instances"]) == 1 and len(body["instances"][0]) == 28


def _row(server, protocol, concurrency, rps, p99=5.0, failures=0):
    return {"server": server, "protocol": protocol, "concurrency": concurrency, "rps": rps,
            "p50_ms": 1.0, "p99_ms": p99, "non_2xx": failures, "socket_errors": 0,
            "server_cpu_us_per_request": 900.0}


COSTS = {"json_dense_us": 60.0, "json_general_us": 400.0, "protobuf_us": 10.0}


def test_targets_met_are_reported_as_met(bench):
    rows = [_row("zoo-serve", "REST", 1, 700), _row("zoo-serve", "REST", 8, 900),
            _row("zoo-serve", "REST", 32, 1000), _row("zoo-serve", "gRPC", 32, 1100),
            _row("KServe", "REST", 32, 450, p99=80.0)]

    lines = bench.ratios(rows, COSTS)

    assert all(line.endswith(": met") for line in lines[:-1]), lines
    assert len(lines) == 6 and lines[-1].startswith("decoding the request, in process: JSON 60 us")


def test_each_missed_target_says_not_met(bench):
    rows = [_row("zoo-serve", "REST", 1, 700), _row("zoo-serve", "REST", 32, 433, failures=2),
            _row("zoo-serve", "gRPC", 32, 1100), _row("KServe", "REST", 32, 635, p99=4.0)]

    lines = bench.ratios(rows, COSTS)

    assert [line.rsplit(": ", 1)[1] for line in lines[:-1]] == ["NOT met"] * 5
    assert "700 -> 433" in lines[0] and "39%" in lines[1] and "0.68x" in lines[2]


def test_levels_are_reported_as_medians_of_their_rounds(bench):
    runs = [{"round": round_number, **_row(server, protocol, 32, rps, failures=failures)}
            for round_number, (rest_rps, grpc_rps, failures) in enumerate(
                [(1000, 1500, 0), (1400, 1300, 1), (1200, 1400, 0)], start=1)
            for server, protocol, rps in (("zoo-serve", "REST", rest_rps),
                                          ("KServe", "REST", rest_rps / 2),
                                          ("zoo-serve", "gRPC", grpc_rps))]

    rows = bench.median_rows(runs)

    assert [(row["server"], row["protocol"], row["rps"], row["rounds"]) for row in rows] == [
        ("zoo-serve", "REST", 1200, 3), ("KServe", "REST", 600, 3), ("zoo-serve", "gRPC", 1400, 3)]
    assert rows[0]["non_2xx"] == 1 and rows[0]["server_cpu_us_per_request"] == 900.0
