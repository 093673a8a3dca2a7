"""The model list in TF Serving's `ModelServerConfig` format, validated, in the manager's terms.

`--model_config_file` holds `model_config_list { config { name base_path model_platform
model_version_policy version_labels logging_config } }` exactly as tensorflow_model_server reads
it, so a config written for TF Serving works here unchanged; HandleReloadConfigRequest sends the
same message. Everything the manager relies on is checked once, here, every error names the file,
the line when the parser knows it, and the field; `model_configs` turns the result into the
manager's serving.core ModelConfigs and `request_log_configs` into the request loggers' configs:

    logging_config {
      log_collector_config { type: "tfrecord" filename_prefix: "/var/log/zoo/requests/mnist" }
      sampling_config { sampling_rate: 0.01 }
    }
"""

from __future__ import annotations

import logging
import math
import os
import re

from tensorflow_serving.config import model_server_config_pb2

from serving import errors
from serving.apis.tfs.request_logger import TFRECORD_COLLECTOR, RequestLogConfig
from serving.core import ModelConfig, VersionPolicy
from serving.text_config import TextProtoError, parse_text_proto

logger = logging.getLogger("serving.core")

ModelServerConfig = model_server_config_pb2.ModelServerConfig

_PLATFORM = "tensorflow"
_CUSTOM_MODEL_CONFIG = re.compile(r"^\s*custom_model_config\b", re.MULTILINE)


def parse_model_config_text(text: str, *, source: str = "model config") -> ModelServerConfig:
    """Parses and validates a ModelServerConfig in text format.

    `source` names where the text came from (a file path) in error messages. Relative base
    paths are made absolute against the current directory.

    Raises:
        errors.InvalidArgument: a syntax error, in TF Serving's words with line and column, or an
            invalid field.
    """
    try:
        config = parse_text_proto(text, ModelServerConfig(), source=source)
    except TextProtoError as error:
        if _CUSTOM_MODEL_CONFIG.search(text):
            # Its payload is a type only TF Serving's own build knows, so parsing fails first.
            raise errors.InvalidArgument(_custom_model_config_refusal(source)) from None
        raise errors.InvalidArgument(str(error)) from None
    return validate_model_server_config(config, source=source)


