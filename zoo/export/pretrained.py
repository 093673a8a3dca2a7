"""`zoo export MODEL --weights imagenet`: a published ImageNet classifier as a versioned SavedModel,
with no training in between.

The export is an ordinary zoo export (zoo/export/saved_model.py) of the classifier
zoo.models.imagenet_classifier builds: its preprocessing in the graph, `pixels` and
`image_bytes` signatures (serving_default takes encoded images unless asked otherwise, as TF
Serving's ResNet example does), `classify` with the ImageNet class names, assets/labels.txt, and
a model card that says where the weights come from and under which licence.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import zoo
from zoo.export.saved_model import export_saved_model
from zoo.models.imagenet_classifier import build_imagenet_classifier, imagenet_backbone, imagenet_spec, weights_card
from zoo.spec import IMAGE_BYTES

# Warmup only needs the shapes and the decoder to run, not a meaningful picture: one mid-grey image.
_WARMUP_GREY = 128.0


def export_imagenet_classifier(model_name: str, export_base: str | os.PathLike, *,
                               export_name: str | None = None, image_size: int | None = None,
                               input_form: str = IMAGE_BYTES) -> Path:
    """Build `model_name`'s ImageNet classifier and export it to EXPORT_BASE/NAME/<next version>/.

    Returns the version directory. Raises what build_imagenet_classifier raises (unknown model,
    weights unavailable, an image size Keras refuses), each a one-line ZooError.
    """
    _, backbone = imagenet_backbone(model_name)
    model = build_imagenet_classifier(model_name, image_size)
    size = model.input_shape[1]
    spec = imagenet_spec(size)
    card = {
        "model": model_name,
        "family": "transfer",
        "description": f"{model_name}'s ImageNet classifier as published, not trained by tfzoo",
        "dataset": spec.name,
        "weights": weights_card(model_name, size),
        "parameters": int(model.count_params()),
        "preprocessing": f"inside the model: {backbone.preprocessing}.preprocess_input on RGB values "
                         "0..255; send raw pixels or image files (see input)",
        "tfzoo_version": zoo.__version__,
    }
    warmup = np.full((1, *spec.input_shape), _WARMUP_GREY, np.float32)
    return export_saved_model(model, spec, export_base, export_name or model_name, model_card=card,
                              warmup_examples=warmup, input_form=input_form)
