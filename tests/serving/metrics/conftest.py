"""A real ModelServer with the Prometheus page on its REST port, for the scrape tests.

It serves version 1 of tests/serving/conftest.py's half_plus_two as `scraped`, a name no other
test uses, so counts read from the process-wide metrics belong to these tests alone.
"""

import http.client
import socket

import pytest

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def metrics_server(model_root, start_model_server, tmp_path_factory):
    config_dir = tmp_path_factory.mktemp("metrics-config")
    (config_dir / "models.config").write_text(
        f'model_config_list {{ config {{ name: "scraped" base_path: "{model_root / "half_plus_two"}" '
        'model_platform: "tensorflow" model_version_policy { specific { versions: 1 } } } }\n')
    (config_dir / "monitoring.config").write_text("prometheus_config { enable: true }\n")
    return start_model_server(f"--model_config_file={config_dir / 'models.config'}",
                              "--file_system_poll_wait_seconds=0", f"--rest_api_port={free_port()}",
                              f"--monitoring_config_file={config_dir / 'monitoring.config'}")


@pytest.fixture
def http_call(metrics_server):
    """`http_call(method, path, body=None) -> (status, body bytes)` on the server's REST port."""

    def call(method: str, path: str, body: bytes | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", metrics_server.server.rest.port, timeout=30)
        try:
            connection.request(method, path, body=body)
            response = connection.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            connection.close()

    return call
