"""benchmarks/peers.py: zoo-serve side by side with KServe.

Where the KServe peer is installed (`python benchmarks/peers.py --install`), a quick run of the
benchmark and the peer itself (what benchmarks/rest.py uses) are tested for real; elsewhere those
tests skip with the reason. Telling whether the peer is installed, and the report, need no peer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from tests.support import savedmodels
from tests.support.benchmark_scripts import imported_script, script_path

# A quick run starts three servers and drives two levels on each: a few minutes on a busy machine.
QUICK_RUN_SECONDS = 540


@pytest.fixture(scope="module")
def peers():
    with imported_script("peers") as module:
        yield module


@pytest.fixture(scope="module")
def installed_peer(peers):
    status = peers.kserve_status()
    if not status.installed:
        pytest.skip(f"the KServe peer is not installed: {status.message()}")
    return status


@pytest.fixture
def empty_peers_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("TFZOO_PEERS_DIR", raising=False)
    return tmp_path / "peers"


def make_fake_install(peers, peers_dir, requirements) -> None:
    """A peer folder as install_kserve leaves it, without installing anything."""
    venv = peers_dir / f"kserve-{peers.KSERVE_VERSION}"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    if requirements is not None:
        (venv / peers.INSTALLED_MARKER).write_text("\n".join(requirements) + "\n")


# === Whether the peer is installed ===


def test_absent_peer_is_one_line_with_the_install_command_and_exit_status_2(peers, empty_peers_dir,
                                                                              capsys):
    status = peers.main(["--quick", "--peers-dir", str(empty_peers_dir)])

    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "KServe 0.21.0 is not installed" in err
    assert f"benchmarks/peers.py --install --peers-dir {empty_peers_dir}" in err


def test_peer_with_the_pinned_requirements_counts_as_installed(peers, empty_peers_dir):
    make_fake_install(peers, empty_peers_dir, peers.peer_requirements())

    status = peers.kserve_status(empty_peers_dir)

    assert status.installed and status.reason == ""
    assert status.python == empty_peers_dir / "kserve-0.21.0" / "bin" / "python"


def test_interrupted_install_is_not_installed(peers, empty_peers_dir):
    make_fake_install(peers, empty_peers_dir, requirements=None)

    status = peers.kserve_status(empty_peers_dir)

    assert not status.installed and "incomplete" in status.reason


def test_install_of_other_requirements_is_not_installed(peers, empty_peers_dir):
    make_fake_install(peers, empty_peers_dir, ("kserve==0.21.0", "tensorflow==2.0.0"))

    status = peers.kserve_status(empty_peers_dir)

    assert not status.installed and "tensorflow==2.0.0" in status.reason


def test_peer_requirements_pin_kserve_and_our_tensorflow(peers):
    import tensorflow as tf

    assert peers.peer_requirements() == ("kserve==0.21.0", f"tensorflow=={tf.__version__}")


def test_peers_dir_is_the_flag_else_the_environment_else_the_cache(peers, tmp_path, monkeypatch):
    monkeypatch.setenv("TFZOO_PEERS_DIR", str(tmp_path / "from-env"))
    assert peers.peers_dir(tmp_path / "from-flag") == tmp_path / "from-flag"
    assert peers.peers_dir() == tmp_path / "from-env"
    monkeypatch.delenv("TFZOO_PEERS_DIR")
    assert peers.peers_dir() == peers.DEFAULT_PEERS_DIR


def test_starting_an_absent_peer_raises_with_the_install_command(peers, empty_peers_dir, tmp_path):
    with pytest.raises(peers.PeerNotInstalled, match="install it with: .*--install"):
        with peers.kserve_peer(tmp_path, "m", peers=empty_peers_dir):
            pass


def test_saved_model_version_is_the_directory_or_its_highest_numbered_version(peers, tmp_path):
    for version in ("1", "2", "10", "not-a-version"):
        (tmp_path / "m" / version).mkdir(parents=True)
        (tmp_path / "m" / version / "saved_model.pb").touch()

    assert peers.saved_model_version(tmp_path / "m") == tmp_path / "m" / "10"
    assert peers.saved_model_version(tmp_path / "m" / "2") == tmp_path / "m" / "2"
    with pytest.raises(ValueError, match="neither a SavedModel directory"):
        peers.saved_model_version(tmp_path)


# === The report ===


def row(server: str, concurrency: int, qps: float, p99: float = 10.0, cpu: float = 1000.0,
        rss: float = 650.0) -> dict:
    return {"server": server, "concurrency": concurrency, "qps": qps, "p50_ms": p99 / 3,
            "p99_ms": p99, "errors": 0, "server_cpu_us_per_request": cpu, "peak_rss_mb": rss}


def test_ratios_are_each_zoo_serve_configuration_over_the_peer(peers):
    rows = [row(peers.PEER_NAME, 1, 500), row(peers.PEER_NAME, 32, 800, p99=60, rss=700),
            row("zoo-serve", 1, 750, rss=590), row("zoo-serve", 32, 1200, p99=30, cpu=500, rss=600)]

    [entry] = peers.ratios(rows)

    assert entry["server"] == "zoo-serve" and entry["qps"] == {1: 1.5, 32: 1.5}
    assert (entry["p99_at_top"], entry["cpu_at_top"]) == (0.5, 0.5)
    assert entry["peak_rss"] == pytest.approx(600 / 700)


def test_rounds_are_summarized_by_their_median_in_the_order_they_ran(peers):
    runs = [{"round": round_number, **row(server, c, qps, cpu=qps), "errors_by_code": {}}
            for round_number, qps_by_round in ((1, 100), (2, 300), (3, 200))
            for server in (peers.PEER_NAME, "zoo-serve") for c, qps in ((1, qps_by_round),
                                                                       (8, 2 * qps_by_round))]
    runs[0].update(errors=2, errors_by_code={"UNAVAILABLE": 2}, peak_rss_mb=800.0)
    runs[1]["server_cpu_us_per_request"] = None

    rows = peers.median_rows(runs)

    assert [(r["server"], r["concurrency"]) for r in rows] == [
        (peers.PEER_NAME, 1), (peers.PEER_NAME, 8), ("zoo-serve", 1), ("zoo-serve", 8)]
    assert [r["qps"] for r in rows] == [200, 400, 200, 400]
    assert rows[0]["errors"] == 2 and rows[0]["errors_by_code"] == {"UNAVAILABLE": 2}
    assert rows[0]["peak_rss_mb"] == 800.0 and rows[0]["rounds"] == 3
    assert rows[1]["server_cpu_us_per_request"] == 500  # the median of the rounds that measured it


def test_table_then_ratios_show_every_row_and_configuration(peers):
    rows = [row(peers.PEER_NAME, 1, 500), row("zoo-serve", 1, 750),
            row("zoo-serve batching", 1, 600)]

    table = peers.format_table(rows).splitlines()
    ratios = peers.format_ratios(peers.ratios(rows)).splitlines()

    assert table[0].split() == ["server", "c", "QPS", "p50", "ms", "p99", "ms", "errors", "CPU",
                                "us/req", "peak", "RSS", "MB"]
    assert table[3].split() == ["zoo-serve", "1", "750", "3.33", "10.00", "0", "1000", "650"]
    assert ratios[0].split()[:4] == ["zoo-serve", "/", "KServe", "QPS"]
    assert ratios[2].split() == ["zoo-serve", "1.50x", "1.00x", "1.00x", "1.00x"]
    assert ratios[3].split() == ["zoo-serve", "batching", "1.20x", "1.00x", "1.00x", "1.00x"]


# === For real, where the peer is installed ===


@pytest.fixture(scope="module")
def half_plus_two(tmp_path_factory) -> str:
    return savedmodels.export_half_plus_two(tmp_path_factory.mktemp("peer") / "hp2", 1)


@pytest.mark.slow
def test_peer_answers_rest_v1_predict_and_oip_grpc_on_loopback(peers, installed_peer,
                                                                half_plus_two):
    import tritonclient.grpc as triton

    with peers.kserve_peer(os.path.dirname(half_plus_two), "hp2") as peer:
        request = urllib.request.Request(
            f"{peer.rest_url}/v1/models/hp2:predict", data=b'{"instances": [1.0, 2.0, 5.0]}',
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            rest_answer = json.loads(response.read())
        client = triton.InferenceServerClient(peer.grpc_target)
        metadata = client.get_model_metadata("hp2")
        tensor = triton.InferInput("x", [3], "FP32")
        tensor.set_data_from_numpy(np.array([1.0, 2.0, 5.0], np.float32))
        grpc_answer = client.infer("hp2", [tensor]).as_numpy("y")
        client.close()
        process = peer.process

    assert peer.rest_url.startswith("http://127.0.0.1:")
    assert peer.grpc_target.startswith("127.0.0.1:")
    assert rest_answer == {"predictions": [2.5, 3.0, 4.5]}
    assert [(t.name, t.datatype, list(t.shape)) for t in metadata.inputs] == [("x", "FP32", [-1])]
    np.testing.assert_array_equal(grpc_answer, np.array([2.5, 3.0, 4.5], np.float32))
    assert process.poll() is not None  # stopped with the block


@pytest.mark.slow
def test_quick_run_drives_kserve_and_zoo_serve_and_prints_the_ratios_last(installed_peer,
                                                                           tmp_path):
    output = tmp_path / "peers.json"
    finished = subprocess.run(
        [sys.executable, str(script_path("peers")), "--quick", "--peers-dir",
         str(installed_peer.venv.parent), "--output", str(output)],
        capture_output=True, text=True, timeout=QUICK_RUN_SECONDS)
    print(finished.stdout)

    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(output.read_text())
    servers = ["KServe 0.21.0", "zoo-serve", "zoo-serve batching"]
    assert [(row["server"], row["concurrency"]) for row in report["rows"]] == [
        (server, c) for server in servers for c in (1, 4)]
    assert all(row["errors"] == 0 and row["qps"] > 0 and row["peak_rss_mb"] > 0
               for row in report["rows"])
    assert [entry["server"] for entry in report["ratios"]] == servers[1:]
    lines = finished.stdout.strip().splitlines()
    assert lines[-5].startswith("zoo-serve / KServe") and lines[-1].startswith("results written")
