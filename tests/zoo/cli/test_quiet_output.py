"""The zoo's commands show the user their own output, not TensorFlow's C++ start-up lines (nor a
warning our own fit call caused); `zoo --verbose` brings TensorFlow's lines back."""

from __future__ import annotations

import re

import pytest
from tests.support.tensorflow_logs import cpp_log_lines, run_as_a_user

TRAIN_IRIS = ("train", "mlp", "--dataset", "iris", "--epochs", "1", "--verbose", "0")


@pytest.mark.slow  # a fresh process imports TensorFlow and trains one epoch
def test_zoo_train_prints_no_tensorflow_line_and_says_which_devices_it_uses(tmp_path):
    result = run_as_a_user("-m", "zoo.cli.main", *TRAIN_IRIS, "--workdir", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert cpp_log_lines(result.stderr + result.stdout) == []
    assert "Warning" not in result.stderr  # Keras' shuffle=True warning, caused by our fit call, included
    [devices] = [line for line in result.stderr.splitlines() if "devices:" in line]
    assert re.search(r" INFO zoo\.train\.trainer: devices: (CPU \(no GPU found\)|\d+ GPUs? \(.+\) and the CPU); "
                     r"strategy default, 1 replica$", devices), devices


@pytest.mark.slow
def test_zoo_verbose_shows_tensorflows_cpp_lines(tmp_path):
    result = run_as_a_user("-m", "zoo.cli.main", "--verbose", *TRAIN_IRIS, "--workdir", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert cpp_log_lines(result.stderr)


def test_zoo_datasets_starts_without_tensorflow():
    code = "import sys; from zoo.cli.main import main; main(['datasets']); print('tensorflow' in sys.modules)"
    result = run_as_a_user("-c", code)

    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[-1] == "False"


@pytest.mark.slow  # builds every registered model
def test_zoo_models_prints_no_tensorflow_line():
    result = run_as_a_user("-m", "zoo.cli.main", "models")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and cpp_log_lines(result.stdout) == []


@pytest.mark.slow  # trains the demo's CNN for a few epochs and serves it
def test_the_demo_prints_no_tensorflow_line(tmp_path):
    result = run_as_a_user("-m", "zoo.demo", "--epochs", "8", "--workdir", str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert cpp_log_lines(result.stdout + result.stderr) == []
    assert result.stdout.startswith("devices: ")


@pytest.mark.slow  # a fresh process imports TensorFlow to read the log
def test_zoo_replay_prints_no_tensorflow_line(tmp_path):
    log = tmp_path / "empty.log"
    log.write_bytes(b"")
    result = run_as_a_user("-m", "zoo.cli.main", "replay", str(log), "--server", "127.0.0.1:1",
                           "--model", "m")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and cpp_log_lines(result.stdout) == []
    assert result.stdout.strip().endswith("0 matched, 0 differed, 0 failed, 0 not compared")
