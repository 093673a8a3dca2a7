"""`ModelConfig`, the base of every model family's config dataclass, and the `check_*` helpers
their `__post_init__` validate with.

Apart from the registry (zoo/models/registry.py) because the families build on this module and
the registry builds on the families: with both in one file, the registry could only import the
families lazily, hiding a cycle from the import checks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from zoo.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Base of the families' config dataclasses: validation on construction and a dict round trip.

    Subclasses are frozen dataclasses whose `__post_init__` calls the `check_*` helpers below, so
    a config that exists is a valid one, however it was made. Tuples become lists in
    `get_config()` (YAML/JSON friendly) and come back as tuples, so
    `Cls.from_config(cfg.get_config()) == cfg`.
    """

    def get_config(self) -> dict[str, Any]:
        return {
            field.name: list(value) if isinstance(value, tuple) else value
            for field in dataclasses.fields(self)
            for value in [getattr(self, field.name)]
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "ModelConfig":
        cls.refuse_unknown_keys(config, owner=cls.__name__)
        return cls(**config)

    @classmethod
    def refuse_unknown_keys(cls, config: Mapping[str, Any], owner: str) -> None:
        unknown = sorted(set(config) - set(cls.keys()))
        if unknown:
            raise ConfigError(
                f"Unknown config key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                f"for {owner}. Valid keys: {', '.join(cls.keys())}"
            )

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    def _set(self, key: str, value: Any) -> None:
        """Stores a normalised value on this frozen instance (only from `__post_init__`)."""
        object.__setattr__(self, key, value)


def received(key: str, value: Any) -> str:
    """The end of every config error: `Received: key=value`, as Keras words it."""
    return f"Received: {key}={value!r}"


def check_choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}. {received(key, value)}")
    return value


def check_choices(key: str, value: Any, choices: tuple[str, ...]) -> tuple[str, ...]:
    """Distinct items of `choices`, possibly none (a list from YAML/JSON is accepted)."""
    items = tuple(value) if isinstance(value, (list, tuple)) else None
    if items is None or any(item not in choices for item in items) or len(set(items)) != len(items):
        raise ConfigError(
            f"{key} must be a list of distinct items from {', '.join(choices)}. {received(key, value)}"
        )
    return items


def check_bool(key: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{key} must be true or false. {received(key, value)}")
    return bool(value)


def check_positive_int(key: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{key} must be a positive integer. {received(key, value)}")
    return int(value)


def check_positive_ints(key: str, value: Any) -> tuple[int, ...]:
    """A non-empty sequence of positive integers (a list from YAML/JSON is accepted)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"{key} must be a non-empty list of positive integers. {received(key, value)}")
    for item in value:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)) or item < 1:
            raise ConfigError(f"{key} must be a non-empty list of positive integers. {received(key, value)}")
    return tuple(int(item) for item in value)


def check_float(key: str, value: Any, low: float, high: float, high_inclusive: bool = False) -> float:
    """A number in [low, high) (or [low, high]). Numeric strings are accepted because PyYAML
    reads `1e-4` (no dot) as a string."""
    number = _as_float(value)
    in_range = number is not None and low <= number and (number <= high if high_inclusive else number < high)
    if not in_range:
        bracket = "]" if high_inclusive else ")"
        raise ConfigError(f"{key} must be a number in [{low:g}, {high:g}{bracket}. {received(key, value)}")
    return number


def _as_float(value: Any) -> float | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
