"""`zoo-serve` writes only its own one-line logs to stderr, one of them naming the devices it
found: TensorFlow's C++ start-up lines are not among them unless --verbose asks for them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
from tests.support.savedmodels import export_half_plus_two
from tests.support.tensorflow_logs import ROOT, cpp_log_lines, user_environment

STRUCTURED_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ ")


def serve_until_started_then_stop(tmp_path, port: int, *flags: str) -> str:
    """Starts `python -m serving` as a user would, stops it once it serves; returns its stderr."""
    export_half_plus_two(tmp_path / "half_plus_two")
    command = [sys.executable, "-m", "serving", f"--model_base_path={tmp_path / 'half_plus_two'}",
               "--model_name=half_plus_two", f"--port={port}", "--grpc_bind_address=127.0.0.1", *flags]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env=user_environment())
    try:
        assert process.stdout.readline().startswith("serving on"), process.stderr.read()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stderr


@pytest.mark.slow  # a fresh server process imports TensorFlow
def test_zoo_serve_writes_only_its_own_log_lines_and_names_the_devices(tmp_path, free_tcp_port):
    stderr = serve_until_started_then_stop(tmp_path, free_tcp_port)

    assert [line for line in stderr.splitlines() if not STRUCTURED_LINE.match(line)] == []
    assert re.search(r" INFO serving\.main event=devices_found devices='(CPU \(no GPU found\)|.*GPU.*)'\n", stderr)


@pytest.mark.slow
def test_zoo_serve_verbose_shows_tensorflows_cpp_lines(tmp_path, free_tcp_port):
    stderr = serve_until_started_then_stop(tmp_path, free_tcp_port, "--verbose")

    assert cpp_log_lines(stderr)


@pytest.mark.slow
def test_zoo_serve_freezes_its_heap_once_the_models_are_loaded(tmp_path, free_tcp_port):
    stderr = serve_until_started_then_stop(tmp_path, free_tcp_port)

    frozen = re.search(r" INFO serving\.heap event=heap_frozen objects=(\d+) seconds=", stderr)
    assert frozen, stderr
    assert int(frozen.group(1)) > 100_000  # TensorFlow's and the model's objects, at least
