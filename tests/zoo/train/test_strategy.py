"""Strategy selection on a machine without GPUs or TPUs, and the errors for missing clusters."""

import logging

import pytest
from tests.support.launch_harness import operator_tf_config

from zoo.cli.main import main
from zoo.errors import ConfigError
from zoo.train.strategy import check_jit_compile, is_chief, make_strategy, resolve_strategy_name


def test_auto_picks_default_strategy_without_accelerators(monkeypatch):
    for name in ("TPU_NAME", "COLAB_TPU_ADDR", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_ACCELERATOR_TYPE"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_strategy_name("auto") == "default"


def test_auto_picks_tpu_when_one_is_configured(monkeypatch):
    monkeypatch.setenv("TPU_NAME", "my-tpu")
    assert resolve_strategy_name("auto") == "tpu"


def test_multi_worker_without_tf_config_explains_how_to_start_workers(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="TF_CONFIG.*zoo launch"):
        make_strategy("multi_worker")


def test_parameter_server_needs_ps_tasks_in_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}')
    with pytest.raises(ConfigError, match="no ps tasks"):
        make_strategy("parameter_server")


def test_tpu_strategy_without_tpu_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(ConfigError, match="no TPU configured"):
        make_strategy("tpu")


def test_a_process_without_tf_config_is_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert is_chief()


def test_a_second_worker_is_not_chief_whatever_its_strategy(monkeypatch):
    """Two `--strategy default` processes given one cluster's TF_CONFIG must not both export."""
    monkeypatch.setenv("TF_CONFIG", operator_tf_config({"Worker": 2}, "Worker", 1))
    make_strategy("default")
    assert not is_chief()


def test_auto_follows_the_cluster_tf_config_describes(monkeypatch):
    for name in ("TPU_NAME", "COLAB_TPU_ADDR", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_ACCELERATOR_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TF_CONFIG", operator_tf_config({"Worker": 2}, "Worker", 0))
    assert resolve_strategy_name("auto") == "multi_worker"
    monkeypatch.setenv("TF_CONFIG", operator_tf_config({"Chief": 1, "Worker": 1, "PS": 1}, "Chief", 0))
    assert resolve_strategy_name("auto") == "parameter_server"


@pytest.fixture
def gpus(monkeypatch):
    """gpus(n): TensorFlow reports n GPUs (none is what this machine really has)."""
    import tensorflow as tf

    real = tf.config.list_physical_devices

    def pretend(count: int) -> None:
        fake = [tf.config.PhysicalDevice(name=f"/physical_device:GPU:{index}", device_type="GPU")
                for index in range(count)]
        monkeypatch.setattr(tf.config, "list_physical_devices",
                            lambda kind=None: fake if kind == "GPU" else real(kind))

    return pretend


def test_jit_compile_with_mirrored_on_a_cpu_is_refused_with_exit_2_and_one_line(capsys, tmp_path, gpus):
    gpus(0)
    code = main(["train", "mlp", "--dataset", "iris", "--strategy", "mirrored", "--jit-compile",
                 "--workdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("zoo train: error: --jit-compile does not work with --strategy mirrored on a "
                          "machine without a GPU: XLA cannot compile")
    assert not (tmp_path / "checkpoints").exists()


def test_jit_compile_on_a_cpu_warns_in_one_line(caplog, gpus):
    gpus(0)
    with caplog.at_level(logging.WARNING, logger="zoo.train.strategy"):
        check_jit_compile(True, "default")
    [record] = caplog.records
    assert record.getMessage().startswith("--jit-compile on a machine without a GPU makes training slower")
    assert "\n" not in record.getMessage()


def test_jit_compile_with_a_gpu_or_a_tpu_is_neither_refused_nor_warned(caplog, gpus, monkeypatch):
    gpus(2)
    with caplog.at_level(logging.WARNING):
        check_jit_compile(True, "mirrored")
        check_jit_compile(True, "default")
    gpus(0)
    monkeypatch.setenv("TPU_NAME", "my-tpu")
    with caplog.at_level(logging.WARNING):
        check_jit_compile(True, "auto")
    assert caplog.records == []


def test_without_jit_compile_nothing_is_checked(caplog, gpus):
    gpus(0)
    with caplog.at_level(logging.WARNING):
        check_jit_compile(False, "mirrored")
    assert caplog.records == []
