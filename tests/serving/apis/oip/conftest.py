"""A real OIP gRPC server on loopback over a real ModelManager, shared by this directory's tests.

Models served (exported once per test session into a temporary directory):
- `half`: half_plus_two, versions 1 (y = 0.5x + 2) and 2 (y = 3x + 1), both loaded; the label
  "stable" points to 1.
- `multi`: inputs features FP32 [-1,3], ids INT64 [-1], names BYTES [-1]; outputs total FP32,
  doubled_ids INT64, greeting BYTES; a second signature `sum_only`.
- `dtypes`: one `identity_<DATATYPE>` signature per OIP datatype (x [-1,2] -> y).
- `fixed`: no batch dimension, x FP32 [2,3] -> y = 2x.

`batching_triton` is tritonclient on a second server whose manager batches `batched` (half_plus_two
version 1): batches of up to 16 rows, padded to 4 or 16, after at most 300 us, one batch thread.
"""

from __future__ import annotations

import os

import grpc
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.support import oip_testdata
from tests.support import savedmodels
from tests.support.oip_harness import model_config, start_server

from serving.batching import BatchingOptions, BatchingPolicy
from serving.core import ModelManager
from serving.version_loader import VersionLoader
from serving.transports.grpc import grpc_predict_v2_pb2_grpc as pb2_grpc


@pytest.fixture(scope="session")
def manager(tmp_path_factory):
    base = tmp_path_factory.mktemp("oip_models")
    savedmodels.export_half_plus_two(base / "half", 1)
    savedmodels.export_half_plus_two(base / "half", 2, slope=3.0, offset=1.0)
    savedmodels.export_multi_io(base / "multi", 1)
    oip_testdata.export_identity_per_datatype(base / "dtypes", 1)
    oip_testdata.export_fixed_shape(base / "fixed", 1)
    config = model_config(
        {"half": base / "half", "multi": base / "multi", "dtypes": base / "dtypes",
         "fixed": base / "fixed"},
        extra={"half": 'model_version_policy { all {} } version_labels { key: "stable" value: 1 }'})
    model_manager = ModelManager(config, load=VersionLoader().load, file_system_poll_wait_seconds=0)
    model_manager.start()
    yield model_manager
    model_manager.stop()


@pytest.fixture(scope="session")
def server_target(manager):
    server, target = start_server(manager)
    yield target
    server.stop(grace=None)


@pytest.fixture(scope="session")
def stub(server_target):
    """This package's own generated stub."""
    channel = grpc.insecure_channel(server_target)
    yield pb2_grpc.GRPCInferenceServiceStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def triton(server_target):
    """The official tritonclient.grpc client, as any OIP user would connect."""
    import tritonclient.grpc

    client = tritonclient.grpc.InferenceServerClient(url=server_target)
    yield client
    client.close()


@pytest.fixture(scope="session")
def batching_triton(tmp_path_factory):
    base = tmp_path_factory.mktemp("oip_batching")
    savedmodels.export_half_plus_two(base / "batched", 1)
    options = BatchingOptions(max_batch_size=16, batch_timeout_micros=300,
                              allowed_batch_sizes=(4, 16), num_batch_threads=1)
    manager = ModelManager(model_config({"batched": base / "batched"}),
                           load=VersionLoader(batching=BatchingPolicy(options)).load,
                           file_system_poll_wait_seconds=0)
    manager.start()
    server, target = start_server(manager)
    import tritonclient.grpc

    client = tritonclient.grpc.InferenceServerClient(url=target)
    yield client
    client.close()
    server.stop(grace=None)
    manager.stop()
