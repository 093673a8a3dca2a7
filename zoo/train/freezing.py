"""Which backbone layers train in each fine-tuning phase.

Backbones are cut into named blocks from their layer names (keras.applications' conventions:
`block5_conv1` VGG, `conv5_block3_out` ResNet/DenseNet, `block_16_project` MobileNetV2,
`expanded_conv_3_...` MobileNetV3, `block6a_...` EfficientNet(-Lite), and InceptionV3's `mixedN`
concatenations that close a block). Layers before the first block form the "stem"; layers after
the last one (e.g. `top_conv`, `Conv_1`) belong to the last block.

BatchNormalization layers never train while fine-tuning: a frozen Keras BN layer runs in
inference mode, which keeps the pretrained statistics a small dataset would otherwise wreck.
"""

from __future__ import annotations

import re

import keras

from zoo.errors import ConfigError

BLOCK_NAME = (
    re.compile(r"^(conv\d+_block\d+)_"),
    re.compile(r"^(block_?\d+[a-z]?)_"),
    re.compile(r"^(expanded_conv(?:_\d+)?)_"),
)
BLOCK_END = re.compile(r"^mixed\d+$")
STEM = "stem"


def backbone_layers(backbone: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in backbone.layers if not isinstance(layer, keras.layers.InputLayer)]


def backbone_blocks(backbone: keras.Model) -> dict[str, list[keras.layers.Layer]]:
    """Ordered block name -> its layers."""
    layers = backbone_layers(backbone)
    blocks: dict[str, list[keras.layers.Layer]] = {}
    if any(BLOCK_END.match(layer.name) for layer in layers):
        pending: list[keras.layers.Layer] = []
        for layer in layers:
            pending.append(layer)
            if BLOCK_END.match(layer.name):
                blocks[layer.name] = pending
                pending = []
        if pending:
            blocks.setdefault(list(blocks)[-1] if blocks else STEM, []).extend(pending)
        return blocks
    current = STEM
    for layer in layers:
        match = next((m for m in (p.match(layer.name) for p in BLOCK_NAME) if m), None)
        if match:
            current = match.group(1)
        blocks.setdefault(current, []).append(layer)
    return blocks


def freeze_backbone(backbone: keras.Model) -> None:
    """Phase 1: nothing in the backbone trains (BN layers included, so they infer)."""
    backbone.trainable = False


def unfreeze_top(backbone: keras.Model, *, top_blocks: int | None = None, from_layer: str | None = None) -> list[str]:
    """Phase 2: unfreeze the last `top_blocks` blocks, or every layer from `from_layer` on;
    BatchNormalization stays frozen. Returns the names of the blocks (or layers) unfrozen."""
    if (top_blocks is None) == (from_layer is None):
        raise ConfigError("give exactly one of unfreeze_top and unfreeze_from")
    layers = backbone_layers(backbone)
    if from_layer is not None:
        names = [layer.name for layer in layers]
        if from_layer not in names:
            starts = ", ".join(blocks_first_layers(backbone)[-4:])
            raise ConfigError(
                f"unfreeze_from: the backbone has no layer {from_layer!r}; block starts near the top: {starts}"
            )
        chosen = layers[names.index(from_layer):]
        unfrozen = [from_layer]
    else:
        if top_blocks < 0:
            raise ConfigError(f"unfreeze_top must be >= 0. Received: unfreeze_top={top_blocks}")
        blocks = backbone_blocks(backbone)
        unfrozen = list(blocks)[-top_blocks:] if top_blocks else []
        chosen = [layer for name in unfrozen for layer in blocks[name]]
    backbone.trainable = True
    chosen_ids = {id(layer) for layer in chosen}
    for layer in layers:
        layer.trainable = id(layer) in chosen_ids and not isinstance(layer, keras.layers.BatchNormalization)
    return unfrozen


def blocks_first_layers(backbone: keras.Model) -> list[str]:
    return [layers[0].name for layers in backbone_blocks(backbone).values()]


def trainable_summary(model: keras.Model) -> dict[str, int]:
    """Counts that go into the model card, so a reader can check what really trained."""
    backbone = model.get_layer("backbone")
    return {
        "trainable_parameters": int(sum(keras.ops.size(w) for w in model.trainable_weights)),
        "backbone_trainable_layers": sum(
            1 for layer in backbone_layers(backbone) if layer.trainable and layer.weights
        ),
    }
