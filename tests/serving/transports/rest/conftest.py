"""A real ModelServer with its REST port on loopback, shared by the REST and parity tests.

Models (exported once per test session, per xdist worker; the first three are
tests/serving/conftest.py's `model_root`, which other server tests share):
- `half_plus_two`: versions 1 (y = 0.5x + 2) and 2 (y = 2x + 1), both loaded; labels stable -> 1,
  canary -> 2. TF Serving's api_rest.md examples use this model.
- `multi_io`: features float32 [None,3], ids int64 [None], names string [None] -> total,
  doubled_ids, greeting; a second signature `sum_only`.
- `tf1`: TF1 graph with `classify` (classes, scores) and `regress` (0.5x + 2) over tf.Example x.
- `bytes_echo`: data string [None] -> echo_bytes and echo_text (the same strings), to see which
  output names come back base64.
- `sleeper`: x float32 [None], sleep_micros int64 [] -> y = 2x after sleeping (no CPU used).

The server runs with --rest_api_timeout_in_ms=1500, --rest_api_max_request_bytes=1000000 and the
Prometheus page on its default path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.rest_harness import MAX_REQUEST_BYTES, TIMEOUT_MS, RestClient, export_bytes_echo
from tests.support.savedmodels import export_request_sleeper
from tests.support.server_harness import free_port


@pytest.fixture(scope="session")
def rest_models(model_root, tmp_path_factory) -> dict[str, Path]:
    """Model name -> base path: tests/serving/conftest.py's `model_root` models (shared with the
    other server tests in this session) plus bytes_echo and sleeper."""
    root = tmp_path_factory.mktemp("rest-models")
    export_bytes_echo(root / "bytes_echo")
    export_request_sleeper(root / "sleeper")
    return {"half_plus_two": model_root / "half_plus_two", "multi_io": model_root / "multi_io",
            "tf1": model_root / "tf1", "bytes_echo": root / "bytes_echo", "sleeper": root / "sleeper"}


@pytest.fixture(scope="session")
def rest_server(rest_models, start_model_server, tmp_path_factory):
    """The shared server (a tests/serving/conftest.py RunningServer) with REST and metrics."""
    config_dir = tmp_path_factory.mktemp("rest-config")
    entries = []
    for name, base_path in rest_models.items():
        extra = ('model_version_policy { all {} } version_labels { key: "stable" value: 1 } '
                 'version_labels { key: "canary" value: 2 }') if name == "half_plus_two" else ""
        entries.append(f'config {{ name: "{name}" base_path: "{base_path}" '
                       f'model_platform: "tensorflow" {extra} }}')
    (config_dir / "models.config").write_text("model_config_list {\n" + "\n".join(entries) + "\n}\n")
    (config_dir / "monitoring.config").write_text("prometheus_config { enable: true }\n")
    return start_model_server(
        f"--model_config_file={config_dir / 'models.config'}", "--file_system_poll_wait_seconds=0",
        f"--rest_api_port={free_port()}", f"--rest_api_timeout_in_ms={TIMEOUT_MS}",
        f"--rest_api_max_request_bytes={MAX_REQUEST_BYTES}",
        f"--monitoring_config_file={config_dir / 'monitoring.config'}")


@pytest.fixture(scope="session")
def rest(rest_server) -> RestClient:
    return RestClient(rest_server.server.rest.port)


@pytest.fixture(scope="session")
def triton_http(rest_server):
    """The official tritonclient.http client on the REST port, as any OIP user would connect.

    One per session: the client closes its connection pool again when garbage-collected, which
    fails noisily if that happens on another thread, so it is kept until the session ends.
    """
    import tritonclient.http

    client = tritonclient.http.InferenceServerClient(url=f"127.0.0.1:{rest_server.server.rest.port}",
                                                     network_timeout=30.0)
    yield client
    client.close()
