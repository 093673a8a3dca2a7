"""TF Serving's logging_config in a model config: what is read, and the mistakes refused."""

import pytest

from serving import errors
from serving.apis.tfs import model_config as config_lib
from serving.apis.tfs.request_logger import RequestLogConfig


def _parse(logging_config: str, name: str = "m"):
    return config_lib.parse_model_config_text(
        f'model_config_list {{ config {{ name: "{name}" base_path: "/models/{name}" '
        f"logging_config {{ {logging_config} }} }} }}", source="models.config")


def test_logging_config_is_read_as_prefix_and_rate(tmp_path):
    config = _parse(f'log_collector_config {{ type: "tfrecord" filename_prefix: "{tmp_path}/m" }} '
                    "sampling_config { sampling_rate: 0.25 }")
    assert config_lib.request_log_configs(config) == {
        "m": RequestLogConfig(f"{tmp_path}/m", 0.25)}


def test_an_empty_collector_type_means_tfrecord_and_a_relative_prefix_is_made_absolute(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _parse('log_collector_config { filename_prefix: "logs/m" } '
                    "sampling_config { sampling_rate: 1 }")
    assert config_lib.request_log_configs(config)["m"].filename_prefix == f"{tmp_path}/logs/m"


def test_models_without_logging_config_are_not_logged():
    config = config_lib.parse_model_config_text(
        'model_config_list { config { name: "quiet" base_path: "/models/quiet" } }')
    assert config_lib.request_log_configs(config) == {}


@pytest.mark.parametrize("logging_config, message", [
    ('log_collector_config { type: "kafka" filename_prefix: "/tmp/m" }',
     'logging_config.log_collector_config.type: only "tfrecord" (TFRecord files of '
     "PredictionLog) is written. Received: type='kafka'"),
    ("log_collector_config { } sampling_config { sampling_rate: 0.1 }",
     "logging_config.log_collector_config.filename_prefix is empty"),
    ('log_collector_config { filename_prefix: "/tmp/m" } sampling_config { sampling_rate: 1.5 }',
     "logging_config.sampling_config.sampling_rate must be in [0, 1] (the fraction of requests "
     "logged). Received: sampling_rate=1.5"),
    ('log_collector_config { filename_prefix: "/tmp/m" } sampling_config { sampling_rate: nan }',
     "sampling_rate must be in [0, 1]"),
    ('log_collector_config { filename_prefix: "/tmp/m" } '
     "sampling_config { sampling_rate: 0.1 attributes: 1 }",
     "logging_config.sampling_config.attributes is not supported"),
    ('log_collector_config { filename_prefix: "/tmp/m" } '
     "sampling_config { per_task_sampling_configs { task_index: 1 sampling_rate: 0.5 } }",
     "logging_config.sampling_config.per_task_sampling_configs is not supported"),
])
def test_unusable_logging_configs_are_refused_naming_file_model_and_field(logging_config, message):
    with pytest.raises(errors.InvalidArgument) as caught:
        _parse(logging_config)
    assert caught.value.message.startswith(
        "models.config: model_config_list.config[0] (model 'm').logging_config")
    assert message in caught.value.message
