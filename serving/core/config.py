"""What the manager serves: one ModelConfig per model (name, base path, version policy, labels).

This is the model list in the manager's own terms. The formats users write it in (TF Serving's
ModelServerConfig text file, --model_name/--model_base_path, HandleReloadConfigRequest) are read
and checked by serving.apis.tfs.model_config, which names the file, line and field of a mistake;
the checks here only guard the manager's invariants.
"""

from __future__ import annotations

import dataclasses
import os
import types
from typing import Mapping, Sequence

from serving.core.version_policy import VersionPolicy


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """One served model: its versions are the integer directories under `base_path`, of which
    `policy` selects the ones to serve; `labels` name versions ("stable" -> 3)."""

    name: str
    base_path: str
    policy: VersionPolicy = VersionPolicy()
    labels: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty. Received: name=''")
        if not self.base_path:
            raise ValueError(f"base_path must not be empty (model {self.name!r}). "
                             "Received: base_path=''")
        object.__setattr__(self, "base_path", os.path.abspath(self.base_path))
        object.__setattr__(self, "labels", types.MappingProxyType(dict(self.labels)))


def check_model_configs(models: Sequence[ModelConfig]) -> tuple[ModelConfig, ...]:
    """The models as a tuple, once no two share a name.

    Raises:
        ValueError: a model name appears twice.
    """
    seen: set[str] = set()
    for model in models:
        if not isinstance(model, ModelConfig):
            raise TypeError(f"models must be ModelConfigs. Received: {type(model).__name__}")
        if model.name in seen:
            raise ValueError(f"model names must be unique. Received: {model.name!r} twice")
        seen.add(model.name)
    return tuple(models)