def load_model_config_file(path: str) -> ModelServerConfig:
    """Reads, parses and validates the model config file at `path`.

    Raises:
        errors.NotFound: the file does not exist.
        errors.InvalidArgument: it cannot be read, parsed or validated.
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise errors.NotFound(f"Model config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise errors.InvalidArgument(f"Cannot read model config file {path}: {error}") from None
    return parse_model_config_text(text, source=path)


def single_model_config(name: str, base_path: str) -> ModelServerConfig:
    """The config `--model_name NAME --model_base_path PATH` stands for: one model, latest."""
    config = ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = name
    model.base_path = base_path
    model.model_platform = _PLATFORM
    return validate_model_server_config(config, source="--model_name/--model_base_path")


def validate_model_server_config(config: ModelServerConfig, *, source: str = "model config"
                                 ) -> ModelServerConfig:
    """Checks a ModelServerConfig and returns a copy with absolute base paths.

    Used for config files and for configs that arrive over the wire (HandleReloadConfigRequest),
    so both get the same checks and messages.

    Raises:
        errors.InvalidArgument: naming `source`, the config entry and the offending field.
    """
    kind = config.WhichOneof("config")
    if kind == "custom_model_config":
        raise errors.InvalidArgument(_custom_model_config_refusal(source))
    result = ModelServerConfig()
    result.CopyFrom(config)
    seen: dict[str, int] = {}
    for index, model in enumerate(result.model_config_list.config):
        where = f"{source}: model_config_list.config[{index}]"
        _validate_model_config(model, where)
        if model.name in seen:
            raise errors.InvalidArgument(
                f"{where}.name: duplicate model name {model.name!r} "
                f"(already used by model_config_list.config[{seen[model.name]}])"
            )
        seen[model.name] = index
        model.base_path = os.path.abspath(model.base_path)
        if model.HasField("logging_config"):
            prefix = model.logging_config.log_collector_config.filename_prefix
            model.logging_config.log_collector_config.filename_prefix = os.path.abspath(prefix)
    return result


def _custom_model_config_refusal(source: str) -> str:
    return (f"{source}: custom_model_config is not supported; list the models in "
            "model_config_list { config { name: ... base_path: ... } }")


def _validate_model_config(model: model_server_config_pb2.ModelConfig, where: str) -> None:
    if not model.name:
        raise errors.InvalidArgument(f"{where}.name is empty: every model needs a name")
    where = f"{where} (model {model.name!r})"
    if not model.base_path:
        raise errors.InvalidArgument(
            f"{where}.base_path is empty: set it to the directory holding the version dirs"
        )
    if model.model_platform not in ("", _PLATFORM):
        raise errors.InvalidArgument(
            f"{where}.model_platform: only \"{_PLATFORM}\" is served. "
            f"Received: model_platform={model.model_platform!r}"
        )
    if model.model_type == model_server_config_pb2.ModelType.OTHER:
        raise errors.InvalidArgument(f"{where}.model_type: only TENSORFLOW models are served")
    policy = model.model_version_policy
    if policy.WhichOneof("policy_choice") == "specific":
        versions = set(policy.specific.versions)
        if not versions:
            # TF Serving accepts this and serves nothing; say so loudly, as it does.
            logger.warning("event=config_warning model=%s message=%r", model.name,
                           "model_version_policy.specific lists no versions: nothing is served")
        if any(version < 0 for version in versions):
            raise errors.InvalidArgument(
                f"{where}.model_version_policy.specific.versions must be non-negative. "
                f"Received: versions={sorted(versions)}"
            )
    if model.HasField("logging_config"):
        _validate_logging_config(model.logging_config, f"{where}.logging_config")
    for label, version in sorted(model.version_labels.items()):
        if not label:
            raise errors.InvalidArgument(f"{where}.version_labels: a label name is empty")
        if version < 0:
            raise errors.InvalidArgument(
                f"{where}.version_labels[{label!r}] must be a non-negative version. "
                f"Received: {version}"
            )
        specific = policy.WhichOneof("policy_choice") == "specific"
        if specific and version not in policy.specific.versions:
            raise errors.InvalidArgument(
                f"{where}.version_labels[{label!r}] points to version {version}, which "
                f"model_version_policy.specific does not serve (versions: "
                f"{sorted(policy.specific.versions)})"
            )


def _validate_logging_config(logging_config, where: str) -> None:
    collector = logging_config.log_collector_config
    if collector.type not in ("", TFRECORD_COLLECTOR):
        raise errors.InvalidArgument(
            f'{where}.log_collector_config.type: only "{TFRECORD_COLLECTOR}" (TFRecord files of '
            f"PredictionLog) is written. Received: type={collector.type!r}")
    if not collector.filename_prefix:
        raise errors.InvalidArgument(
            f"{where}.log_collector_config.filename_prefix is empty: set it to the path the log "
            'files start with, e.g. "/var/log/zoo/requests/MODEL"')
    sampling = logging_config.sampling_config
    rate = sampling.sampling_rate
    if math.isnan(rate) or not 0.0 <= rate <= 1.0:
        raise errors.InvalidArgument(
            f"{where}.sampling_config.sampling_rate must be in [0, 1] (the fraction of requests "
            f"logged). Received: sampling_rate={rate}")
    for field in ("per_task_sampling_configs", "attributes"):
        if getattr(sampling, field):
            raise errors.InvalidArgument(
                f"{where}.sampling_config.{field} is not supported; remove it (sampling_rate "
                "applies to every request)")
    if logging_config.HasField("custom_logging_config"):
        raise errors.InvalidArgument(
            f"{where}.custom_logging_config is not supported; use log_collector_config")


def request_log_configs(config: ModelServerConfig) -> dict[str, RequestLogConfig]:
    """Model name -> its request logging, for the models of a validated ModelServerConfig that
    have a logging_config."""
    return {
        model.name: RequestLogConfig(model.logging_config.log_collector_config.filename_prefix,
                                     model.logging_config.sampling_config.sampling_rate)
        for model in config.model_config_list.config if model.HasField("logging_config")}


def model_configs(config: ModelServerConfig) -> tuple[ModelConfig, ...]:
    """The manager's ModelConfigs for a validated ModelServerConfig."""
    return tuple(
        ModelConfig(name=model.name, base_path=model.base_path,
                    policy=version_policy(model.model_version_policy),
                    labels=dict(model.version_labels))
        for model in config.model_config_list.config)


def version_policy(proto) -> VersionPolicy:
    """The manager's VersionPolicy for a `ServableVersionPolicy`; unset means latest{1}, and
    latest{num_versions: 0} means 1, as in TF Serving."""
    choice = proto.WhichOneof("policy_choice")
    if choice == "all":
        return VersionPolicy(kind="all")
    if choice == "specific":
        return VersionPolicy(kind="specific", versions=frozenset(proto.specific.versions))
    return VersionPolicy(kind="latest", num_versions=max(proto.latest.num_versions, 1))
