"""EfficientNet-Lite, one folder for the family (as keras-hub keeps one per model): the backbone,
its presets, and the keras.applications-style constructor that puts weights into it.

- efficientnet_lite_backbone.py: the architecture, with no weights;
- efficientnet_lite_presets.py: name -> the backbone's config and metadata (plain dicts);
- efficientnet_lite0.py: `EfficientNetLite0(weights=...)`, the Lite0 preset's backbone plus its
  weights.

Weights flow one way: the modules that load or convert weights import the backbone, never the
reverse. `zoo.models.efficientnet_lite` is also the module that saved models name for
`preprocess_input` (zoo.models.layers.BackbonePreprocessing), so it stays importable from here.
"""

from zoo.models.efficientnet_lite.efficientnet_lite0 import EfficientNetLite0
from zoo.models.efficientnet_lite.efficientnet_lite_backbone import preprocess_input

__all__ = ["EfficientNetLite0", "preprocess_input"]
