"""`zoo-serve` / `python -m serving`: exit codes, one-line errors, --help, --version, log format."""

import logging
import os
import subprocess
import sys

import pytest

import serving
from serving import main as serving_main


def test_unknown_flag_exits_2_with_one_line_and_no_traceback():
    result = subprocess.run([sys.executable, "-m", "serving", "--model_base_path=/m", "--prot=1"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == "zoo-serve: unknown flag --prot; did you mean --port?\n"
    assert result.stdout == ""


def test_invalid_value_exits_2_with_one_line(capsys):
    assert serving_main.main(["--model_base_path=/m", "--file_system_poll_wait_seconds=soon"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("zoo-serve: invalid value for --file_system_poll_wait_seconds: 'soon' is not a number. "
                            "Example: --file_system_poll_wait_seconds=1.0\n")


def test_conflicting_model_flags_exit_2(capsys):
    assert serving_main.main(["--model_config_file=/m.config", "--model_base_path=/m"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_prints_grouped_flags_and_exits_0(capsys):
    assert serving_main.main(["--port=oops", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: zoo-serve")
    for title in ("Server (gRPC and REST)", "Models, versions, reloading and warmup", "Batching",
                  "TensorFlow runtime", "Monitoring, security and other"):
        assert title in out


def test_version_prints_versions_and_exits_0(capsys):
    assert serving_main.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"TensorFlow ModelServer: {serving.__version__}")
    assert "TensorFlow Library: 2." in out


def test_missing_model_config_file_fails_to_start_with_exit_1(tmp_path, capsys, free_tcp_port):
    missing = tmp_path / "missing.config"
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = serving_main.main([f"--model_config_file={missing}", f"--port={free_tcp_port}",
                                  "--grpc_bind_address=127.0.0.1"])
    finally:  # main() sets up logging for a whole process; give pytest its handlers back
        root.handlers[:] = handlers
        root.setLevel(level)
    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == f"zoo-serve: failed to start: Model config file not found: {missing}"


def _record(message, **extra) -> logging.LogRecord:
    record = logging.LogRecord("serving.core", logging.WARNING, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


def test_log_lines_are_time_level_logger_message_then_key_values():
    line = serving_main.OneLineFormatter().format(_record("event=loaded model=m", version=3, path="/a b"))
    time, level, logger, rest = line.split(" ", 3)
    assert time.endswith("Z") and "T" in time
    assert (level, logger) == ("WARNING", "serving.core")
    assert rest == 'event=loaded model=m version=3 path="/a b"'


def test_log_record_with_traceback_stays_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("event=crash")
        record.exc_info = sys.exc_info()
    line = serving_main.OneLineFormatter().format(record)
    assert "\n" not in line
    assert "traceback=" in line and "ValueError: boom" in line


@pytest.mark.parametrize("value, expected", [("plain", "plain"), ("", '""'), ('say "hi"', '"say \\"hi\\""')])
def test_log_values_are_quoted_only_when_needed(value, expected):
    assert serving_main.OneLineFormatter().format(_record("m", key=value)).endswith(f"key={expected}")


def test_unparsable_model_config_prints_tf_servings_error_text_and_exits_non_zero(tmp_path):
    config = tmp_path / "models.config"
    config.write_text("improperly formatted file")
    result = subprocess.run([sys.executable, "-m", "serving", f"--model_config_file={config}",
                             "--port=0", f"--grpc_socket_path={tmp_path / 'grpc.sock'}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Error parsing text-format tensorflow.serving.ModelServerConfig: 1:1: " in result.stderr
    assert str(config) in result.stderr


def test_the_server_process_leaves_keras_unimported_and_still_serves_keras_exports(tmp_path):
    # Keras (and scikit-learn through it) cost ~140 MB and ~1.5 s at `import tensorflow`.
    script = f"""
import sys
from serving.main import skip_tensorflows_keras_import
skip_tensorflows_keras_import()
import numpy as np
from serving.version_loader import VersionLoader
servable = VersionLoader(warmup_iterations=None).load("m", 1, {str(_zoo_mlp_export(tmp_path))!r})
[alias] = servable.signature_defs["serving_default"].inputs
outputs = servable.run("serving_default", {{alias: np.zeros((2, 4), np.float32)}})
assert outputs["probabilities"].shape == (2, 3), outputs
assert "keras" not in sys.modules and "sklearn" not in sys.modules
"""
    environment = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]


def _zoo_mlp_export(tmp_path) -> str:
    """A version directory exported by the zoo (Keras 3 layers inside a tf.Module)."""
    import keras

    from zoo.export.saved_model import export_saved_model
    from zoo.models import build_model
    from zoo.spec import DataSpec

    spec = DataSpec(name="toy", kind="tabular", task="classification", input_shape=(4,),
                    num_outputs=3)
    version_dir = export_saved_model(build_model("mlp", spec, {}), spec, str(tmp_path), "m",
                                     version=1)
    keras.backend.clear_session()
    return str(version_dir)


def test_the_server_raises_its_open_file_limit_to_the_hard_limit():
    script = """
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
from serving.main import raise_open_file_limit
raise_open_file_limit()
assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard), resource.getrlimit(resource.RLIMIT_NOFILE)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
