"""EfficientNet-Lite, one folder for the family (as keras-hub keeps one per model): the backbone,
its presets, the port of the reference PyTorch weights, and the keras.applications-style
constructor that puts weights into the backbone.

- efficientnet_lite_backbone.py: the architecture, with no weights;
- efficientnet_lite_presets.py: name -> the backbone's config and metadata (plain dicts);
- efficientnet_lite_torch_converter.py: the reference PyTorch state_dict -> the backbone's layers;
- efficientnet_lite_imagenet.py: the ImageNet weights, converted once, then read from the cache;
- efficientnet_lite0.py: `EfficientNetLite0(weights=...)`, the Lite0 preset's backbone plus its
  weights.

Imports go one way, from the constructor down to the backbone: efficientnet_lite0 ->
efficientnet_lite_imagenet -> efficientnet_lite_torch_converter -> efficientnet_lite_backbone and
efficientnet_lite_presets (the loader also uses zoo.weights' generic pieces). The backbone imports
none of the others, nor zoo.weights; .importlinter checks both.

`zoo.models.efficientnet_lite` is also the module that saved models name for `preprocess_input`
(zoo.models.layers.BackbonePreprocessing), so it stays importable from here.
"""

from zoo.models.efficientnet_lite.efficientnet_lite0 import EfficientNetLite0
from zoo.models.efficientnet_lite.efficientnet_lite_backbone import preprocess_input

__all__ = ["EfficientNetLite0", "preprocess_input"]
