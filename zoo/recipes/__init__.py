"""The zoo's recipes: tuned settings for one model on one dataset, one YAML file each.

A recipe file holds nothing but `TrainConfig` (or `FinetuneConfig`) fields, so it runs as it is:

    zoo train --config zoo/recipes/cnn_fashion_mnist.yaml
    zoo train --recipe cnn_fashion_mnist --epochs 2       # by name; flags still override it

Which command runs a recipe follows from its keys: a file that sets a field `TrainConfig` does not
have (head_epochs, weights, ...) can only be a `zoo finetune` recipe; every other one is a
`zoo train` recipe. Importing this package is cheap: YAML is read when a recipe is asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoo.errors import ConfigError, UnknownNameError

RECIPE_DIR = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One packaged recipe: its name (the file's stem), its file and the settings in it."""

    name: str
    path: Path
    settings: Mapping[str, Any]

    @property
    def model(self) -> str:
        return self.settings["model"]

    @property
    def dataset(self) -> str:
        return self.settings["dataset"]

    @property
    def command(self) -> str:
        """`finetune` when the file sets any field that only FinetuneConfig has, else `train`."""
        from zoo.train.config import field_names

        return "finetune" if set(self.settings) - set(field_names()) else "train"

    @property
    def command_line(self) -> str:
        """The one command that reproduces this recipe."""
        return f"zoo {self.command} --recipe {self.name}"

    @property
    def config_class(self) -> type:
        if self.command == "finetune":
            from zoo.train.finetune import FinetuneConfig

            return FinetuneConfig
        from zoo.train.config import TrainConfig

        return TrainConfig

    def make_config(self, **overrides: Any):
        """The run's config: the recipe's settings, then `overrides` (None means not given).

        `model_config` and `dataset_options` overrides are merged into the recipe's own, key by
        key, the way `--set` and `--dataset-option` are on the command line.
        """
        from zoo.train.config import make_config, read_config_file

        values = read_config_file(self.path, self.config_class)
        for merged in ("model_config", "dataset_options"):
            if overrides.get(merged) is not None:
                overrides[merged] = {**values.get(merged, {}), **overrides[merged]}
        return make_config(values, overrides, self.config_class)


def recipe_names() -> list[str]:
    """The packaged recipes' names, sorted."""
    return sorted(path.stem for path in RECIPE_DIR.glob("*.yaml"))


def get_recipe(name: str) -> Recipe:
    """The packaged recipe `name`; an unknown name raises UnknownNameError listing the valid ones."""
    if not isinstance(name, str) or name not in recipe_names():
        raise UnknownNameError(f"unknown recipe {name!r}; valid recipes: {', '.join(recipe_names())}")
    path = RECIPE_DIR / f"{name}.yaml"
    settings = _read_settings(path)
    for required in ("model", "dataset"):
        if not settings.get(required):
            raise ConfigError(f"recipe {name} ({path}) sets no {required}")
    return Recipe(name=name, path=path, settings=settings)


def all_recipes() -> list[Recipe]:
    return [get_recipe(name) for name in recipe_names()]


def _read_settings(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ConfigError(f"recipe file {path} must hold a mapping of settings, got {type(data).__name__}")
    return data


__all__ = ["RECIPE_DIR", "Recipe", "all_recipes", "get_recipe", "recipe_names"]
