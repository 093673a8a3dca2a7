"""--monitoring_config_file: TF Serving's MonitoringConfig in text format.

    prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }

An empty path means TF Serving's default path.
"""

from __future__ import annotations

from serving import errors
from serving.text_config import TextProtoError, parse_text_proto
from serving.metrics import monitoring_config_pb2

DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"


def load_monitoring_config(path: str) -> monitoring_config_pb2.MonitoringConfig:
    """Reads and parses a MonitoringConfig text file.

    Raises errors.InvalidArgument naming the file and the problem (unreadable, not a
    MonitoringConfig, a Prometheus path that does not start with "/").
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise errors.InvalidArgument(
            f"--monitoring_config_file={path} cannot be read: {error.strerror or error}") from None
    try:
        config = parse_text_proto(text, monitoring_config_pb2.MonitoringConfig(),
                                  source=f"--monitoring_config_file={path}")
    except TextProtoError as error:
        raise errors.InvalidArgument(
            f"{error}. Example: prometheus_config {{ enable: true path: "
            '"/monitoring/prometheus/metrics" }') from None
    metrics_path = config.prometheus_config.path
    if metrics_path and not metrics_path.startswith("/"):
        raise errors.InvalidArgument(
            f"--monitoring_config_file={path}: prometheus_config.path must start with '/'. "
            f"Received: path={metrics_path!r}")
    return config


def prometheus_path(config: monitoring_config_pb2.MonitoringConfig) -> str | None:
    """The path of the metrics page, or None when Prometheus export is off."""
    if not config.prometheus_config.enable:
        return None
    return config.prometheus_config.path or DEFAULT_PROMETHEUS_PATH
