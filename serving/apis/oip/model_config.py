"""Triton's model configuration extension: a served model as Triton's ModelConfig describes it.

Triton's tools read a model's configuration before anything else: perf_analyzer learns from it
whether the model takes batches (`max_batch_size`) and how the server schedules it, and
tritonclient users read the data types and dims. The configuration is worked out from what the
server actually does with the version, never stored:

- `platform`: "tensorflow_savedmodel", or "tensorflow_lite" for a version served from its
  model.tflite (--prefer_tflite_model).
- `max_batch_size`: 0 when the serving_default signature has no batch dimension (some input or
  output lacks a dimension 0 of any size); then the dims are the whole shapes. Otherwise the dims
  leave dimension 0 out, and `max_batch_size` is the batching parameters' max_batch_size when the
  server batches the signature, or NO_BATCH_LIMIT when it does not: TF Serving then runs a
  request of any size, and Triton's configuration has no way to say "no limit" but a large one.
- `dynamic_batching`: present when the server batches the signature (--enable_batching), with
  the batching parameters' allowed_batch_sizes as the preferred sizes (the sizes batches are
  padded to) and batch_timeout_micros as the queue delay.

A tensor that holds one scalar per example (signature shape [-1]) has dims []: the truth, where
Triton would write dims [1] and a reshape to []. perf_analyzer's Triton service kind cannot make
inputs of that shape (it refuses empty shapes); its TF Serving kind loads such models.
"""

from __future__ import annotations

import dataclasses

from serving.apis.oip import datatypes
from serving.apis.oip.inference import (DEFAULT_SIGNATURE, PLATFORMS, default_signature,
                                        parse_version, tensor_shape)
from serving.batching import is_batchable

# The max_batch_size of a batchable model served without batching: INT32_MAX, the largest value
# ModelConfig.max_batch_size holds.
NO_BATCH_LIMIT = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class TensorConfig:
    """One input or output: `data_type` is Triton's name ("TYPE_FP32"); -1 in `dims` is a
    dimension of any size."""

    name: str
    data_type: str
    dims: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class DynamicBatching:
    preferred_batch_sizes: tuple[int, ...]
    max_queue_delay_microseconds: int


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    name: str
    platform: str
    max_batch_size: int
    inputs: tuple[TensorConfig, ...]
    outputs: tuple[TensorConfig, ...]
    dynamic_batching: DynamicBatching | None = None


def config_data_type(datatype: datatypes.Datatype) -> str:
    """Triton's model configuration name of a protocol datatype: TYPE_<name>, BYTES being
    TYPE_STRING."""
    return "TYPE_STRING" if datatype.is_bytes else f"TYPE_{datatype.name}"


def model_config(manager, name: str, version: str, call) -> ModelConfig:
    """The configuration of the version a request naming `version` ("" for the latest, a number
    or a label) would be served by.

    Raises:
        errors.NotFound: unknown model, or no such available version.
        errors.FailedPrecondition: the model has no serving_default signature.
        errors.Unimplemented: a signature tensor has a dtype with no protocol datatype.
    """
    call.target(name, label=version or None)
    number, label = parse_version(name, version)
    with manager.servable(name, number, label) as servable:
        signature_def = default_signature(servable, "ModelConfig")
        platform = PLATFORMS[servable.model_format]
        batcher = servable.batcher_for(DEFAULT_SIGNATURE)
    batched = is_batchable(signature_def)
    dynamic_batching = None
    if not batched:
        max_batch_size = 0
    elif batcher is None:
        max_batch_size = NO_BATCH_LIMIT
    else:
        options = batcher.options
        max_batch_size = options.max_batch_size
        dynamic_batching = DynamicBatching(tuple(options.allowed_batch_sizes),
                                           options.batch_timeout_micros)
    return ModelConfig(
        name=name,
        platform=platform,
        max_batch_size=max_batch_size,
        inputs=_tensor_configs(signature_def.inputs, batched),
        outputs=_tensor_configs(signature_def.outputs, batched),
        dynamic_batching=dynamic_batching,
    )


def _tensor_configs(tensor_infos, batched: bool) -> tuple[TensorConfig, ...]:
    configs = []
    for name in sorted(tensor_infos):
        tensor_info = tensor_infos[name]
        shape = tensor_shape(tensor_info)
        data_type = config_data_type(datatypes.from_tf_dtype(tensor_info.dtype))
        configs.append(TensorConfig(name, data_type, shape[1:] if batched else shape))
    return tuple(configs)
