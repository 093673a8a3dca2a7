"""Fixtures for the TF Lite tests: one zoo export holding both a SavedModel and model.tflite, and
two real ModelServers on loopback serving it, with and without --prefer_tflite_model.

The TF Lite server has 2 pools of 2 interpreters, so a batch is split in two and a third
concurrent request waits for a pool; it also serves REST (`tflite_server.server.rest.port`).
"""

from __future__ import annotations

import os

import grpc
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.support import tflite_models
from tests.support.server_harness import free_port


@pytest.fixture(scope="session")
def zoo_cnn_base(tmp_path_factory):
    """A model base path holding version 1 of the zoo cnn: SavedModel and model.tflite."""
    base = tmp_path_factory.mktemp("tflite_models")
    tflite_models.export_zoo_cnn(base)
    return base / tflite_models.MODEL_NAME


@pytest.fixture(scope="session")
def zoo_cnn_version_dir(zoo_cnn_base):
    return zoo_cnn_base / "1"


def _serve(start_model_server, base, *flags):
    return start_model_server(f"--model_base_path={base}", f"--model_name={tflite_models.MODEL_NAME}",
                              "--file_system_poll_wait_seconds=0", *flags)


@pytest.fixture(scope="session")
def tflite_server(start_model_server, zoo_cnn_base):
    return _serve(start_model_server, zoo_cnn_base, *tflite_models.TFLITE_FLAGS, f"--rest_api_port={free_port()}")


@pytest.fixture(scope="session")
def saved_model_server(start_model_server, zoo_cnn_base):
    return _serve(start_model_server, zoo_cnn_base)


@pytest.fixture(scope="session")
def tflite_channel(tflite_server):
    with grpc.insecure_channel(tflite_server.target) as channel:
        yield channel


@pytest.fixture(scope="session")
def saved_model_channel(saved_model_server):
    with grpc.insecure_channel(saved_model_server.target) as channel:
        yield channel
