"""`--strategy tpu`: the TPUClusterResolver for `--tpu NAME`, connecting to the cluster and
initialising the TPU system before the strategy is built.

There is no TPU here, so these tests replace TensorFlow's TPUClusterResolver, cluster connection,
TPU initialisation and TPUStrategy with fakes that record how they were called; everything else
(flag parsing, strategy selection, the trainer's set-up) is the real code.
"""

from __future__ import annotations

import pytest
import tensorflow as tf

from zoo.cli.main import build_parser
from zoo.cli.train import config_from_args
from zoo.errors import ConfigError
from zoo.train import TrainConfig
from zoo.train.strategy import make_strategy
from zoo.train.trainer import run_training


class FakeTPUClusterResolver:
    """Stands in for tf.distribute.cluster_resolver.TPUClusterResolver (no TPU to resolve here)."""

    task_type = None
    task_id = 0

    def __init__(self, tpu=None):
        self.tpu = tpu


class FakeTPUStrategy:
    def __init__(self, resolver):
        self.cluster_resolver = resolver
        self.num_replicas_in_sync = 8


@pytest.fixture
def fake_tpu(monkeypatch):
    """Replaces the TPU entry points; returns the list of calls in the order they happened."""
    calls: list[tuple] = []
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", FakeTPUClusterResolver)
    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster",
                        lambda resolver: calls.append(("connect", resolver.tpu)))
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system",
                        lambda resolver: calls.append(("initialize", resolver.tpu)))

    def strategy(resolver):
        calls.append(("strategy", resolver.tpu))
        return FakeTPUStrategy(resolver)

    monkeypatch.setattr(tf.distribute, "TPUStrategy", strategy)
    return calls


def test_tpu_strategy_connects_and_initialises_the_named_tpu_before_building_the_strategy(fake_tpu):
    strategy = make_strategy("tpu", tpu="my-tpu")
    assert isinstance(strategy, FakeTPUStrategy) and strategy.cluster_resolver.tpu == "my-tpu"
    assert fake_tpu == [("connect", "my-tpu"), ("initialize", "my-tpu"), ("strategy", "my-tpu")]


def test_auto_strategy_picks_the_tpu_named_on_the_command_line(fake_tpu):
    assert isinstance(make_strategy("auto", tpu="my-tpu"), FakeTPUStrategy)


def test_tpu_from_the_environment_is_resolved_without_a_name(fake_tpu, monkeypatch):
    monkeypatch.setenv("TPU_NAME", "env-tpu")
    make_strategy("tpu")
    assert fake_tpu[0] == ("connect", None), "TPUClusterResolver reads TPU_NAME itself"


def test_unreachable_tpu_is_a_one_line_config_error(fake_tpu, monkeypatch):
    def unreachable(resolver):
        raise tf.errors.UnavailableError(None, None, "failed to connect to all addresses")

    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", unreachable)
    with pytest.raises(ConfigError, match="cannot reach TPU my-tpu: failed to connect"):
        make_strategy("tpu", tpu="my-tpu")


def test_zoo_train_tpu_flag_reaches_the_resolver_and_the_run_uses_its_strategy(fake_tpu, tmp_path):
    args = build_parser().parse_args(["train", "mlp", "--dataset", "iris", "--strategy", "tpu", "--tpu", "my-tpu",
                                      "--workdir", str(tmp_path)])
    config = config_from_args(args, TrainConfig)
    run = run_training(config, lambda run: run)
    assert isinstance(run.strategy, FakeTPUStrategy) and run.chief
    assert fake_tpu[-1] == ("strategy", "my-tpu")
