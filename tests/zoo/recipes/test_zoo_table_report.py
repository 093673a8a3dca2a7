"""benchmarks/zoo_table.py: a quick run of one tiny recipe writes a valid table (trained, exported,
measured in process and served by a real zoo-serve), and the report says what it must."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.benchmark_scripts import script_path
from zoo.recipes import get_recipe

ROOT = Path(__file__).resolve().parents[3]
ZOO_TABLE = script_path("zoo_table")


@pytest.mark.slow
def test_quick_table_of_one_recipe_writes_valid_markdown_and_json(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(ZOO_TABLE), "--quick", "--only", "mlp_breast_cancer", "--output-dir", str(tmp_path / "docs"),
         "--workdir", str(tmp_path / "runs"), "--bench-seconds", "1"],
        capture_output=True, text=True, timeout=400, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    report = json.loads((tmp_path / "docs" / "results.json").read_text())
    assert report["quick"] is True and report["machine"]["cores"] >= 1 and report["machine"]["tensorflow"]
    (row,) = report["results"]
    assert row["status"] == "ok" and row["recipe"] == "mlp_breast_cancer"
    assert row["command"] == "zoo train --recipe mlp_breast_cancer --epochs 1 --train-examples 512"
    assert 0.0 <= row["metric"]["value"] <= 1.0 and row["parameters"] > 0
    assert row["command_cpu_seconds"] > 0 and row["latency_ms"]["batch_1"] > 0 and row["latency_ms"]["batch_32"] > 0
    assert row["served"]["p50_ms"] > 0 and row["served"]["errors"] == 0
    markdown = (tmp_path / "docs" / "results.md").read_text()
    assert "| mlp_breast_cancer | mlp | breast_cancer | accuracy" in markdown
    assert f"{report['machine']['cores']} cores" in markdown and "Quick mode" in markdown


def test_unknown_recipe_in_only_exits_2_naming_the_valid_ones(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(ZOO_TABLE), "--only", "cnn_cifar10", "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert completed.returncode == 2
    assert "unknown recipe 'cnn_cifar10'" in completed.stderr and "cnn_fashion_mnist" in completed.stderr
    assert not (tmp_path / "results.md").exists()


def test_fashion_mnist_rows_cite_xiao_et_al_and_others_have_no_published_figure(zoo_table):
    mlp = zoo_table.published_figure(get_recipe("mlp_fashion_mnist"))
    cnn = zoo_table.published_figure(get_recipe("cnn_fashion_mnist"))
    assert (mlp.accuracy, cnn.accuracy) == (0.871, 0.897)
    assert "arXiv:1708.07747" in mlp.source and "MLPClassifier" in mlp.classifier and "SVC" in cnn.classifier
    assert zoo_table.published_figure(get_recipe("cnn_digits")) is None


def test_report_marks_a_missed_quality_bar_and_a_failed_recipe(zoo_table):
    report = {
        "quick": False, "finished": "2026-01-02T03:04:05+00:00", "load_average_start": [1.0, 1.0, 1.0],
        "load_average_end": [2.0, 2.0, 2.0],
        "machine": {"cpu": "Test CPU", "cores": 2, "tensorflow": "2.21.0", "keras": "3.15.1", "python": "3.11"},
        "results": [
            {"recipe": "cnn_fashion_mnist", "model": "cnn", "dataset": "fashion_mnist", "status": "ok",
             "command": "zoo train --recipe cnn_fashion_mnist", "metric": {"name": "accuracy", "value": 0.9105},
             "baseline": None, "parameters": 1234, "command_seconds": 1000.0, "command_cpu_seconds": 1500.0, "examples_per_second": 900.0,
             "latency_ms": {"batch_1": 1.5, "batch_32": 3.25}, "served": {"p50_ms": 2.5},
             "published": {"accuracy": 0.897, "classifier": "SVC", "source": zoo_table.XIAO_2017},
             "quality_bar": {"accuracy": 0.92, "met": False}, "within_time_budget": False},
            {"recipe": "gru_co2", "model": "gru", "dataset": "co2", "status": "failed", "published": None,
             "command": "zoo train --recipe gru_co2", "error": "exit code 1: boom"},
        ],
    }
    markdown = zoo_table.markdown_report(report)
    assert "Machine: Test CPU, 2 cores" in markdown
    assert "| cnn_fashion_mnist | cnn | fashion_mnist | accuracy 0.9105 | 0.897 (SVC) | 1,234 | 16 min 40 s (25 min 00 s) |" in markdown
    assert "accuracy 0.9105 vs bar 0.92: MISSED" in markdown and "OVER the 15-minute budget" in markdown
    assert "| gru_co2 | gru | co2 | FAILED: exit code 1: boom | — |" in markdown


@pytest.mark.parametrize(("load_at_start", "verdict"), [
    (1.5, "other work shared the machine, so times are noisy"),
    (0.3, "nothing else was running when it started"),
])
def test_report_says_whether_other_work_shared_the_machine(zoo_table, load_at_start, verdict):
    report = {
        "quick": False, "finished": "2026-01-02T03:04:05+00:00", "load_average_start": [load_at_start, 1.0, 1.0],
        "load_average_end": [2.0, 2.0, 2.0], "results": [],
        "machine": {"cpu": "Test CPU", "cores": 2, "tensorflow": "2.21.0", "keras": "3.15.1", "python": "3.11"},
    }

    assert f"at the end 2.0 / 2.0 / 2.0: {verdict}." in zoo_table.markdown_report(report)
