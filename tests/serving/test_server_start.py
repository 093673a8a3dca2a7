"""ModelServer.start's order, as TF Serving's: ports checked first, models loaded, then listened on.

A client that connects while the models load is refused at once and retries (TF Serving's own
test suite polls that way) instead of waiting out its deadline on a port that does not answer.
"""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest
from tests.support import savedmodels
from tests.support.server_harness import free_port, wait_until

from serving.errors import ServerStartError
from serving.options import ServerOptions
from serving.server import ModelServer

WARMUP_SLEEP_MICROS = 1_500_000


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_ports_are_listened_on_only_once_the_models_have_loaded(tmp_path):
    warmup = savedmodels.predict_request("slow", {"x": np.array([1.0], np.float32),
                                                  "sleep_micros": np.array(WARMUP_SLEEP_MICROS)})
    version = savedmodels.export_request_sleeper(tmp_path / "slow", 1)
    savedmodels.write_warmup_requests(version, [warmup])
    grpc_port, rest_port = free_port(), free_port()
    server = ModelServer(ServerOptions(model_name="slow", model_base_path=str(tmp_path / "slow"),
                                       port=grpc_port, rest_api_port=rest_port,
                                       grpc_bind_address="127.0.0.1",
                                       given=frozenset({"model_name", "model_base_path"})))
    starting = threading.Thread(target=server.start)
    starting.start()
    try:
        wait_until(lambda: server.manager is not None, message="the server builds its manager")
        assert _refused(grpc_port) and _refused(rest_port)  # loading: nothing listens yet
        starting.join(timeout=60)
        assert not _refused(grpc_port) and not _refused(rest_port)
    finally:
        starting.join(timeout=60)
        server.stop(grace=0)


def test_a_port_that_is_taken_fails_the_start_before_any_model_loads(tmp_path):
    savedmodels.export_half_plus_two(tmp_path / "m", 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = ModelServer(ServerOptions(model_base_path=str(tmp_path / "m"), port=port,
                                           grpc_bind_address="127.0.0.1"))
        with pytest.raises(ServerStartError, match=rf"cannot listen on 127\.0\.0\.1:{port} .*change --port"):
            server.start()
    assert server.manager.model_names() == []  # the manager never started: nothing loaded
