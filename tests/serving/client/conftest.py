"""A real server for the client tests, with every model the client's methods need.

Built on tests/serving/conftest.py's `start_model_server` (127.0.0.1, a free port, stopped at
session end). Models: half_plus_two v1 (0.5x+2) and v2 (2x+1) with labels stable -> 1 and
canary -> 2, multi_io, tf1 (classify/regress), counter (counts its calls) and sleepy (answers
after about a second, for deadlines).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import savedmodels
import tensorflow as tf
from tensorflow.python.data.experimental.ops import testing as tf_data_testing

from tfzoo_client import Client


@pytest.fixture(scope="session")
def client_models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("client-models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "half_plus_two", 2, slope=2.0, offset=1.0)
    savedmodels.export_multi_io(root / "multi_io", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    savedmodels.export_call_counter(root / "counter", 1)
    export_sleepy(root / "sleepy" / "1", sleep_seconds=0.5)
    return root


def export_sleepy(path: Path, sleep_seconds: float) -> None:
    """A model that returns `y = x` after sleeping: tf.data's SleepDataset (TF's one sleeping
    op; only its private `testing` module wraps it) waits before the element and again before
    the end of the dataset, so a call takes about twice `sleep_seconds`, without using the CPU."""

    class Sleepy(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            delayed = tf.data.Dataset.from_tensors(x).apply(tf_data_testing.sleep(int(sleep_seconds * 1e6)))
            return {"y": delayed.get_single_element()}

    module = Sleepy()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})


@pytest.fixture(scope="session")
def client_server(client_models, start_model_server, tmp_path_factory):
    config_path = tmp_path_factory.mktemp("client-config") / "models.config"
    half_plus_two_extra = ('model_version_policy { all {} } version_labels { key: "stable" value: 1 } '
                           'version_labels { key: "canary" value: 2 }')
    entries = [
        f'config {{ name: "{name}" base_path: "{client_models / name}" model_platform: "tensorflow" '
        f'{half_plus_two_extra if name == "half_plus_two" else ""} }}'
        for name in ("half_plus_two", "multi_io", "tf1", "counter", "sleepy")
    ]
    config_path.write_text("model_config_list {\n" + "\n".join(entries) + "\n}\n")
    socket_path = str(tmp_path_factory.mktemp("client-socket") / "grpc.sock")
    return start_model_server(f"--model_config_file={config_path}", "--file_system_poll_wait_seconds=0",
                              socket_path=socket_path)


@pytest.fixture
def client(client_server):
    with Client(client_server.target, timeout=10.0) as client:
        yield client
