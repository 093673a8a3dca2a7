"""benchmarks/rounds.py: how the benchmarks sum up the rounds of each level."""

from __future__ import annotations

import pytest
from tests.support.benchmark_scripts import imported_script


@pytest.fixture(scope="module")
def rounds():
    with imported_script("rounds") as module:
        yield module


def run(server: str, concurrency: int, qps, **fields) -> dict:
    return {"server": server, "concurrency": concurrency, "qps": qps, **fields}


def test_levels_come_grouped_by_server_in_the_order_they_first_ran(rounds):
    runs = [run(server, concurrency, 10 * round_number)
            for round_number in (1, 2, 3) for concurrency in (8, 1)
            for server in ("b", "a")]

    rows = rounds.median_rows(runs, ("server", "concurrency"), medians=("qps",))

    assert [(row["server"], row["concurrency"], row["qps"], row["rounds"]) for row in rows] == [
        ("b", 8, 20, 3), ("b", 1, 20, 3), ("a", 8, 20, 3), ("a", 1, 20, 3)]


def test_each_kind_of_field_is_summed_up_its_own_way(rounds):
    runs = [run("a", 1, 100, errors=1, rss=600.0, codes={"UNAVAILABLE": 1}),
            run("a", 1, None, errors=2, rss=650.0, codes={"UNAVAILABLE": 1, "INTERNAL": 1},
                error="refused"),
            run("a", 1, 300, errors=0, rss=620.0, codes={}, error="timed out")]

    [row] = rounds.median_rows(runs, ("server", "concurrency"), medians=("qps",),
                               sums=("errors",), highest=("rss",), merged_counts=("codes",),
                               firsts=("error",))

    assert row["qps"] == 200  # the median of the rounds that measured it
    assert (row["errors"], row["rss"]) == (3, 650.0)
    assert row["codes"] == {"UNAVAILABLE": 2, "INTERNAL": 1}
    assert row["error"] == "refused"


def test_a_field_no_round_has_is_left_out_of_firsts_and_none_for_medians(rounds):
    [row] = rounds.median_rows([run("a", 1, None)], ("server", "concurrency"),
                               medians=("qps",), firsts=("error",))

    assert row["qps"] is None and "error" not in row
