"""The zoo's model families: `build_model(name, spec, config, adapt_data)` and the registry.

Importing this package also imports `zoo.models.layers`, which registers the zoo's custom Keras
layers so `keras.saving.load_model` can read the `.keras` files the trainer writes (this is why
importing it imports Keras).
"""

import zoo.models.layers  # noqa: F401 - registers the custom layers for deserialisation
from zoo.models.config import ModelConfig
from zoo.models.registry import MODELS, ModelEntry, build_model, get_model_entry, model_names

__all__ = ["MODELS", "ModelConfig", "ModelEntry", "build_model", "get_model_entry", "model_names"]
