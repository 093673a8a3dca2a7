"""`python -m serving.healthcheck` (the image's HEALTHCHECK) against a real server: 0 when the
health service says SERVING, 1 with the reason otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.support.deploy_harness import free_port

from serving import flags
from serving.healthcheck import main
from serving.server import ModelServer


@pytest.fixture(scope="module")
def server_address(models_root, tmp_path_factory):
    """A real server with `half_plus_two` loaded and `pending`, a model with no version yet."""
    (models_root / "pending").mkdir(exist_ok=True)
    config = tmp_path_factory.mktemp("config") / "models.config"
    config.write_text("model_config_list {\n" + "".join(
        f'  config {{ name: "{name}" base_path: "{models_root / name}" model_platform: "tensorflow" }}\n'
        for name in ("half_plus_two", "pending")) + "}\n")
    server = ModelServer(flags.parse_flags([f"--model_config_file={config}", "--grpc_bind_address=127.0.0.1",
                                            f"--port={free_port()}", "--file_system_poll_wait_seconds=0"]))
    port = server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=0)


def test_a_loaded_model_is_healthy(server_address, capsys):
    assert main(["--address", server_address, "--service", "half_plus_two"]) == 0
    assert capsys.readouterr().out.strip() == f"service 'half_plus_two' at {server_address}: SERVING"


def test_the_server_is_unhealthy_while_a_model_has_no_version(server_address, capsys):
    assert main(["--address", server_address]) == 1
    assert capsys.readouterr().err.strip() == f"the server at {server_address}: NOT_SERVING"


def test_an_unknown_model_is_unhealthy_and_named(server_address, capsys):
    assert main(["--address", server_address, "--service", "no_such_model"]) == 1
    assert "service 'no_such_model' is unknown to the server" in capsys.readouterr().err


def test_no_server_at_the_address_is_unhealthy_within_the_timeout(capsys):
    address = f"127.0.0.1:{free_port()}"
    assert main(["--address", address, "--timeout", "1"]) == 1
    assert f"no answer from {address}: UNAVAILABLE" in capsys.readouterr().err


def test_a_non_positive_timeout_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--timeout", "0"])
    assert exit_info.value.code == 2
    assert "expected a positive number of seconds, got 0" in capsys.readouterr().err


def test_the_module_runs_without_importing_tensorflow():
    code = ("import sys; from serving.healthcheck import main; main(['--address', '127.0.0.1:1', '--timeout', '0.5']);"
            " sys.exit(3 if 'tensorflow' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0
