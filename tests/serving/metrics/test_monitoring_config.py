"""--monitoring_config_file: TF Serving's MonitoringConfig text format."""

import pytest

from serving import errors
from serving.metrics.monitoring_config import (DEFAULT_PROMETHEUS_PATH, load_monitoring_config,
                                               prometheus_path)


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "monitoring.config"
    path.write_text(text)
    return str(path)


def test_tf_serving_testdata_file_parses(tmp_path):
    # tensorflow_serving/servables/tensorflow/testdata/monitoring_config.txt
    config = load_monitoring_config(_write(
        tmp_path, 'prometheus_config: {\n  enable: true,\n  path: "/monitoring/prometheus/metrics"\n}\n'))
    assert prometheus_path(config) == "/monitoring/prometheus/metrics"


def test_empty_path_means_tf_serving_default(tmp_path):
    config = load_monitoring_config(_write(tmp_path, "prometheus_config { enable: true }"))
    assert prometheus_path(config) == DEFAULT_PROMETHEUS_PATH == "/monitoring/prometheus/metrics"


def test_disabled_or_empty_config_serves_no_page(tmp_path):
    assert prometheus_path(load_monitoring_config(_write(tmp_path, ""))) is None
    assert prometheus_path(load_monitoring_config(_write(
        tmp_path, 'prometheus_config { enable: false path: "/m" }'))) is None


def test_field_numbers_match_tf_serving():
    from serving.metrics import monitoring_config_pb2

    prometheus = monitoring_config_pb2.PrometheusConfig.DESCRIPTOR
    assert monitoring_config_pb2.MonitoringConfig.DESCRIPTOR.full_name == "tensorflow.serving.MonitoringConfig"
    assert {field.name: field.number for field in prometheus.fields} == {"enable": 1, "path": 2}
    assert monitoring_config_pb2.MonitoringConfig.DESCRIPTOR.fields_by_name["prometheus_config"].number == 1


def test_unknown_field_is_an_error_naming_the_file(tmp_path):
    path = _write(tmp_path, "prometheus_config { enabled: true }")
    with pytest.raises(errors.InvalidArgument) as caught:
        load_monitoring_config(path)
    assert caught.value.message.startswith(
        "Error parsing text-format tensorflow.serving.MonitoringConfig: 1:21: ")
    assert f"--monitoring_config_file={path}" in caught.value.message


def test_relative_path_is_refused(tmp_path):
    with pytest.raises(errors.InvalidArgument, match="prometheus_config.path must start with '/'"):
        load_monitoring_config(_write(tmp_path, 'prometheus_config { enable: true path: "metrics" }'))


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(errors.InvalidArgument, match="cannot be read: No such file or directory"):
        load_monitoring_config(str(tmp_path / "absent.config"))
