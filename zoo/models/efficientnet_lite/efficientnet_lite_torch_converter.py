"""Put the reference PyTorch EfficientNet-Lite0 state_dict into the Keras EfficientNet-Lite0 backbone.

The source is `efficientnet_lite_pytorch`'s naming (`_conv_stem`, `_blocks.<i>._expand_conv`,
`_bn0`..`_bn2`, `_conv_head`, `_fc`); the target is efficientnet_lite_backbone.py's layer names,
block by block as `mbconv_blocks` lists them for the Lite0 preset's stages (this module imports
the backbone, never the reverse).

Every source tensor must land in exactly one Keras weight with exactly the right shape, and every
Keras weight must be filled: anything else is an error, because a silently skipped tensor gives a
model that runs and is wrong.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from zoo.models.efficientnet_lite.efficientnet_lite_backbone import mbconv_blocks
from zoo.models.efficientnet_lite.efficientnet_lite_presets import BACKBONE_PRESETS

# Torch's BatchNorm step counter: training bookkeeping with no Keras counterpart.
_BATCH_COUNTER = "num_batches_tracked"


def _conv_kernel(t: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [t["weight"].transpose(2, 3, 1, 0)]  # (out, in, kh, kw) -> (kh, kw, in, out)


def _depthwise_kernel(t: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [t["weight"].transpose(2, 3, 0, 1)]  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)


def _batch_norm(t: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [t["weight"], t["bias"], t["running_mean"], t["running_var"]]  # gamma, beta, mean, variance


def _dense(t: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [t["weight"].T, t["bias"]]  # (out, in) -> (in, out)


@dataclasses.dataclass(frozen=True)
class _LayerKind:
    """How one kind of torch module's tensors become one Keras layer's weights."""

    source_names: tuple[str, ...]
    to_keras: Callable[[dict[str, np.ndarray]], list[np.ndarray]]


_CONV = _LayerKind(("weight",), _conv_kernel)
_DEPTHWISE = _LayerKind(("weight",), _depthwise_kernel)
_BATCH_NORM = _LayerKind(("weight", "bias", "running_mean", "running_var"), _batch_norm)
_DENSE = _LayerKind(("weight", "bias"), _dense)

# Inside `_blocks.<i>`: torch module -> (Keras layer suffix, kind).
_BLOCK_MODULES = {
    "_expand_conv": ("expand_conv", _CONV),
    "_bn0": ("expand_bn", _BATCH_NORM),
    "_depthwise_conv": ("dwconv", _DEPTHWISE),
    "_bn1": ("bn", _BATCH_NORM),
    "_project_conv": ("project_conv", _CONV),
    "_bn2": ("project_bn", _BATCH_NORM),
}
# Present only in blocks whose expand ratio is not 1 (all but block1a).
_EXPANSION_MODULES = ("_expand_conv", "_bn0")


def _left_out_on_purpose(name: str, include_top: bool) -> bool:
    return name.endswith("." + _BATCH_COUNTER) or (not include_top and name.startswith("_fc."))


@dataclasses.dataclass(frozen=True)
class PortReport:
    """What a conversion did: values written into Keras weights, and source tensors left out on purpose."""

    mapped_parameters: int
    skipped_tensors: tuple[str, ...]


def lite0_layer_mapping(include_top: bool) -> list[tuple[str, str, _LayerKind]]:
    """(torch module prefix, Keras layer name, kind) for every layer that holds weights."""
    stages = BACKBONE_PRESETS["efficientnet_lite0"]["config"]["stages"]
    mapping = [("_conv_stem", "stem_conv", _CONV), ("_bn0", "stem_bn", _BATCH_NORM)]
    for index, (block, stage, _) in enumerate(mbconv_blocks(stages)):
        for module, (suffix, kind) in _BLOCK_MODULES.items():
            if module in _EXPANSION_MODULES and stage.expand_ratio == 1:
                continue
            mapping.append((f"_blocks.{index}.{module}", f"{block}_{suffix}", kind))
    mapping += [("_conv_head", "top_conv", _CONV), ("_bn1", "top_bn", _BATCH_NORM)]
    if include_top:
        mapping.append(("_fc", "predictions", _DENSE))
    return mapping


def port_lite0_weights(model, state_dict: dict[str, np.ndarray], include_top: bool) -> PortReport:
    """Write the reference state_dict into `model` (a Keras EfficientNet-Lite0) layer by layer.

    With `include_top=False` the classifier (`_fc.*`) is left out. BatchNorm step counters are
    always left out. Everything is checked before any weight is written: a ValueError, naming the
    tensors or layers concerned, if a source tensor is missing, left unused or of the wrong shape,
    or if a Keras layer would stay unfilled; the model is then unchanged.
    """
    assignments = []
    consumed: set[str] = set()
    for prefix, layer_name, kind in lite0_layer_mapping(include_top):
        missing = [f"{prefix}.{n}" for n in kind.source_names if f"{prefix}.{n}" not in state_dict]
        if missing:
            raise ValueError(f"state_dict lacks {missing} needed for Keras layer {layer_name!r}")
        values = kind.to_keras({n: state_dict[f"{prefix}.{n}"] for n in kind.source_names})
        try:
            layer = model.get_layer(layer_name)
        except ValueError as error:
            raise ValueError(f"model has no layer {layer_name!r} to receive {prefix}.*") from error
        expected = [tuple(w.shape) for w in layer.weights]
        received = [tuple(v.shape) for v in values]
        if expected != received:
            raise ValueError(
                f"shape mismatch for {prefix}.* -> {layer_name}: "
                f"Keras expects {expected}, converted tensors are {received}"
            )
        assignments.append((layer, values))
        consumed.update(f"{prefix}.{n}" for n in kind.source_names)

    skipped = sorted(name for name in set(state_dict) - consumed if _left_out_on_purpose(name, include_top))
    unused = sorted(set(state_dict) - consumed - set(skipped))
    if unused:
        raise ValueError(f"{len(unused)} source tensors have no place in the Keras model: {unused[:10]}")
    filled = {layer.name for layer, _ in assignments}
    unfilled = [layer.name for layer in model.layers if layer.weights and layer.name not in filled]
    if unfilled:
        raise ValueError(f"{len(unfilled)} Keras layers received no weights: {unfilled[:10]}")

    for layer, values in assignments:
        layer.set_weights([np.asarray(v, dtype=w.dtype) for v, w in zip(values, layer.weights)])
    mapped_parameters = sum(v.size for _, values in assignments for v in values)
    return PortReport(mapped_parameters=mapped_parameters, skipped_tensors=tuple(skipped))
