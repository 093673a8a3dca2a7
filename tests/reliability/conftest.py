"""Fixtures for the reliability and security tests: tiny SavedModels, real ModelServers on
127.0.0.1, and a good client that keeps sending requests while a test misbehaves.

The SavedModel exporters, the server starter, the HTTP client and the reliability helpers are
in the tests.support package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.reliability_harness import GoodTraffic
from tests.support.server_harness import ServerStarter, model_config_text


@pytest.fixture(scope="session")
def start_server():
    """start_server(*flags) -> RunningServer on 127.0.0.1 and a free port; stopped at the end."""
    starter = ServerStarter()
    yield starter
    starter.stop_all()


@pytest.fixture(scope="session")
def reliability_models(tmp_path_factory) -> Path:
    """Read-only exports: half_plus_two v1 (0.5x+2) and v2 (2x+1), multi_io v1, tf1 v1."""
    from tests.support import savedmodels

    root = tmp_path_factory.mktemp("reliability-models")
    savedmodels.export_half_plus_two(root / "half_plus_two", 1)
    savedmodels.export_half_plus_two(root / "half_plus_two", 2, slope=2.0, offset=1.0)
    savedmodels.export_multi_io(root / "multi_io", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    return root


@pytest.fixture(scope="session")
def shared_config_file(reliability_models, tmp_path_factory) -> Path:
    """Every read-only model; half_plus_two serves both versions, labels stable=1, canary=2."""
    path = tmp_path_factory.mktemp("reliability-config") / "models.config"
    path.write_text(model_config_text(
        {name: str(reliability_models / name) for name in ("half_plus_two", "multi_io", "tf1")},
        extra={"half_plus_two": 'model_version_policy { all {} } '
                                'version_labels { key: "stable" value: 1 } '
                                'version_labels { key: "canary" value: 2 }'},
    ))
    return path


@pytest.fixture
def good_traffic():
    """good_traffic(target, ...) -> a GoodTraffic context manager (see its docstring)."""
    return GoodTraffic
