"""A real ModelServer with the Prometheus page on its REST port, for the scrape tests.

It serves version 1 of tests/serving/conftest.py's half_plus_two as `scraped`, a name no other
test uses, so counts read from the process-wide metrics belong to these tests alone.
"""

import pytest
from tests.support.http_harness import http_call as http_request
from tests.support.server_harness import free_port


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
        reply = http_request(metrics_server.server.rest.port, method, path, body)
        return reply.status, reply.body, reply.headers

    return call
