"""The image's entrypoint builds TF Serving's command line (MODEL_NAME, MODEL_BASE_PATH, ports
8500/8501) for zoo-serve, and that command line is one zoo-serve accepts and serves with."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from tests.support.deploy_harness import ENTRYPOINT, entrypoint_env, free_port

from serving import flags
from serving.healthcheck import check


def served_argv(run_recorded, env: dict[str, str], *args: str) -> list[str]:
    """The command line the image's entrypoint starts zoo-serve with."""
    return run_recorded([str(ENTRYPOINT)], "zoo-serve", env, *args)["argv"]


def test_model_name_and_base_path_become_tf_servings_flags(run_recorded):
    argv = served_argv(run_recorded, {"MODEL_NAME": "mnist", "MODEL_BASE_PATH": "/models"})
    options = flags.parse_flags(argv)
    assert options.model_name == "mnist" and options.model_base_path == "/models/mnist"
    assert options.port == 8500 and options.rest_api_port == 8501


def test_model_base_path_defaults_to_slash_models(run_recorded):
    options = flags.parse_flags(served_argv(run_recorded, {"MODEL_NAME": "iris"}))
    assert options.model_base_path == "/models/iris"


def test_arguments_after_the_image_name_are_passed_on_and_win(run_recorded):
    argv = served_argv(run_recorded, {"MODEL_NAME": "mnist"}, "--port=9000", "--enable_batching")
    options = flags.parse_flags(argv)
    assert options.port == 9000 and options.enable_batching


def test_a_model_config_file_replaces_model_name_and_base_path(run_recorded):
    argv = served_argv(run_recorded, {"MODEL_NAME": "mnist"}, "--model_config_file=/models/models.config")
    options = flags.parse_flags(argv)
    assert options.model_config_file == "/models/models.config" and "model_name" not in options.given


def test_without_model_name_the_entrypoint_says_what_to_set():
    out = subprocess.run([str(ENTRYPOINT)], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "set MODEL_NAME" in out.stderr


@pytest.mark.slow
def test_entrypoint_serves_the_mounted_model_until_sigterm(models_root):
    port = free_port()
    server = subprocess.Popen(
        [str(ENTRYPOINT), f"--port={port}", "--rest_api_port=0", "--grpc_bind_address=127.0.0.1",
         "--file_system_poll_wait_seconds=0"],
        env=entrypoint_env(MODEL_NAME="half_plus_two", MODEL_BASE_PATH=str(models_root)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        healthy, reason = False, ""
        while not healthy and time.monotonic() < deadline and server.poll() is None:
            healthy, reason = check(f"127.0.0.1:{port}", "half_plus_two", timeout=1.0)
            time.sleep(0.5)
        assert healthy, reason
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, "a graceful SIGTERM ends with status 0"
    finally:
        server.kill()
        output = server.communicate()[0]
    assert "half_plus_two" in output
